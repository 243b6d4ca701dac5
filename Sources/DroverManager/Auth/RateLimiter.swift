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
    private let buckets = Mutex<[String: TokenBucket]>([:])
    private static let sweepThreshold = 10_000

    init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = max(1, burst)
    }

    var isEnabled: Bool { rate > 0 }

    /// `nil` when a request under `key` may go ahead at `now`, else the seconds to wait.
    func check(_ key: String, now: TimeInterval = Date().timeIntervalSinceReferenceDate) -> TimeInterval? {
        guard isEnabled else { return nil }
        return buckets.withLock { buckets in
            if buckets.count > Self.sweepThreshold { buckets = buckets.filter { !$0.value.isFull(now: now) } }
            var bucket = buckets[key] ?? TokenBucket(rate: rate, burst: burst, now: now)
            let wait = bucket.take(now: now)
            buckets[key] = bucket
            return wait
        }
    }
}
