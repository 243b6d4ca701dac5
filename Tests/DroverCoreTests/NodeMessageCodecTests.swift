import DroverCore
import Foundation
import Testing

@Suite("Node message codec")
struct NodeMessageCodecTests {
    let codec = NodeMessageCodec(maxFrameBytes: 4096)

    static let samples: [NodeMessage] = [
        .hello(.init(
            nodeID: "customer1", tenant: "default", name: "customer1", hostAddress: "10.0.0.5", apiPort: 8001,
            capabilities: ["trading"], labels: ["zone": "a"], agentTypes: [.init(name: "echo", driver: "builtin")],
            resources: .init(capacity: .init(cpu: 2, memoryMB: 2048), load1: 0.5, memoryAvailableMB: 1000), maxAgents: 10,
            incarnation: "abc", agents: [.init(agentID: "a1", generation: 2, status: .running, restarts: 1)]
        )),
        .welcome(.init(nodeID: "customer1", heartbeatIntervalSeconds: 5, heartbeatGraceSeconds: 15)),
        .heartbeat(.init(resources: .init(capacity: .init(cpu: 2)), agents: [])),
        .heartbeat(.init(resources: .init(capacity: .init(cpu: 2)), agents: nil)),
        .heartbeat(.init(resources: .init(capacity: .init(cpu: 2)), agents: [.init(agentID: "a1", generation: 1, status: .running)], agentsMore: true)),
        .agentList(.init(agents: [.init(agentID: "a2", generation: 4, status: .starting, restarts: 2)], more: false)),
        .heartbeat(.init(resources: .init(capacity: .init(cpu: 2)), agents: nil, agentsDigest: "2-8c3a4f")),
        .heartbeat(.init(
            resources: .init(capacity: .init(cpu: 1.5, memoryMB: 512, gpu: 1), load1: 0.25, memoryAvailableMB: 100.5),
            agents: [.init(agentID: "a\"1", generation: 1, status: .running), .init(agentID: "a2", generation: 2, status: .stopped, restarts: 3)],
            agentsMore: false
        )),
        .agentStart(.init(agentID: "a3", agentType: "echo", generation: 1, config: [:], state: nil)),
        .taskRun(.init(
            taskID: "t3", agentID: "a1", generation: 1, input: nil, attempt: 2, timeoutSeconds: 60,
            workflow: .init(runID: "run-1", stepID: "s", item: 4, attempt: 1)
        )),
        .agentListRequest(.init(reason: "digest mismatch")),
        .agentStart(.init(agentID: "a1", agentType: "counter", generation: 3, config: ["x": [1, 2.5, "s", true, nil]], state: ["count": 7])),
        .agentStop(.init(agentID: "a1", generation: 3, reason: "undeployed")),
        .agentStatus(.init(agentID: "a1", generation: 3, status: .failed, restarts: 5, error: "exit 1")),
        .agentCheckpoint(.init(agentID: "a1", generation: 3, state: ["count": 8])),
        .taskRun(.init(taskID: "t1", agentID: "a1", generation: 3, input: ["add": 1], attempt: 1, timeoutSeconds: 30)),
        .taskResult(.init(taskID: "t1", agentID: "a1", generation: 3, ok: true, output: ["count": 8])),
        .taskResult(.init(taskID: "t2", agentID: "a1", generation: 2, ok: false, error: "not running", rejected: true)),
        .message(.init(agentID: "a1", generation: 3, payload: "hello")),
        .drain(.init(reason: "maintenance")),
        .error(.init(code: "bad_frame", message: "nope")),
    ]

    @Test("every message survives a round trip", arguments: samples)
    func roundTrip(message: NodeMessage) throws {
        let text = try codec.encode(message)
        #expect(try codec.decode(text) == message)
        #expect(text.contains("\"type\":\"\(message.type)\""))
    }

