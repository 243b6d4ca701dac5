import Synchronization

/// Decoded records kept in memory beside the database that holds them, so hot reads skip the
/// query and the JSON decoding (agent records are read for every task).
///
/// Correct only while one process writes the database, which holds for the embedded SQLite
/// store. Reads and writes may run concurrently: a read fills the cache only if no write of
/// that id began since it started, and a write fills it only if no other write of that id
/// overlapped it; otherwise the entry stays empty and the next read goes to the database.
final class RecordCache<Record: Sendable>: Sendable {
    private struct State {
        var entries: [String: Record] = [:]
        /// Writes begun per id (grows only).
        var writes: [String: Int] = [:]
        /// Writes under way per id.
        var inFlight: [String: Int] = [:]
    }

    private let state = Mutex(State())
    private let capacity: Int

    init(capacity: Int = 100_000) {
        self.capacity = capacity
    }

    /// The cached record, or what `load` reads (cached when no write raced it).
    func read(_ id: String, load: () async throws -> Record?) async rethrows -> Record? {
        let (hit, writesBefore) = state.withLock { ($0.entries[id], $0.writes[id, default: 0]) }
        if let hit { return hit }
        let loaded = try await load()
        if let loaded {
            state.withLock { state in
                guard state.writes[id, default: 0] == writesBefore, state.inFlight[id, default: 0] == 0 else { return }
                insert(loaded, for: id, into: &state)
            }
        }
        return loaded
    }

    /// Runs `write`, then caches `record` as the value of `id` (or forgets it, for a delete).
    func write<T>(_ id: String, record: Record?, _ write: () async throws -> T) async rethrows -> T {
        let ticket = state.withLock { state -> Int in
            state.writes[id, default: 0] += 1
            state.inFlight[id, default: 0] += 1
            state.entries[id] = nil
            return state.writes[id, default: 0]
        }
        do {
            let result = try await write()
            finish(id, ticket: ticket, record: record)
            return result
        } catch {
            finish(id, ticket: ticket, record: nil)
            throw error
        }
    }

    /// Forgets every cached record (after the database was changed around the cache).
    func removeAll() {
        state.withLock { $0.entries.removeAll() }
    }

    private func finish(_ id: String, ticket: Int, record: Record?) {
        state.withLock { state in
            state.inFlight[id, default: 1] -= 1
            let alone = state.writes[id, default: 0] == ticket && state.inFlight[id, default: 0] == 0
            if state.inFlight[id] == 0 { state.inFlight[id] = nil }
            if alone, let record { insert(record, for: id, into: &state) } else { state.entries[id] = nil }
        }
    }

    private func insert(_ record: Record, for id: String, into state: inout State) {
        if state.entries.count >= capacity, state.entries[id] == nil, let evicted = state.entries.keys.first {
            state.entries[evicted] = nil
        }
        state.entries[id] = record
    }
}
