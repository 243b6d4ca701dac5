import DroverCore
import Foundation
import Hummingbird

/// Answers 429 with `Retry-After` once a credential (or, on public calls, a peer address)
/// spends its token bucket. Runs after `AuthMiddleware`, which picks the key.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = ManagerRequestContext
    let limiter: RateLimiter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let key = context.rateLimitKey, let wait = limiter.check(key) { throw Self.limited(wait: wait, limiter: limiter) }
        return try await next(request, context)
    }

    /// The 429 answer for a key that must wait `wait` seconds.
    static func limited(wait: TimeInterval, limiter: RateLimiter) -> APIError {
        let seconds = wait.isFinite ? max(1, Int(wait.rounded(.up))) : 60
        return APIError(
            .tooManyRequests, code: "rate_limited",
            "too many requests: the limit is \(format(limiter.rate)) per second (bursts of \(Int(limiter.burst))); retry in \(seconds) s",
            headers: [.retryAfter: "\(seconds)"]
        )
    }

    private static func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.2f", value)
    }
}
