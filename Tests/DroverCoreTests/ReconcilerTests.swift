import DroverCore
import Foundation
import Testing

@Suite("Reconciler")
struct ReconcilerTests {
    let now = Date(timeIntervalSince1970: 10_000)

    func node(_ id: String, status: NodeStatus = .active, types: [String] = ["echo", "counter"]) -> NodeRecord {
        NodeRecord(
            id: id, tenant: "default", name: id, hostAddress: "127.0.0.1", apiPort: 0,
            agentTypes: types.map { AgentTypeInfo(name: $0, driver: "builtin") },
            resources: NodeResources(capacity: ResourceSpec(cpu: 4, memoryMB: 4096)), maxAgents: 10, status: status,
            connection: .websocket, registeredAt: now, lastHeartbeat: now, incarnation: "i-\(id)"
        )
    }

    func agent(_ id: String, node: String? = nil, generation: Int = 0, desired: DesiredState = .running, status: AgentStatus = .pending) -> AgentRecord {
        AgentRecord(id: id, agentType: "counter", tenant: "default", nodeID: node, generation: generation, desiredState: desired, status: status, state: ["count": 3], createdAt: now, updatedAt: now)
    }

    @Test("an agent on a down node is placed again with a new generation and its state")
    func failover() {
        var reconciler = Reconciler()
        let snapshot = Reconciler.Snapshot(
            agents: [agent("a1", node: "n1", generation: 1, status: .running)],
            nodes: [node("n1", status: .down), node("n2")], connected: ["n2"], reported: ["n2": []]
        )
        let actions = reconciler.reconcile(snapshot)
        #expect(actions.contains(.assign(agentID: "a1", nodeID: "n2", generation: 2)))
        #expect(actions.contains(.start(nodeID: "n2", .init(agentID: "a1", agentType: "counter", generation: 2, config: .object([:]), state: ["count": 3]))))
    }

    @Test("a node that comes back is told to stop the copy that moved away, before anything else")
    func fencing() {
        var reconciler = Reconciler()
        let snapshot = Reconciler.Snapshot(
            agents: [agent("a1", node: "n2", generation: 2, status: .running), agent("a2", node: "n1", generation: 1)],
            nodes: [node("n1"), node("n2")], connected: ["n1", "n2"],
            reported: ["n1": [.init(agentID: "a1", generation: 1, status: .running)], "n2": [.init(agentID: "a1", generation: 2, status: .running)]]
        )
        let actions = reconciler.reconcile(snapshot)
        #expect(actions.first == .stop(nodeID: "n1", .init(agentID: "a1", generation: 1, reason: "agent was placed on another node")))
        #expect(!actions.contains { if case .stop(let node, _) = $0 { return node == "n2" } else { return false } })
        #expect(actions.contains(.start(nodeID: "n1", .init(agentID: "a2", agentType: "counter", generation: 1, config: .object([:]), state: ["count": 3]))))
    }

    @Test("a running agent reported at its generation needs nothing but a status record")
    func steady() {
        var reconciler = Reconciler()
        let running = agent("a1", node: "n1", generation: 1, status: .running)
        let snapshot = Reconciler.Snapshot(agents: [running], nodes: [node("n1")], connected: ["n1"], reported: ["n1": [.init(agentID: "a1", generation: 1, status: .running)]])
        #expect(reconciler.reconcile(snapshot).isEmpty)
        var starting = running
        starting.status = .starting
        let changed = Reconciler.Snapshot(agents: [starting], nodes: [node("n1")], connected: ["n1"], reported: ["n1": [.init(agentID: "a1", generation: 1, status: .running, restarts: 1)]])
        #expect(reconciler.reconcile(changed) == [.recordStatus(agentID: "a1", status: .running, restarts: 1)])
    }

    @Test("after a manager restart, nodes that have not reconnected yet keep their agents")
    func waitsForReconnect() {
        var reconciler = Reconciler()
        let snapshot = Reconciler.Snapshot(agents: [agent("a1", node: "n1", generation: 1, status: .running)], nodes: [node("n1"), node("n2")], connected: ["n2"], reported: [:])
        #expect(reconciler.reconcile(snapshot).isEmpty)
    }

    @Test("undeployed agents are stopped where they run and removed once nothing runs them")
    func undeploy() {
        var reconciler = Reconciler()
        let gone = agent("a1", node: "n1", generation: 1, desired: .stopped, status: .running)
        let running = Reconciler.Snapshot(agents: [gone], nodes: [node("n1")], connected: ["n1"], reported: ["n1": [.init(agentID: "a1", generation: 1, status: .running)]])
        #expect(reconciler.reconcile(running) == [.stop(nodeID: "n1", .init(agentID: "a1", generation: 1, reason: "undeployed"))])
        let stopped = Reconciler.Snapshot(agents: [gone], nodes: [node("n1")], connected: ["n1"], reported: ["n1": []])
        #expect(reconciler.reconcile(stopped) == [.remove(agentID: "a1")])
    }

    @Test("unknown agents a node reports are stopped")
    func unknown() {
        var reconciler = Reconciler()
        let snapshot = Reconciler.Snapshot(agents: [], nodes: [node("n1")], connected: ["n1"], reported: ["n1": [.init(agentID: "ghost", generation: 4, status: .running)]])
        #expect(reconciler.reconcile(snapshot) == [.stop(nodeID: "n1", .init(agentID: "ghost", generation: 4, reason: "unknown agent"))])
    }

    @Test("when nothing fits, the agent is reported unplaceable with the reason")
    func unplaceable() {
        var reconciler = Reconciler()
        let snapshot = Reconciler.Snapshot(agents: [agent("a1", node: "n1", generation: 1)], nodes: [node("n1", status: .down), node("n2", types: ["echo"])], connected: ["n2"], reported: [:])
        let actions = reconciler.reconcile(snapshot)
        guard case .unplaceable(let id, let failure) = actions.first else {
            Issue.record("expected unplaceable, got \(actions)")
            return
        }
        #expect(id == "a1")
        #expect(failure.rejections == [.notConnected: 1, .agentTypeMissing: 1] || failure.rejections == [.notActive: 1, .agentTypeMissing: 1])
    }

    @Test("placements within one pass count against the room they take")
    func placementsAccumulate() {
        var reconciler = Reconciler()
        var small = node("n1")
        small.maxAgents = 1
        let snapshot = Reconciler.Snapshot(agents: [agent("a1"), agent("a2")], nodes: [small], connected: ["n1"], reported: ["n1": []])
        let actions = reconciler.reconcile(snapshot)
        #expect(actions.filter { if case .assign = $0 { return true } else { return false } }.count == 1)
        #expect(actions.contains { if case .unplaceable(let id, _) = $0 { return id == "a2" } else { return false } })
    }
}
