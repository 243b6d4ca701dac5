import Foundation

/// Callers waiting for something that finishes once (a task, a workflow run), without polling
/// and without missing a finish that lands while they look.
///
/// A caller `arm`s a ticket *before* it reads the current state; a `finished` that arrives
/// between that read and `wait` is kept in the ticket, so `wait` returns it at once. A finish
/// always wakes every ticket of its key.
actor CompletionWaiters<Key: Hashable & Sendable, Value: Sendable> {
    private enum Slot {
        case armed
        case waiting(CheckedContinuation<Value?, Never>)
        case done(Value)
    }

    private var slots: [Key: [UUID: Slot]] = [:]

    /// Tickets armed or waiting now (for tests and metrics).
    var count: Int { slots.values.reduce(0) { $0 + $1.count } }

    /// Whether anyone has a ticket for `key` (so a costly value is built only when wanted).
    func isWaiting(_ key: Key) -> Bool { slots[key]?.isEmpty == false }

    /// Registers interest in `key`; call before reading the current state.
    func arm(_ key: Key) -> UUID {
        let ticket = UUID()
        slots[key, default: [:]][ticket] = .armed
        return ticket
    }

    /// Gives up a ticket without waiting (the state read was final already).
    func disarm(_ key: Key, ticket: UUID) {
        remove(key, ticket)
    }

    /// Waits until `key` finishes or `timeout` passes (then `nil`); returns at once when it
    /// finished since the ticket was armed. A cancelled caller gets `nil`.
    func wait(_ key: Key, ticket: UUID, timeout: Duration) async -> Value? {
        switch slots[key]?[ticket] {
        case .done(let value):
            remove(key, ticket)
            return value
        case nil:
            return nil
        case .armed, .waiting:
            break
        }
        let timer = Task {
            try? await Task.sleep(for: timeout)
            self.resolve(key, ticket, with: nil)
        }
        defer { timer.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if Task.isCancelled || slots[key]?[ticket] == nil {
                    remove(key, ticket)
                    continuation.resume(returning: nil)
                } else {
                    slots[key]![ticket] = .waiting(continuation)
                }
            }
        } onCancel: {
            Task { await self.resolve(key, ticket, with: nil) }
        }
    }

    /// `key` finished with `value`: wakes its waiters and completes its armed tickets.
    func finished(_ key: Key, _ value: Value) {
        guard let tickets = slots[key] else { return }
        for (ticket, slot) in tickets {
            switch slot {
            case .waiting(let continuation):
                slots[key]![ticket] = nil
                continuation.resume(returning: value)
            case .armed:
                slots[key]![ticket] = .done(value)
            case .done:
                break
            }
        }
        if slots[key]?.isEmpty == true { slots[key] = nil }
    }

    private func resolve(_ key: Key, _ ticket: UUID, with value: Value?) {
        guard case .waiting(let continuation) = slots[key]?[ticket] else { return }
        remove(key, ticket)
        continuation.resume(returning: value)
    }

    private func remove(_ key: Key, _ ticket: UUID) {
        slots[key]?[ticket] = nil
        if slots[key]?.isEmpty == true { slots[key] = nil }
    }
}