    @Test("frames written and read without JSONEncoder/JSONDecoder are exactly theirs", arguments: samples)
    func fastFramesMatchFoundation(message: NodeMessage) throws {
        let text = try codec.encode(message)
        let foundationText = String(decoding: try JSONCoding.encoder().encode(message), as: UTF8.self)
        #expect(text == foundationText)
        let foundation = try JSONCoding.decoder().decode(NodeMessage.self, from: Data(text.utf8))
        let fast = JSONTextReader.parse(text).flatMap(NodeMessage.init(json:))
        if let fast { #expect(fast == foundation) }
        // The frames that go by the thousand must take the fast path.
        let hot = ["agent.start", "agent.stop", "agent.status", "heartbeat", "agent.list", "task.run", "task.result"]
        if hot.contains(message.type) {
            #expect(fast != nil, "\(text) was not read by the fast path")
        }
    }

    @Test("the wire names are the documented ones")
    func wireNames() throws {
        let text = try codec.encode(.taskRun(.init(taskID: "t1", agentID: "a1", generation: 3, input: 5, attempt: 2, timeoutSeconds: 1.5)))
        let object = try JSONDecoder().decode([String: JSONValue].self, from: Data(text.utf8))
        #expect(object == ["type": "task.run", "task_id": "t1", "agent_id": "a1", "generation": 3, "input": 5, "attempt": 2, "timeout_s": 1.5])
    }

    @Test("garbage is refused with a reason, never a crash", arguments: [
        "", "not json", "[]", "{}", "{\"type\": 5}", "{\"type\": \"launch.missiles\"}",
        "{\"type\": \"task.run\", \"task_id\": \"t\"}", "{\"type\": \"hello\", \"node_id\": []}", "\u{0}\u{1}",
    ])
    func garbage(text: String) {
        #expect(throws: NodeMessageError.self) { try codec.decode(text) }
    }

    @Test("frames over the limit are refused before parsing")
    func tooLarge() {
        let big = "{\"type\":\"message\",\"payload\":\"" + String(repeating: "x", count: 5000) + "\"}"
        #expect(throws: NodeMessageError.tooLarge(big.utf8.count, limit: 4096)) { try codec.decode(big) }
    }

    @Test("a missing field names its path")
    func fieldPath() {
        do {
            _ = try codec.decode("{\"type\": \"agent.stop\", \"agent_id\": \"a\", \"reason\": \"x\"}")
            Issue.record("decoded a frame without a generation")
        } catch {
            #expect("\(error)".contains("$.generation"))
        }
    }
}

@Suite("JSONValue")
struct JSONValueTests {
    @Test("integers stay integers and doubles stay doubles")
    func numbers() throws {
        let value: JSONValue = ["i": 3, "d": 2.5, "big": 9_007_199_254_740_993, "nested": [["a": nil]]]
        let data = try JSONCoding.encoder().encode(value)
        let back = try JSONCoding.decoder().decode(JSONValue.self, from: data)
        #expect(back == value)
        #expect(String(decoding: data, as: UTF8.self).contains("\"i\":3"))
    }

    @Test("depth counts nesting")
    func depth() {
        #expect(JSONValue.int(1).depth == 0)
        #expect(JSONValue.array([.object(["a": .array([])])]).depth == 3)
    }

    @Test("dates round-trip with fractional seconds")
    func dates() throws {
        let date = Date(timeIntervalSince1970: 1_700_000_000.123)
        let text = JSONCoding.formatDate(date)
        let parsed = try #require(JSONCoding.parseDate(text))
        #expect(abs(parsed.timeIntervalSince(date)) < 0.001)
    }
}

@Suite("Agent list digests")
struct AgentListDigestTests {
    @Test("the digest is the documented FNV-1a over sorted \"ID|GENERATION|STATUS|RESTARTS\" lines, whatever the order")
    func digestIsTheDocumentedHash() {
        let agents: [NodeProtocol.RunningAgent] = [
            .init(agentID: "b-2", generation: 12, status: .running, restarts: 3), .init(agentID: "a.1", generation: 1, status: .starting),
            .init(agentID: "c_3", generation: 7, status: .failed, restarts: 10),
            .init(agentID: "d", generation: 0, status: .running, restarts: 0), .init(agentID: "e", generation: 1_234_567_890, status: .stopped, restarts: -7),
        ]
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for agent in agents.sorted(by: { $0.agentID < $1.agentID }) {
            for byte in "\(agent.agentID)|\(agent.generation)|\(agent.status.rawValue)|\(agent.restarts)\n".utf8 {
                hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
            }
        }
        #expect(NodeProtocol.RunningAgent.digest(agents) == "5-" + String(hash, radix: 16))
        let byID = Dictionary(uniqueKeysWithValues: agents.map { ($0.agentID, $0) })
        #expect(NodeProtocol.RunningAgent.digest(byID.values) == NodeProtocol.RunningAgent.digest(agents))
        #expect(NodeProtocol.RunningAgent.digest(agents.reversed()) == NodeProtocol.RunningAgent.digest(agents))
        #expect(NodeProtocol.RunningAgent.digest([]) == "0-cbf29ce484222325")
    }
}
