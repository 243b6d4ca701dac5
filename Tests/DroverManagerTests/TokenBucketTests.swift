import Testing
@testable import DroverManager

@Suite("Token bucket")
struct TokenBucketTests {
    @Test("a full bucket lets a burst through, then refuses with the wait until the next token")
    func burstThenWait() {
        var bucket = TokenBucket(rate: 2, burst: 3, now: 0)
        #expect(bucket.take(now: 0) == nil)
        #expect(bucket.take(now: 0) == nil)
        #expect(bucket.take(now: 0) == nil)
        let wait = bucket.take(now: 0)
        #expect(wait.map { abs($0 - 0.5) < 1e-9 } == true)
        #expect(bucket.take(now: 0.5) == nil)
        #expect(bucket.take(now: 0.5) != nil)
    }

    @Test("refill stops at the burst size and time going backwards changes nothing")
    func refillCaps() {
        var bucket = TokenBucket(rate: 10, burst: 2, now: 100)
        #expect(bucket.take(now: 100) == nil)
        #expect(bucket.take(now: 100) == nil)
        #expect(bucket.take(now: 50) != nil)
        #expect(bucket.isFull(now: 1_000))
        #expect(bucket.take(now: 1_000) == nil)
        #expect(bucket.take(now: 1_000) == nil)
        #expect(bucket.take(now: 1_000) != nil)
    }

    @Test("the limiter keeps one bucket per key, and rate 0 turns it off")
    func limiterPerKey() {
        let limiter = RateLimiter(rate: 1, burst: 1)
        #expect(limiter.check("a", now: 0) == nil)
        #expect(limiter.check("a", now: 0) != nil)
        #expect(limiter.check("b", now: 0) == nil)
        let off = RateLimiter(rate: 0, burst: 1)
        for _ in 0..<1_000 { #expect(off.check("a", now: 0) == nil) }
    }

    @Test("isSpent looks without taking: spent after the burst, not before, and again once a token is back")
    func spent() {
        let limiter = RateLimiter(rate: 1, burst: 2)
        #expect(!limiter.isSpent("a", now: 0))
        #expect(limiter.check("a", now: 0) == nil)
        #expect(!limiter.isSpent("a", now: 0))
        #expect(!limiter.isSpent("a", now: 0), "looking took nothing")
        #expect(limiter.check("a", now: 0) == nil)
        #expect(limiter.isSpent("a", now: 0))
        #expect(!limiter.isSpent("a", now: 1.01))
    }
}
