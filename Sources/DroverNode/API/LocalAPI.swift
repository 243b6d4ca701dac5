import DroverCore
import Foundation
import Hummingbird
import Logging
import NIOCore
import Prometheus

/// The node's local HTTP API (no auth; binds 127.0.0.1 by default):
/// `GET /health`, `GET /agents`, `GET /metrics`.
enum LocalAPI {
    /// The router, on its own so tests can drive it without a socket.
    static func router(nodeID: String, supervisor: AgentSupervisor, metrics: PrometheusCollectorRegistry) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("health") { _, _ in
            try json(HealthResponse(role: "node"))
        }
        router.get("agents") { _, _ in
            try json(NodeAgentsResponse(nodeID: nodeID, items: await supervisor.summaries()))
        }
        router.get("metrics") { _, _ in
            var buffer: [UInt8] = []
            metrics.emit(into: &buffer)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer))
            )
        }
        return router
    }

    /// The application (a `Service`). Prints `drover node NODEID local API on http://HOST:PORT`
    /// to stdout once it serves (with the real port when the configured one is 0).
    static func application(
        configuration: NodeConfiguration, supervisor: AgentSupervisor, metrics: PrometheusCollectorRegistry, boundPort: BoundPort,
        logger: Logger
    ) -> some ApplicationProtocol {
        let nodeID = configuration.nodeID
        let host = configuration.apiHost
        let port = configuration.apiPort
        return Application(
            router: router(nodeID: nodeID, supervisor: supervisor, metrics: metrics),
            configuration: .init(address: .hostname(host, port: port), serverName: "drover-node"),
            onServerRunning: { channel in
                let actual = channel.localAddress?.port ?? port
                boundPort.set(actual)
                let line = "drover node \(nodeID) local API on http://\(host):\(actual)\n"
                FileHandle.standardOutput.write(Data(line.utf8))
            },
            logger: logger
        )
    }

    private static func json(_ value: some Encodable) throws -> Response {
        let data = try JSONCoding.encoder().encode(value)
        return Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data))
        )
    }
}

/// The port the local API really listens on (known once it serves; the configured one may be 0).
final class BoundPort: @unchecked Sendable {
    private let lock = NSLock()
    private var port: Int?

    func set(_ value: Int) { lock.withLock { port = value } }

    var value: Int? { lock.withLock { port } }

    /// The bound port, waiting up to `timeout` for the server to start.
    func wait(timeout: Duration) async -> Int? {
        let deadline = ContinuousClock.now + timeout
        while value == nil, ContinuousClock.now < deadline, !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(10))
        }
        return value
    }
}
