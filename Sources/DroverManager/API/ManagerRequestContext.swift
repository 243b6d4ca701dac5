import DroverCore
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore

/// The one request context of the manager: routes and the WebSocket gateway share it.
public struct ManagerRequestContext: RequestContext, WebSocketRequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<ManagerRequestContext>
    /// The peer's address (the rate-limit key of calls that carry no credential).
    public let remoteAddress: SocketAddress?
    /// Who is calling; set by `AuthMiddleware` on every route but the public ones.
    public var principal: Principal?
    /// The bucket this request's rate limit counts against (set by `AuthMiddleware`).
    public var rateLimitKey: String?
    /// Bodies over this many bytes get 413.
    public var maxUploadSize: Int { Self.maxBodyBytes }

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.webSocket = .init()
        self.remoteAddress = source.channel.remoteAddress
    }

    /// The request body limit: 1 MiB.
    public static let maxBodyBytes = 1 << 20

    /// The authenticated caller; a route reached without one answers 401 (never runs as anyone).
    var caller: Principal {
        get throws {
            guard let principal else { throw APIError.unauthorized }
            return principal
        }
    }

    /// The caller, who must be an admin; anyone else gets 403.
    func requireAdmin() throws -> Principal {
        let principal = try caller
        guard principal.isAdmin else { throw APIError.forbidden }
        return principal
    }
}
