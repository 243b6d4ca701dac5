import Foundation

/// A token bucket: holds up to `burst` tokens, refills at `rate` per second, and each request takes one.
///
/// A value type with no clock of its own; the caller passes the time, so tests need no sleeping.
struct TokenBucket: Sendable, Equatable {
    let rate: Double
    let burst: Double
    private(set) var tokens: Double
    private(set) var updatedAt: TimeInterval

    init(rate: Double, burst: Double, now: TimeInterval) {
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.updatedAt = now
    }

    /// Takes one token at `now`. Returns `nil` when the request may go ahead, else the seconds
    /// until a token will be there (what `Retry-After` says).
    mutating func take(now: TimeInterval) -> TimeInterval? {
        refill(now: now)
        if tokens >= 1 {
            tokens -= 1
            return nil
        }
        return rate > 0 ? (1 - tokens) / rate : .infinity
    }

    /// Whether the bucket is full at `now` (it can then be forgotten without changing anything).
    func isFull(now: TimeInterval) -> Bool {
        tokens + max(0, now - updatedAt) * rate >= burst
    }

    private mutating func refill(now: TimeInterval) {
        let elapsed = max(0, now - updatedAt)
        tokens = min(burst, tokens + elapsed * rate)
        updatedAt = max(updatedAt, now)
    }
}
