import DroverCore
import Hummingbird

/// Resolves the caller of every request but the public ones (`GET /health`, `GET /api/v1/openapi.json`, `POST /api/v1/auth/token`)
/// into a `Principal` on the context, or answers 401.
///
/// Refused credentials count against the peer address's token bucket, so guessing is slowed
/// down to the rate limit like everything else (429 once it is spent).
struct AuthMiddleware: RouterMiddleware {
    typealias Context = ManagerRequestContext
    let authenticator: Authenticator
    let limiter: RateLimiter

    /// Calls anyone may make.
    static func isPublic(_ request: Request) -> Bool {
        let path = request.uri.path
        return (request.method == .get && (path == "/health" || path == "/api/v1/openapi.json"))
            || (request.method == .post && path == "/api/v1/auth/token")
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let addressKey = "addr:" + (context.remoteAddress?.ipAddress ?? "unknown")
        if Self.isPublic(request) {
            context.rateLimitKey = addressKey
            return try await next(request, context)
        }
        guard let token = Authenticator.bearerToken(request.headers[.authorization]),
              let principal = try await authenticator.principal(token: token)
        else {
            if let wait = limiter.check(addressKey) { throw RateLimitMiddleware.limited(wait: wait, limiter: limiter) }
            throw APIError.unauthorized
        }
        guard principal.role != .node else {
            throw APIError(.forbidden, code: "forbidden", "a node credential only opens the node gateway, not the API")
        }
        context.principal = principal
        context.rateLimitKey = "token:" + Secrets.sha256Hex(token)
        return try await next(request, context)
    }
}
