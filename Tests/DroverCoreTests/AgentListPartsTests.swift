import DroverCore
import Foundation
import Testing

/// Long running-agent lists travel in parts (`hello`/`heartbeat` with `agents_more`, then
/// `agent.list` frames) and are put back together whole, in order, before the manager uses them.
@Suite("Agent lists in parts")
struct AgentListPartsTests {
    static func running(_ count: Int, from start: Int = 0) -> [NodeProtocol.RunningAgent] {
        (start..<(start + count)).map { .init(agentID: "agt_\($0)", generation: 1 + $0 % 3, status: .running, restarts: $0 % 2) }
    }

    static func hello(_ agents: [NodeProtocol.RunningAgent], more: Bool) -> NodeProtocol.Hello {
        .init(
            nodeID: "n1", tenant: "default", name: "n1", hostAddress: "127.0.0.1", apiPort: 1, capabilities: [], labels: [:],
            agentTypes: [], resources: .init(capacity: .init(cpu: 1)), maxAgents: 100_000, incarnation: "i", agents: agents,
            agentsMore: more ? true : nil
        )
    }

    @Test("split: short lists go whole; long ones in parts of at most partSize, the last with more = false")
    func split() {
        let short = NodeProtocol.AgentList.split(Self.running(5), partSize: 5)
        #expect(short.first.count == 5 && !short.more && short.rest.isEmpty)
        let long = NodeProtocol.AgentList.split(Self.running(12), partSize: 5)
        #expect(long.first.map(\.agentID) == Self.running(5).map(\.agentID) && long.more)
        #expect(long.rest.map(\.agents.count) == [5, 2] && long.rest.map(\.more) == [true, false])
        #expect(long.first + long.rest.flatMap(\.agents) == Self.running(12))
        #expect(NodeProtocol.AgentList.split([], partSize: 5).first.isEmpty)
    }

