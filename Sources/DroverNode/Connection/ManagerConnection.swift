import AsyncHTTPClient
import DroverCore
import Foundation
import Hummingbird
import HummingbirdWSClient
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle

/// The node's link to the manager: dials the gateway WebSocket, says `hello`, waits for
/// `welcome`, heartbeats, hands the manager's orders to the supervisor and sends back
/// what the supervisor reports. When the link drops it dials again, with jittered
/// exponential backoff, for as long as the node runs.
struct ManagerConnection: Service {
    let configuration: NodeConfiguration
    let supervisor: AgentSupervisor
    let outbox: Outbox
    /// The local API's real port, advertised in `hello`.
    let boundPort: BoundPort
    /// Changes every time the node process starts.
    let incarnation: String
    let logger: Logger
    let codec: NodeMessageCodec
    let metrics = NodeMetrics()
    /// The bearer token: the join token, then the node credential the manager issues for it.
    let credential: NodeCredential

    init(
        configuration: NodeConfiguration, supervisor: AgentSupervisor, outbox: Outbox, boundPort: BoundPort = BoundPort(),
        incarnation: String, logger: Logger
    ) {
        self.configuration = configuration
        self.supervisor = supervisor
        self.outbox = outbox
        self.boundPort = boundPort
        self.incarnation = incarnation
        self.logger = logger
        self.codec = NodeMessageCodec(maxFrameBytes: configuration.maxFrameBytes)
        self.credential = NodeCredential(token: configuration.token, file: configuration.credentialFile)
    }

