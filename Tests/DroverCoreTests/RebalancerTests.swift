import DroverCore
import Foundation
import Testing

@Suite("Rebalancer and moves")
struct RebalancerTests {
    let now = Date(timeIntervalSince1970: 10_000)

    func node(_ id: String, status: NodeStatus = .active, maxAgents: Int = 50) -> NodeRecord {
        NodeRecord(
            id: id, tenant: "default", name: id, hostAddress: "127.0.0.1", apiPort: 0,
            agentTypes: [AgentTypeInfo(name: "echo", driver: "builtin")],
            resources: NodeResources(capacity: ResourceSpec(cpu: 8, memoryMB: 8192)), maxAgents: maxAgents, status: status,
            connection: .websocket, registeredAt: now, lastHeartbeat: now, incarnation: "i"
        )
    }

    func agents(_ count: Int, on nodeID: String, prefix: String, pinned: Bool = false) -> [AgentRecord] {
        (0..<count).map { index in
            AgentRecord(
                id: "\(prefix)\(index)", agentType: "echo", tenant: "default", nodeID: nodeID, generation: 1, status: .running,
                preferredNode: pinned ? nodeID : nil, createdAt: now, updatedAt: now
            )
        }
    }

    func snapshot(_ agents: [AgentRecord], _ nodes: [NodeRecord]) -> Reconciler.Snapshot {
        Reconciler.Snapshot(agents: agents, nodes: nodes, connected: Set(nodes.map(\.id)), reported: [:])
    }

    @Test("moves agents from the fullest node until the spread is at most one")
    func evens() {
        let plan = Rebalancer().plan(snapshot(agents(6, on: "a", prefix: "x"), [node("a"), node("b"), node("c")]), maxMoves: 100)
        #expect(plan.count == 4)
        var counts = ["a": 6, "b": 0, "c": 0]
        for move in plan {
            #expect(move.from == "a")
            counts[move.from, default: 0] -= 1
            counts[move.to, default: 0] += 1
        }
        #expect(counts.values.max()! - counts.values.min()! <= 1)
        #expect(Set(plan.map(\.agentID)).count == plan.count)
    }

    @Test("the bound on moves is kept, and a balanced cluster plans nothing")
    func bounded() {
        #expect(Rebalancer().plan(snapshot(agents(6, on: "a", prefix: "x"), [node("a"), node("b")]), maxMoves: 2).count == 2)
        let even = agents(2, on: "a", prefix: "x") + agents(2, on: "b", prefix: "y")
        #expect(Rebalancer().plan(snapshot(even, [node("a"), node("b")]), maxMoves: 10).isEmpty)
    }

    @Test("pinned agents stay, and targets must fit (max_agents, status)")
    func constraints() {
        #expect(Rebalancer().plan(snapshot(agents(4, on: "a", prefix: "x", pinned: true), [node("a"), node("b")]), maxMoves: 10).isEmpty)
        #expect(Rebalancer().plan(snapshot(agents(4, on: "a", prefix: "x"), [node("a"), node("b", maxAgents: 0)]), maxMoves: 10).isEmpty)
        #expect(Rebalancer().plan(snapshot(agents(4, on: "a", prefix: "x"), [node("a"), node("b", status: .draining)]), maxMoves: 10).isEmpty)
    }

    @Test("the reconciler moves agents off a draining node when another can take them")
    func drain() {
        var reconciler = Reconciler()
        let onDrained = agents(2, on: "a", prefix: "x")
        let actions = reconciler.reconcile(snapshot(onDrained, [node("a", status: .draining), node("b")]))
        #expect(actions.filter { if case .assign(_, "b", 2) = $0 { return true } else { return false } }.count == 2)
        // Nowhere to go: they keep running where they are.
        let stuck = reconciler.reconcile(snapshot(onDrained, [node("a", status: .draining)]))
        #expect(!stuck.contains { if case .assign = $0 { return true } else { return false } })
    }

    @Test("an agent that failed on a node is placed on one other node, once")
    func failover() {
        var reconciler = Reconciler(maxFailovers: 1)
        var failed = agents(1, on: "a", prefix: "x")[0]
        failed.status = .failed
        let first = reconciler.reconcile(snapshot([failed], [node("a"), node("b")]))
        #expect(first.contains(.assign(agentID: "x0", nodeID: "b", generation: 2)))
        failed.nodeID = "b"
        failed.generation = 2
        failed.failedNodes = ["a"]
        let second = reconciler.reconcile(snapshot([failed], [node("a"), node("b"), node("c")]))
        #expect(!second.contains { if case .assign = $0 { return true } else { return false } })
    }

    @Test("distribution counts agents by node, type and tenant")
    func distribution() {
        let all = agents(3, on: "a", prefix: "x") + agents(1, on: "b", prefix: "y")
        let result = Distribution.make(agents: all, nodes: [node("a"), node("b")])
        #expect(result.agentsPerNode == ["a": 3, "b": 1])
        #expect(result.agentsPerType == ["echo": 4])
        #expect(result.agentsPerTenant == ["default": 4])
        #expect(result.nodes.first { $0.nodeID == "a" }?.free == ResourceSpec(cpu: 8, memoryMB: 8192))
    }
}
