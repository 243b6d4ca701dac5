import DroverClient
import DroverCore
import DroverTestSupport
import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import Testing

/// Hostile bytes on the node gateway: the manager answers with `error` frames, closes what it
/// must, and keeps serving everyone else.
@Suite("Gateway garbage", .serialized, .timeLimit(.minutes(2)))
struct GatewayGarbageTests {
    static let logger = Logger(label: "test.gateway")

    static func hello(_ id: String) -> NodeMessage {
        .hello(.init(
            nodeID: id, tenant: "default", name: id, hostAddress: "127.0.0.1", apiPort: 1, capabilities: [], labels: [:],
            agentTypes: [.init(name: "echo", driver: "builtin")], resources: .init(capacity: .init(cpu: 1, memoryMB: 512)),
            maxAgents: 5, incarnation: UUID().uuidString, agents: []
        ))
    }

    /// Connects, sends `frames` one by one, and returns every frame the manager sent back before it closed
    /// or `listen` passed.
    static func exchange(_ cluster: TestCluster, token: String?, frames: [String], listen: Duration = .seconds(1)) async throws -> [String] {
        try await exchangeWithClose(cluster, token: token, frames: frames, listen: listen).frames
    }

    /// Like `exchange`, with the close frame the manager sent (if it closed first).
    static func exchangeWithClose(
        _ cluster: TestCluster, token: String?, frames: [String], listen: Duration = .seconds(1)
    ) async throws -> (frames: [String], close: WebSocketCloseFrame?) {
        let received = FrameLog()
        var headers = HTTPFields()
        if let token { headers[.authorization] = "Bearer \(token)" }
        let url = cluster.managerURL.replacingOccurrences(of: "http://", with: "ws://") + "/api/v1/cluster/connect"
        let close = try await WebSocketClient.connect(
            url: url, configuration: .init(maxFrameSize: 4 << 20, additionalHeaders: headers), logger: logger
        ) { inbound, outbound, _ in
            for frame in frames {
                try await outbound.write(.text(frame))
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await message in inbound.messages(maxSize: 4 << 20) {
                        if case .text(let text) = message { await received.append(text) }
                    }
                }
                group.addTask { try await Task.sleep(for: listen) }
                try await group.next()
                group.cancelAll()
                try? await outbound.close(.normalClosure, reason: nil)
            }
        }
        return (await received.frames, close)
    }

    static func types(_ frames: [String]) -> [String] {
        frames.compactMap { try? NodeMessageCodec().decode($0).type }
    }

    @Test("garbage frames get error frames; hello is required first; the session survives bad frames")
    func garbage() async throws {
        // A grace longer than the whole exchange: "intruder" says hello once and never heartbeats.
        let cluster = try TestCluster(heartbeatInterval: 0.3, heartbeatGrace: 15)
        try await cluster.startManager()
        let codec = NodeMessageCodec()

        // No token, a wrong one: the upgrade is refused (400, HummingbirdWebSocket's answer).
        #expect(try GatewayCredentialTests.upgradeStatus(cluster, token: nil) == 400)
        #expect(try GatewayCredentialTests.upgradeStatus(cluster, token: "wrong-token-wrong-token-wrong") == 400)

        // Anything but hello first: an error frame, then the manager closes.
        let beforeHello = try await Self.exchange(cluster, token: cluster.token, frames: [
            "not json at all", try codec.encode(.heartbeat(.init(resources: .init(capacity: .zero), agents: []))),
        ])
        #expect(Self.types(beforeHello) == ["error", "error"])
        #expect(beforeHello.last?.contains("hello_required") == true)

        // After hello: garbage is answered, the session goes on, and the node is registered.
        let garbage = [
            "{", "[]", "{\"type\": \"launch.missiles\"}", "{\"type\": \"task.result\", \"task_id\": 5}",
            String(repeating: "[", count: 10_000), "\u{0}\u{1}\u{2}",
            try codec.encode(.taskResult(.init(taskID: "tsk-nobody", agentID: "agt-nobody", generation: 9, ok: true, output: "forged"))),
            try codec.encode(.agentCheckpoint(.init(agentID: "agt-nobody", generation: 1, state: "forged"))),
            try codec.encode(.agentStart(.init(agentID: "x", agentType: "echo", generation: 1, config: [:], state: nil))),
        ]
        let session = try await Self.exchange(cluster, token: cluster.token, frames: [try codec.encode(Self.hello("intruder"))] + garbage)
        let answered = Self.types(session)
        #expect(answered.first == "welcome")
        #expect(answered.filter { $0 == "error" }.count == 7, "\(session)")
        #expect(try await cluster.client.node(id: "intruder").status != .down)

        // A node id that is not an id is refused.
        let badID = try await Self.exchange(cluster, token: cluster.token, frames: [try codec.encode(Self.hello("../../etc/passwd"))])
        #expect(Self.types(badID) == ["error"])
        await #expect(throws: DroverClientError.self) { try await cluster.client.node(id: "../../etc/passwd") }

        // A frame over the 1 MiB limit ends that session only, with close code 1009.
        let huge = "{\"type\":\"message\",\"agent_id\":\"a\",\"generation\":1,\"payload\":\"" + String(repeating: "x", count: 2 << 20) + "\"}"
        let (bigFrames, close) = try await Self.exchangeWithClose(cluster, token: cluster.token, frames: [try codec.encode(Self.hello("bigmouth")), huge], listen: .seconds(5))
        #expect(Self.types(bigFrames) == ["welcome"], "\(bigFrames)")
        #expect(close?.closeCode == .messageTooLarge, "\(String(describing: close))")

        // The manager still serves, and nothing forged was stored.
        #expect(try await cluster.client.health().status == "ok")
        #expect(try await cluster.client.agents().isEmpty)
        await #expect(throws: DroverClientError.self) { try await cluster.client.task(id: "tsk-nobody") }
        #expect(cluster.manager?.isRunning == true)
    }

    @Test("a heartbeat whose agent digest does not match gets agent.list.request; a matching one and a whole list get nothing")
    func digestMismatchAsksForTheList() async throws {
        let cluster = try TestCluster()
        try await cluster.startManager()
        let codec = NodeMessageCodec()
        let resources = NodeResources(capacity: .init(cpu: 1, memoryMB: 512))
        let empty = NodeProtocol.RunningAgent.digest([])
        let stray = NodeProtocol.RunningAgent.digest([.init(agentID: "agt-stray", generation: 1, status: .running)])
        let frames = try await Self.exchange(cluster, token: cluster.token, frames: [
            try codec.encode(Self.hello("digest")),
            try codec.encode(.heartbeat(.init(resources: resources, agents: nil, agentsDigest: empty))),
            try codec.encode(.heartbeat(.init(resources: resources, agents: nil, agentsDigest: stray))),
            try codec.encode(.heartbeat(.init(resources: resources, agents: []))),
        ])
        #expect(Self.types(frames) == ["welcome", "agent.list.request"], "\(frames)")
    }

    @Test("a replayed hello changes nothing: a second one in a session is refused, and another tenant's credential cannot take the node over")
    func replayedHello() async throws {
        let cluster = try TestCluster()
        try await cluster.startManager()
        let codec = NodeMessageCodec()
        let original = try codec.encode(Self.hello("replayed"))
        // The same session says hello twice, the second time claiming other labels and another tenant.
        var forged = Self.hello("replayed")
        if case .hello(var payload) = forged {
            payload.tenant = "globex"
            payload.labels = ["zone": "forged"]
            forged = .hello(payload)
        }
        let twice = try await Self.exchange(cluster, token: cluster.token, frames: [original, try codec.encode(forged)])
        #expect(Self.types(twice) == ["welcome", "error"])
        #expect(twice.last?.contains("unexpected_message") == true)
        let node = try await cluster.client.node(id: "replayed")
        #expect(node.tenant == "default")
        #expect(node.labels.isEmpty)

        // The captured hello replayed by another tenant's credential: refused, the node stays as it was.
        _ = try await cluster.client.createTenant("globex")
        let globex = try await cluster.client.createAPIToken(tenant: "globex").token
        let replay = try await Self.exchange(cluster, token: globex, frames: [original])
        #expect(Self.types(replay) == ["error"])
        #expect(replay.first?.contains("hello_refused") == true)
        #expect(try await cluster.client.node(id: "replayed").tenant == "default")
        // Without any credential the upgrade itself is refused.
        #expect(try GatewayCredentialTests.upgradeStatus(cluster, token: nil) == 400)
        await #expect(throws: (any Error).self) { _ = try await Self.exchange(cluster, token: Optional<String>.none, frames: [original]) }
    }
}

/// Frames a test connection received.
actor FrameLog {
    private(set) var frames: [String] = []
    func append(_ frame: String) { frames.append(frame) }
}