    func run() async throws {
        let url = try configuration.connectURL()
        // Detached: the session must not see the graceful-shutdown signal itself (the WebSocket
        // would close at once); it is closed below, once the supervisor's last reports are out.
        let loop = Task.detached { await self.connectLoop(url: url) }
        let eventsDelivered = Flag()
        await withTaskCancellationHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await event in supervisor.events { outbox.deliver(event) }
                    eventsDelivered.set()
                }
                group.addTask {
                    if (try? await gracefulShutdown()) != nil {
                        // The supervisor stops first and then ends its events; send what it said, then close.
                        await eventsDelivered.wait(timeout: .seconds(3))
                        await outbox.drain(timeout: .seconds(1))
                    }
                    loop.cancel()
                }
                await loop.value
                group.cancelAll()
            }
        } onCancel: {
            loop.cancel()
        }
        metrics.managerConnected.record(0)
    }

    // MARK: - Reconnecting

    private func connectLoop(url: String) async {
        var attempt = 0
        var lastProblem = ""
        while !Task.isCancelled {
            let session = SessionState()
            do {
                try await connect(url: url, session: session)
                if Task.isCancelled { break }
                logger.notice("the manager closed the connection; reconnecting", metadata: ["manager": "\(url)"])
            } catch {
                if Task.isCancelled { break }
                let problem = await describe(error, url: url)
                // Say it at warning level when it changes; repeats go to debug so a long outage does not flood the log.
                if problem != lastProblem || attempt % 20 == 0 {
                    logger.warning("\(problem); retrying", metadata: ["manager": "\(url)", "attempt": "\(attempt + 1)"])
                } else {
                    logger.debug("\(problem); retrying", metadata: ["manager": "\(url)", "attempt": "\(attempt + 1)"])
                }
                lastProblem = problem
            }
            outbox.detach()
            metrics.managerConnected.record(0)
            if session.isWelcomed {
                attempt = 0
                lastProblem = ""
            }
            let delay = configuration.reconnectBackoff.delay(attempt: attempt)
            attempt += 1
            do {
                try await Task.sleep(for: delay)
            } catch {
                break
            }
        }
    }

    /// One session, from dialling to the end of the connection.
    private func connect(url: String, session: SessionState) async throws {
        var headers = HTTPFields()
        headers[.authorization] = "Bearer \(credential.token)"
        var clientConfiguration = WebSocketClientConfiguration(
            maxFrameSize: configuration.maxFrameBytes, additionalHeaders: headers, closeTimeout: .seconds(2),
            autoPing: .enabled(timePeriod: .seconds(20))
        )
        let tls = try ManagerTLS(caFile: configuration.caFile, serverName: configuration.tlsServerName)
        // GET /health first: a full certificate check (IP addresses included), and a clear error when the manager
        // is not there or speaks TLS to a ws:// node (the WebSocket client would wait on such a connection forever).
        try await preflight(url: url, tls: tls)
        var tlsConfiguration: TLSConfiguration?
        if url.hasPrefix("wss://") {
            let plan = tls.webSocket(host: URLComponents(string: url)?.host ?? "")
            tlsConfiguration = plan.configuration
            clientConfiguration.sniHostname = plan.sniHostname
        }
        logger.debug("dialling the manager", metadata: ["manager": "\(url)"])
        let client = WebSocketClient(url: url, configuration: clientConfiguration, tlsConfiguration: tlsConfiguration, logger: logger) {
            inbound, outbound, _ in
            try await self.serve(inbound: inbound, outbound: outbound, session: session)
        }
        try await client.run()
    }

    /// `GET /health` of the manager, with the same trust roots as the WebSocket and a full
    /// certificate check; throws what went wrong.
    private func preflight(url: String, tls: ManagerTLS) async throws {
        var request = HTTPClientRequest(url: Self.httpURL(url).replacingOccurrences(of: "/api/v1/cluster/connect", with: "/health"))
        request.method = .GET
        do {
            let response = try await tls.httpClient().execute(request, timeout: .seconds(10))
            _ = try? await response.body.collect(upTo: 64 * 1024)
        } catch let error as HTTPClientError where url.hasPrefix("ws://") && error == .remoteConnectionClosed {
            throw SessionError.closedBeforeAnswer
        }
    }

    /// `ws(s)://` as `http(s)://`.
    private static func httpURL(_ url: String) -> String {
        if url.hasPrefix("wss://") { return "https://" + url.dropFirst(6) }
        if url.hasPrefix("ws://") { return "http://" + url.dropFirst(5) }
        return url
    }

    private func serve(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, session: SessionState) async throws {
        var apiPort = configuration.apiPort
        if apiPort == 0 { apiPort = await boundPort.wait(timeout: .seconds(2)) ?? 0 }
        // A long list of running agents goes in parts: the first in the hello, the rest in agent.list frames.
        let (agents, more, rest) = NodeProtocol.AgentList.split(await supervisor.runningAgents(), partSize: listPartSize)
        let hello = NodeProtocol.Hello(
            nodeID: configuration.nodeID, tenant: configuration.tenant, name: configuration.effectiveName,
            hostAddress: configuration.hostAddress, apiPort: apiPort, capabilities: configuration.capabilities,
            labels: configuration.labels, agentTypes: configuration.catalog.agentTypes,
            resources: SystemResources.current(capacity: configuration.capacity), maxAgents: configuration.maxAgents,
            incarnation: incarnation, agents: agents, agentsMore: more ? true : nil
        )
        try await outbound.write(.text(codec.encode(.hello(hello))))
        for part in rest {
            try await outbound.write(.text(codec.encode(.agentList(part))))
        }
        let (frames, continuation) = AsyncStream.makeStream(of: NodeMessage.self)
        defer { continuation.finish() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await message in frames {
                    if let text = try self.encodeWithinLimit(message) {
                        try await outbound.write(.text(text))
                    }
                    outbox.written(message)
                }
            }
            group.addTask {
                try await self.read(inbound, session: session, frames: continuation)
            }
            group.addTask {
                try await self.heartbeat(session: session)
            }
            try await group.next()
            group.cancelAll()
        }
    }

    /// Agents per part of a long list, so that every part fits this node's frame limit.
    private var listPartSize: Int { NodeProtocol.AgentList.partSize(forFrameBytes: configuration.maxFrameBytes) }

    // MARK: - Inbound

    private func read(_ inbound: WebSocketInboundStream, session: SessionState, frames: AsyncStream<NodeMessage>.Continuation) async throws {
        for try await frame in inbound.messages(maxSize: configuration.maxFrameBytes) {
            guard case .text(let text) = frame else {
                logger.warning("binary frame from the manager skipped")
                continue
            }
            let message: NodeMessage
            do {
                message = try codec.decode(text)
            } catch {
                logger.warning("bad frame from the manager skipped", metadata: ["error": "\(error)"])
                continue
            }
            switch message {
            case .welcome(let welcome):
                if let issued = welcome.nodeCredential, !issued.isEmpty { credential.replace(with: issued, logger: logger) }
                let firstWelcome = !session.isWelcomed
                let interval = heartbeatInterval(welcome)
                // A later welcome changes the pace (the manager stretches it as its fleet grows).
                let previous = session.interval
                session.welcomed(interval: interval)
                metrics.heartbeatInterval.record(interval.seconds)
                guard firstWelcome else {
                    if interval != previous {
                        logger.info("heartbeat interval changed by the manager", metadata: ["heartbeat_s": "\(String(format: "%.2f", interval.seconds))"])
                    }
                    continue
                }
                logger.info("registered with manager", metadata: [
                    "node": "\(configuration.nodeID)", "manager": "\(configuration.managerURL)",
                    "heartbeat_s": "\(String(format: "%.2f", interval.seconds))",
                ])
                metrics.managerConnected.record(1)
                outbox.attach(frames, running: await supervisor.runningAgents())
            case .error(let error):
                guard session.isWelcomed else { throw SessionError.refused(code: error.code, message: error.message) }
                logger.warning("the manager reported an error", metadata: ["code": "\(error.code)", "message": "\(error.message)"])
            case .agentStart(let start):
                await supervisor.start(start)
            case .agentStop(let stop):
                await supervisor.stop(stop)
            case .taskRun(let run):
                await supervisor.submit(run)
            case .agentListRequest(let request):
                logger.debug("the manager asks for the whole agent list", metadata: ["reason": "\(request.reason)"])
                session.requestList()
            case .drain(let drain):
                logger.notice("the manager is draining this node: it places no new agents here", metadata: ["reason": "\(drain.reason)"])
            case .hello, .heartbeat, .agentList, .agentStatus, .agentCheckpoint, .taskResult, .message:
                logger.debug("unexpected frame from the manager skipped", metadata: ["type": "\(message.type)"])
            }
        }
        throw SessionError.closed
    }

    private func heartbeatInterval(_ welcome: NodeProtocol.Welcome) -> Duration {
        var seconds = welcome.heartbeatIntervalSeconds.isFinite && welcome.heartbeatIntervalSeconds > 0 ? welcome.heartbeatIntervalSeconds : 5
        if let own = configuration.heartbeatInterval { seconds = min(seconds, own.seconds) }
        return .seconds(double: max(0.05, seconds))
    }

    // MARK: - Outbound

    /// Waits for `welcome` (up to the welcome timeout), then heartbeats until cancelled.
    private func heartbeat(session: SessionState) async throws {
        let deadline = ContinuousClock.now + configuration.welcomeTimeout
        while !session.isWelcomed {
            guard ContinuousClock.now < deadline else { throw SessionError.noWelcome(configuration.welcomeTimeout) }
            try await Task.sleep(for: .milliseconds(20))
        }
        // The list of running agents goes out when it changed, or when the manager asks for it
        // (the digest that every other beat carries instead did not match what it holds).
        var lastSent: Set<NodeProtocol.RunningAgent>?
        while true {
            try await Task.sleep(for: session.interval)
            let running = await supervisor.runningAgents()
            let current = Set(running)
            let changed = current != lastSent || session.takeListRequest()
            if changed { lastSent = current }
            let resources = SystemResources.current(capacity: configuration.capacity)
            guard changed else {
                let digest = NodeProtocol.RunningAgent.digest(running)
                outbox.sendIfConnected([.heartbeat(NodeProtocol.Heartbeat(resources: resources, agents: nil, agentsDigest: digest))])
                continue
            }
            // A long list goes in parts, one after the other with nothing between them.
            let (agents, more, rest) = NodeProtocol.AgentList.split(running, partSize: listPartSize)
            let beat = NodeProtocol.Heartbeat(resources: resources, agents: agents, agentsMore: more ? true : nil)
            outbox.sendIfConnected([.heartbeat(beat)] + rest.map(NodeMessage.agentList))
        }
    }

    /// The frame's text; a result, checkpoint or message over the frame limit is replaced by
    /// an error result or dropped, so one huge output cannot break the session.
    private func encodeWithinLimit(_ message: NodeMessage) throws -> String? {
        let text = try codec.encode(message)
        guard text.utf8.count > configuration.maxFrameBytes else { return text }
        switch message {
        case .taskResult(let result):
            logger.error("task result is over the frame limit; sending an error instead", metadata: ["task": "\(result.taskID)", "bytes": "\(text.utf8.count)"])
            let replacement = NodeProtocol.TaskResult(
                taskID: result.taskID, agentID: result.agentID, generation: result.generation, ok: false,
                error: "the task's output is \(text.utf8.count) bytes, over the \(configuration.maxFrameBytes)-byte frame limit"
            )
            return try codec.encode(.taskResult(replacement))
        default:
            logger.error("frame over the size limit dropped", metadata: ["type": "\(message.type)", "bytes": "\(text.utf8.count)"])
            return nil
        }
    }

    // MARK: - Errors

    /// A sentence a user can act on.
    private func describe(_ error: any Error, url: String) async -> String {
        switch error {
        case let error as SessionError:
            return error.description
        case let error as NodeConfigurationError:
            return error.description
        case _ where ManagerTLS.describe(error, managerURL: configuration.managerURL, serverName: configuration.tlsServerName) != nil:
            return ManagerTLS.describe(error, managerURL: configuration.managerURL, serverName: configuration.tlsServerName) ?? ""
        case let error as WebSocketClientError where error == .webSocketUpgradeFailed:
            if let status = await probeStatus(url: url) {
                if status == 401 || status == 403 {
                    return "the manager refused the token (HTTP \(status)): check --token or DROVER_TOKEN"
                }
                return "the manager declined the WebSocket upgrade (HTTP \(status)); is \(configuration.managerURL) a Drover manager?"
            }
            return "the manager declined the WebSocket upgrade (if it serves HTTPS, use an https:// manager URL)"
        default:
            return "cannot reach the manager: \(error)"
        }
    }

    /// The status a plain GET of the gateway gets with our token (tells a bad token from a wrong server).
    private func probeStatus(url: String) async -> Int? {
        var request = HTTPClientRequest(url: Self.httpURL(url))
        request.headers.add(name: "Authorization", value: "Bearer \(credential.token)")
        let client = (try? ManagerTLS(caFile: configuration.caFile, serverName: configuration.tlsServerName))?.httpClient() ?? HTTPClient.shared
        guard let response = try? await client.execute(request, timeout: .seconds(5)) else { return nil }
        _ = try? await response.body.collect(upTo: 64 * 1024)
        return Int(response.status.code)
    }
}

