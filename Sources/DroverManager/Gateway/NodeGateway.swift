import DroverCore
import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import Synchronization

/// The node gateway: the WebSocket at `/api/v1/cluster/connect` that nodes dial out to.
///
/// The first frame must be `hello`; the manager answers `welcome`, and from then on frames
/// flow both ways. Bad frames are answered with `error` and skipped; the session goes on.
struct NodeGateway: Sendable {
    static let path: RouterPath = "/api/v1/cluster/connect"
    /// How long an upgraded socket may stay without a `hello` before it is closed.
    static let helloTimeout: Duration = .seconds(10)

    let controller: ClusterController
    let codec: NodeMessageCodec
    let authenticator: Authenticator
    /// Refused upgrades count against the peer address's bucket, as refused API calls do; an
    /// address whose bucket is spent is refused without a look at its credential.
    let limiter: RateLimiter

    func addRoutes(to router: Router<ManagerRequestContext>) {
        router.ws(Self.path) { request, context in
            let addressKey = "addr:" + (context.remoteAddress?.ipAddress ?? "unknown")
            if limiter.isSpent(addressKey) { return .dontUpgrade }
            // Refused before the upgrade: HummingbirdWebSocket answers a refused upgrade with
            // `400` and no body (it has no way to send 401), and no session is made.
            guard try await authenticator.gatewayCredential(authorization: request.headers[.authorization]) != nil else {
                _ = limiter.check(addressKey)
                return .dontUpgrade
            }
            return .upgrade([:])
        } onUpgrade: { inbound, outbound, context in
            try await serve(inbound: inbound, outbound: outbound, authorization: context.request.headers[.authorization], logger: context.logger)
        }
    }

    private func serve(
        inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, authorization: String?, logger: Logger
    ) async throws {
        let sessionID = UUID()
        let (messages, continuation) = AsyncStream.makeStream(of: NodeMessage.self)
        // A socket that never says hello does not hold a connection open for ever.
        let greeted = Mutex(false)
        let helloTimer = Task {
            try await Task.sleep(for: Self.helloTimeout)
            guard !greeted.withLock({ $0 }) else { return }
            logger.info("node connection closed: no hello in time")
            continuation.yield(.error(.init(code: "hello_timeout", message: "no 'hello' within \(Self.helloTimeout); closing")))
            continuation.finish()
        }
        defer { helloTimer.cancel() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await message in messages {
                    try await outbound.write(.text(codec.encode(message)))
                }
                try? await outbound.close(.normalClosure, reason: "session ended")
            }
            var nodeID: String?
            // Lists a node sends in parts (a hello or heartbeat with agents_more) reach the controller whole.
            var assembler = NodeFrameAssembler()
            do {
                for try await frame in inbound.messages(maxSize: codec.maxFrameBytes) {
                    guard case .text(let text) = frame else {
                        continuation.yield(.error(.init(code: "bad_frame", message: "binary frames are not supported; send JSON text")))
                        continue
                    }
                    let message: NodeMessage
                    do {
                        message = try codec.decode(text)
                    } catch {
                        logger.warning("bad frame from node", metadata: ["node": "\(nodeID ?? "-")", "error": "\(error)"])
                        continuation.yield(.error(.init(code: "bad_frame", message: "\(error)")))
                        continue
                    }
                    if let nodeID {
                        let whole: NodeMessage
                        do throws(NodeProtocol.ProtocolError) {
                            guard let assembled = try assembler.frame(from: message) else { continue }
                            whole = assembled
                        } catch {
                            continuation.yield(.error(error))
                            continue
                        }
                        do {
                            try await controller.handle(whole, from: nodeID, sessionID: sessionID)
                        } catch {
                            logger.error("handling a node frame failed", metadata: ["node": "\(nodeID)", "type": "\(whole.type)", "error": "\(error)"])
                        }
                        continue
                    }
                    let hello: NodeProtocol.Hello
                    do throws(NodeProtocol.ProtocolError) {
                        guard let assembled = try assembler.hello(from: message) else { continue }
                        hello = assembled
                    } catch {
                        continuation.yield(.error(error))
                        break
                    }
                    do {
                        // Who is calling is read now, not at the upgrade: a credential revoked (or
                        // a join token used, or expired) since then must not get a node in.
                        guard let credential = try await authenticator.gatewayCredential(authorization: authorization) else {
                            throw HelloRefusal("the credential is no longer valid (revoked, expired or already used)")
                        }
                        var principal: Principal
                        var issued: String?
                        switch credential {
                        case .principal(let presented):
                            principal = presented
                        case .join(let token):
                            (principal, issued) = try await controller.join(hello, token: token)
                        }
                        try await controller.hello(hello, principal: principal, issuedCredential: issued, sessionID: sessionID, outbound: continuation)
                        nodeID = hello.nodeID
                        greeted.withLock { $0 = true }
                    } catch {
                        logger.warning("node refused", metadata: ["node": "\(hello.nodeID.prefix(64))", "error": "\(error)"])
                        continuation.yield(.error(.init(code: "hello_refused", message: "\(error)")))
                        break
                    }
                }
            } catch {
                logger.info("node connection ended", metadata: ["node": "\(nodeID ?? "-")", "error": "\(error)"])
            }
            continuation.finish()
            if let nodeID { await controller.sessionClosed(nodeID: nodeID, sessionID: sessionID) }
            try await group.waitForAll()
        }
    }
}
