import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore

/// The one request context of the manager: routes and the WebSocket gateway share it.
public struct ManagerRequestContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<ManagerRequestContext>
    /// Bodies over this many bytes get 413.
    public var maxUploadSize: Int { Self.maxBodyBytes }

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.webSocket = .init()
    }

    /// The request body limit: 1 MiB.
    public static let maxBodyBytes = 1 << 20
}
