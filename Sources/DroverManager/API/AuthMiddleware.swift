import Hummingbird

/// Requires `Authorization: Bearer <admin token>` on everything except `/health`.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = ManagerRequestContext
    let authenticator: TokenAuthenticator

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path == "/health" { return try await next(request, context) }
        guard authenticator.authenticate(request.headers[.authorization]) else { throw APIError.unauthorized }
        return try await next(request, context)
    }
}

/// Checks bearer tokens in constant time.
public struct TokenAuthenticator: Sendable {
    let token: [UInt8]

    public init(token: String) {
        self.token = Array(token.utf8)
    }

    /// Whether an `Authorization` header value carries the token.
    public func authenticate(_ header: String?) -> Bool {
        guard let header else { return false }
        let prefix = "Bearer "
        guard header.count > prefix.count, header.lowercased().hasPrefix(prefix.lowercased()) else { return false }
        let presented = Array(header.dropFirst(prefix.count).utf8)
        guard presented.count == token.count else { return false }
        var difference: UInt8 = 0
        for (left, right) in zip(presented, token) { difference |= left ^ right }
        return difference == 0
    }
}
