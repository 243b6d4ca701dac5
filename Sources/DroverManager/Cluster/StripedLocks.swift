/// Serialises the writes of one key (an agent id) without serialising different keys: the key
/// picks one of a fixed set of `AsyncSerialLock`s.
///
/// Agent records are changed by read-modify-write from several places (placement under the
/// plan lock, status and checkpoint frames from nodes); taking the agent's stripe around the
/// read, the store write and the model update keeps any of them from writing back a stale copy.
final class StripedLocks: Sendable {
    private let locks: [AsyncSerialLock]

    init(count: Int = 64) {
        locks = (0..<max(count, 1)).map { _ in AsyncSerialLock() }
    }

    func withLock<T: Sendable>(_ key: String, _ body: @Sendable () async throws -> T) async rethrows -> T {
        try await locks[stripe(of: key)].withLock(body)
    }

    /// Runs `body` holding the stripes of every key (a batch of agents written together). The
    /// stripes are taken in ascending order, so two batches cannot wait for each other.
    func withLocks<T: Sendable>(_ keys: some Sequence<String>, _ body: @Sendable () async throws -> T) async throws -> T {
        let stripes = Set(keys.map(stripe(of:))).sorted()
        for stripe in stripes { await locks[stripe].acquire() }
        do {
            let result = try await body()
            for stripe in stripes { await locks[stripe].release() }
            return result
        } catch {
            for stripe in stripes { await locks[stripe].release() }
            throw error
        }
    }

    private func stripe(of key: String) -> Int {
        var hasher = Hasher()
        hasher.combine(key)
        return Int(UInt(bitPattern: hasher.finalize()) % UInt(locks.count))
    }
}
