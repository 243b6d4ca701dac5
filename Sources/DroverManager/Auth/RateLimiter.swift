import Foundation
import Synchronization

/// One token bucket per key (a credential's hash, or a peer address for public calls).
///
/// Full buckets are dropped now and then, so the table stays as small as the set of keys
/// that were busy recently.
final class RateLimiter: Sendable {
    /// Requests per second a key may sustain; 0 turns limiting off.
    let rate: Double
    /// Requests a key may make at once after being idle.
    let burst: Double
    private struct State {
        var buckets: [String: TokenBucket] = [:]
        var lastSweep: TimeInterval = 0
    }

    private let state = Mutex(State())
    private static let sweepThreshold = 10_000

    init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = max(1, burst)
    }

    var isEnabled: Bool { rate > 0 }

    /// `nil` when a request under `key` may go ahead at `now`, else the seconds to wait.
    func check(_ key: String, now: TimeInterval = Date().timeIntervalSinceReferenceDate) -> TimeInterval? {
        guard isEnabled else { return nil }
        return state.withLock { state in
            // At most once a second: with many busy keys a sweep on every call would cost O(keys) each.
            if state.buckets.count > Self.sweepThreshold, now - state.lastSweep >= 1 {
                state.lastSweep = now
                state.buckets = state.buckets.filter { !$0.value.isFull(now: now) }
            }
            var bucket = state.buckets[key] ?? TokenBucket(rate: rate, burst: burst, now: now)
            let wait = bucket.take(now: now)
            state.buckets[key] = bucket
            return wait
        }
    }

    /// Whether a request under `key` would be refused at `now` (nothing is taken).
    func isSpent(_ key: String, now: TimeInterval = Date().timeIntervalSinceReferenceDate) -> Bool {
        guard isEnabled else { return false }
        return state.withLock { state in
            guard var bucket = state.buckets[key] else { return false }
            return bucket.take(now: now) != nil
        }
    }
}