/// Why a session ended.
enum SessionError: Error, CustomStringConvertible {
    case noWelcome(Duration)
    case refused(code: String, message: String)
    case closed
    case closedBeforeAnswer

    var description: String {
        switch self {
        case .noWelcome(let timeout): return "the manager did not answer hello with welcome within \(Int(timeout.seconds)) s"
        case .refused(let code, let message): return "the manager refused this node (\(code)): \(message)"
        case .closed: return "the manager closed the connection"
        case .closedBeforeAnswer:
            return "the manager closed the connection without answering (if it serves HTTPS, use an https:// manager URL with --ca)"
        }
    }
}

/// What one session learned; shared by its reader and heartbeat tasks.
final class SessionState: @unchecked Sendable {
    private let lock = NSLock()
    private var welcomedInterval: Duration?

    var isWelcomed: Bool { lock.withLock { welcomedInterval != nil } }
    var interval: Duration { lock.withLock { welcomedInterval ?? .seconds(5) } }

    private var listRequested = false

    func welcomed(interval: Duration) {
        lock.withLock { welcomedInterval = interval }
    }

    /// The manager asked for the whole agent list (`agent.list.request`).
    func requestList() {
        lock.withLock { listRequested = true }
    }

    /// Whether the manager asked for the list since the last call.
    func takeListRequest() -> Bool {
        lock.withLock {
            defer { listRequested = false }
            return listRequested
        }
    }
}

/// A one-way switch that can be waited on (polling).
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var isSet = false

    func set() { lock.withLock { isSet = true } }

    var value: Bool { lock.withLock { isSet } }

    /// Returns when the flag is set, `timeout` passed, or the task is cancelled.
    func wait(timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        while !value, ContinuousClock.now < deadline, !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}

extension ManagerConnection: CustomStringConvertible {
    /// Names the service in lifecycle logs without printing its configuration (and token).
    var description: String { "ManagerConnection(\(configuration.nodeID))" }
}