    @Test("every part of a 10,000-agent list fits well inside the 1 MiB frame limit")
    func partsFitTheFrame() throws {
        let codec = NodeMessageCodec()
        let agents = (0..<10_000).map { NodeProtocol.RunningAgent(agentID: "agt_" + String(repeating: "x", count: 120) + "\($0)", generation: 99_999, status: .starting, restarts: 9_999) }
        let (first, more, rest) = NodeProtocol.AgentList.split(agents)
        #expect(more && rest.count == 4)
        let frames = [try codec.encode(.hello(Self.hello(first, more: more)))] + (try rest.map { try codec.encode(.agentList($0)) })
        for frame in frames { #expect(frame.utf8.count < codec.maxFrameBytes / 2, "\(frame.utf8.count) bytes") }
        #expect(throws: Never.self) { for frame in frames { _ = try codec.decode(frame) } }
    }

    @Test("a hello in three parts is handed over once, whole and in order")
    func helloInParts() throws {
        let agents = Self.running(12)
        let (first, more, rest) = NodeProtocol.AgentList.split(agents, partSize: 5)
        var assembler = NodeFrameAssembler()
        #expect(try assembler.hello(from: .hello(Self.hello(first, more: more))) == nil)
        #expect(try assembler.hello(from: .agentList(rest[0])) == nil)
        let whole = try #require(try assembler.hello(from: .agentList(rest[1])))
        #expect(whole.agents == agents && whole.agentsMore == nil)
        // The session is open now: a stray part continues nothing.
        #expect(throws: NodeProtocol.ProtocolError.self) { try assembler.frame(from: .agentList(rest[1])) }
    }

    @Test("before the session opens, anything but the hello's parts ends it with a reason")
    func helloRefusals() throws {
        var fresh = NodeFrameAssembler()
        #expect(throws: NodeProtocol.ProtocolError(code: "hello_required", message: "the first frame must be 'hello', got 'agent.list'")) {
            try fresh.hello(from: .agentList(.init(agents: [], more: false)))
        }
        var waiting = NodeFrameAssembler()
        _ = try waiting.hello(from: .hello(Self.hello(Self.running(2), more: true)))
        #expect(throws: NodeProtocol.ProtocolError.self) { try waiting.hello(from: .heartbeat(.init(resources: .init(capacity: .init(cpu: 1)), agents: nil))) }
        #expect(throws: NodeProtocol.ProtocolError(code: "hello_incomplete", message: "the hello's agent list continues in 'agent.list' frames; got 'hello'")) {
            try waiting.hello(from: .hello(Self.hello([], more: false)))
        }
    }

    @Test("a heartbeat in parts: other frames pass between them; the heartbeat comes out whole once")
    func heartbeatInParts() throws {
        let agents = Self.running(7)
        let (first, more, rest) = NodeProtocol.AgentList.split(agents, partSize: 3)
        var assembler = NodeFrameAssembler()
        let status = NodeMessage.agentStatus(.init(agentID: "agt_1", generation: 2, status: .running, restarts: 0, error: nil))
        #expect(try assembler.frame(from: .heartbeat(.init(resources: .init(capacity: .init(cpu: 1)), agents: first, agentsMore: more))) == nil)
        #expect(try assembler.frame(from: status) == status)
        #expect(try assembler.frame(from: .agentList(rest[0])) == nil)
        guard case .heartbeat(let beat) = try assembler.frame(from: .agentList(rest[1])) else {
            Issue.record("no heartbeat after the last part")
            return
        }
        #expect(beat.agents == agents && beat.agentsMore == nil)
        let plain = NodeMessage.heartbeat(.init(resources: .init(capacity: .init(cpu: 1)), agents: nil))
        #expect(try assembler.frame(from: plain) == plain)
    }

    @Test("the digest: the same for the same agents in any order; any change of id, generation, status or restarts changes it")
    func digest() {
        let agents = Self.running(50)
        let digest = NodeProtocol.RunningAgent.digest(agents)
        #expect(digest.hasPrefix("50-"))
        #expect(NodeProtocol.RunningAgent.digest(agents.reversed()) == digest)
        #expect(NodeProtocol.RunningAgent.digest(agents.shuffled()) == digest)
        #expect(NodeProtocol.RunningAgent.digest([]) == NodeProtocol.RunningAgent.digest([]))
        var changes: Set<String> = [digest]
        for change in 0..<5 {
            var other = agents
            switch change {
            case 0: other[7].generation += 1
            case 1: other[7].status = .failed
            case 2: other[7].restarts += 1
            case 3: other[7].agentID += "x"
            default: other.removeLast()
            }
            changes.insert(NodeProtocol.RunningAgent.digest(other))
        }
        #expect(changes.count == 6, "every change gives another digest")
    }

    @Test("a part with an id no agent can have is refused; parts shrink to fit a small frame limit")
    func boundedInBytes() throws {
        var assembler = NodeFrameAssembler()
        _ = try assembler.frame(from: .heartbeat(.init(resources: .init(capacity: .init(cpu: 1)), agents: [], agentsMore: true)))
        let huge = NodeProtocol.RunningAgent(agentID: String(repeating: "x", count: 100_000), generation: 1, status: .running)
        #expect(throws: NodeProtocol.ProtocolError.self) { try assembler.frame(from: .agentList(.init(agents: [huge], more: true))) }
        #expect(NodeProtocol.AgentList.partSize(forFrameBytes: 1 << 20) == 2_000)
        #expect(NodeProtocol.AgentList.partSize(forFrameBytes: 128 * 1_024) == 512)
        #expect(NodeProtocol.AgentList.partSize(forFrameBytes: 100) == 1)
        let codec = NodeMessageCodec(maxFrameBytes: 128 * 1_024)
        let longest = (0..<3_000).map { NodeProtocol.RunningAgent(agentID: String(repeating: "a", count: 124) + String($0), generation: 9_999, status: .starting, restarts: 999) }
        for part in NodeProtocol.AgentList.split(longest, partSize: NodeProtocol.AgentList.partSize(forFrameBytes: codec.maxFrameBytes)).rest {
            #expect(try codec.encode(.agentList(part)).utf8.count <= codec.maxFrameBytes)
        }
    }

    @Test("a list longer than the limit is refused, and the next list starts afresh")
    func overTheLimit() throws {
        var assembler = NodeFrameAssembler()
        _ = try assembler.frame(from: .heartbeat(.init(resources: .init(capacity: .init(cpu: 1)), agents: [], agentsMore: true)))
        let part = NodeProtocol.AgentList(agents: Self.running(NodeProtocol.AgentList.maxAgents / 4), more: true)
        for _ in 0..<4 { #expect(try assembler.frame(from: .agentList(part)) == nil) }
        #expect(throws: NodeProtocol.ProtocolError.self) { try assembler.frame(from: .agentList(.init(agents: Self.running(1), more: false))) }
        #expect(throws: NodeProtocol.ProtocolError.self) { try assembler.frame(from: .agentList(.init(agents: [], more: false))) }
        _ = try assembler.frame(from: .heartbeat(.init(resources: .init(capacity: .init(cpu: 1)), agents: Self.running(1), agentsMore: true)))
        guard case .heartbeat(let beat) = try assembler.frame(from: .agentList(.init(agents: Self.running(1, from: 1), more: false))) else {
            Issue.record("the next list was not assembled")
            return
        }
        #expect(beat.agents == Self.running(2))
    }
}
