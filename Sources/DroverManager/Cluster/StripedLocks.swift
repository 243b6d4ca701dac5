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
        var hasher = Hasher()
        hasher.combine(key)
        let index = Int(UInt(bitPattern: hasher.finalize()) % UInt(locks.count))
        return try await locks[index].withLock(body)
    }
}
