/// Runs async critical sections one at a time, in arrival order.
///
/// Actor methods interleave at every `await`; the scheduler's "plan, then commit" must not,
/// or two placements made at once could both fill the same room (Nomad's single plan applier).
/// Hand-written: none of the project's dependencies offers an async mutex.
actor AsyncSerialLock {
    private var locked = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func withLock<T: Sendable>(_ body: @Sendable () async throws -> T) async rethrows -> T {
        await acquire()
        defer { release() }
        return try await body()
    }

    /// Waits for the lock; every `acquire` is paired with one `release`.
    func acquire() async {
        if !locked {
            locked = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty {
            locked = false
        } else {
            waiters.removeFirst().resume()
        }
    }
}
