import Foundation
import Synchronization

/// Wakes the cluster loop before its interval ends when something happened that the next pass
/// should handle soon (a node said hello and may be owed agents and tasks). Requests made while
/// a pass runs are coalesced: a thousand nodes reconnecting at once cost a few passes, not a
/// thousand, and none of them waits for the others' passes to run its own.
///
/// One loop waits at a time.
final class PassTrigger: Sendable {
    private struct State {
        /// A pass was requested while nobody waited: the next wait returns at once.
        var pending = false
        /// The wait in progress, by its id.
        var waiter: (id: UUID, continuation: CheckedContinuation<Void, Never>)?
        /// A wait whose time ran out (or was cancelled) before it began waiting.
        var expired: UUID?
    }

    private let state = Mutex(State())

    /// Asks for a pass soon: at once if the loop is waiting, else right after the current pass.
    func request() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            return waiter.continuation
        }
        waiter?.resume()
    }

    /// Returns after `timeout`, when a pass is requested (at once if one was requested since the
    /// last wait), or when the waiting task is cancelled.
    func wait(upTo timeout: Duration) async {
        let id = UUID()
        let timer = Task {
            try? await Task.sleep(for: timeout)
            self.expire(id)
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state in
                    if state.pending || state.expired == id {
                        state.pending = false
                        return true
                    }
                    state.waiter = (id, continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            self.expire(id)
        }
        timer.cancel()
    }

    /// Ends wait `id`, now or, if it has not begun waiting yet, as soon as it does.
    private func expire(_ id: UUID) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter, waiter.id == id else {
                state.expired = id
                return nil
            }
            state.waiter = nil
            return waiter.continuation
        }
        waiter?.resume()
    }
}
