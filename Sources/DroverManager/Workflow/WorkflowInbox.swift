import DroverCore
import Foundation
import Synchronization

/// Something the workflow loop must handle. Calls that answer carry their reply.
enum WorkflowInput: Sendable {
    /// A new run (a sub-workflow's has no one waiting for the answer).
    case start(WorkflowRunRecord, WorkflowDefinition, reply: Reply<WorkflowRunRecord>?)
    case taskFinished(TaskRecord)
    /// A sub-workflow run ended; its parent's step takes the outcome.
    case childFinished(parentRunID: RunKey, childRunID: String, ok: Bool, output: JSONValue?, error: String?)
    case signal(runID: RunKey, name: String, payload: JSONValue, reply: Reply<WorkflowRunView>)
    /// A cancel asked for over the API, or (without a reply) by a parent run that ended.
    case cancel(runID: RunKey, reply: Reply<WorkflowRunView>?)
    case view(runID: RunKey, reply: Reply<WorkflowRunView?>)
    case warmPools(WorkflowRecord)

    /// Where an answer goes: once, to whoever waits for it.
    struct Reply<Value: Sendable>: Sendable {
        let continuation: CheckedContinuation<Value, any Error>

        func succeed(_ value: Value) { continuation.resume(returning: value) }
        func fail(_ error: any Error) { continuation.resume(throwing: error) }
    }
}

/// A run as the manager addresses it: run ids are per tenant, so two tenants may each have a run `r1`.
struct RunKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    var tenant: String
    var id: String

    init(tenant: String, id: String) {
        self.tenant = tenant
        self.id = id
    }

    init(_ run: WorkflowRunRecord) {
        self.init(tenant: run.tenant, id: run.id)
    }

    static func < (lhs: RunKey, rhs: RunKey) -> Bool { (lhs.tenant, lhs.id) < (rhs.tenant, rhs.id) }

    var description: String { "\(tenant)/\(id)" }
}

/// The workflow loop's mailbox: posts from any task, taken in batches by the one loop.
///
/// Taking everything queued at once is what batches history writes: all events made while
/// the loop was busy are appended in one statement per run.
final class WorkflowInbox: Sendable {
    private struct State {
        var items: [WorkflowInput] = []
        var waiter: CheckedContinuation<Void, Never>?
        var closed = false
    }

    private let state = Mutex(State())

    /// Queues an input and wakes the loop.
    func post(_ input: WorkflowInput) {
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
            state.items.append(input)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Wakes the loop for good; `next` then returns at once.
    func close() {
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
            state.closed = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    var isClosed: Bool { state.withLock { $0.closed } }

    /// Everything queued; when nothing is, waits for a post, `close`, or `timeout`.
    func next(timeout: Duration) async -> [WorkflowInput] {
        if let ready = takeAll() { return ready }
        let timer = Task {
            try? await Task.sleep(for: timeout)
            self.wake()
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state -> Bool in
                if !state.items.isEmpty || state.closed { return true }
                state.waiter = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
        timer.cancel()
        return takeAll() ?? []
    }

    private func wake() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    private func takeAll() -> [WorkflowInput]? {
        state.withLock { state in
            guard !state.items.isEmpty else { return nil }
            defer { state.items = [] }
            return state.items
        }
    }
}
