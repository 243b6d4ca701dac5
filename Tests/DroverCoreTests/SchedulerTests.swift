import DroverCore
import Testing

@Suite("Scheduler")
struct SchedulerTests {
    static func node(
        _ id: String, tenant: String = "default", status: NodeStatus = .active, connected: Bool = true,
        types: Set<String> = ["echo"], capabilities: Set<String> = [], labels: [String: String] = [:],
        cpu: Double = 4, memory: Double = 4096, gpu: Int = 0, allocated: ResourceSpec = .zero, agents: Int = 0, maxAgents: Int = 50,
        agentLabels: [[String: String]] = []
    ) -> PlacementCandidate {
        PlacementCandidate(
            nodeID: id, tenant: tenant, status: status, connected: connected, agentTypes: types, capabilities: capabilities,
            labels: labels, capacity: ResourceSpec(cpu: cpu, memoryMB: memory, gpu: gpu), allocated: allocated, agentCount: agents,
            maxAgents: maxAgents, agentLabels: agentLabels
        )
    }

    @Test("least_loaded picks the node with the fewest agents")
    func leastLoaded() {
        var scheduler = Scheduler()
        let nodes = [Self.node("a", agents: 3), Self.node("b", agents: 1), Self.node("c", agents: 2)]
        #expect(scheduler.place(PlacementRequest(agentType: "echo", tenant: "default"), on: nodes) == .placed(nodeID: "b"))
    }

    @Test("round_robin takes feasible nodes in turn")
    func roundRobin() {
        var scheduler = Scheduler()
        let nodes = [Self.node("b"), Self.node("a"), Self.node("c", connected: false)]
        let request = PlacementRequest(agentType: "echo", tenant: "default", strategy: .roundRobin)
        let picks = (0..<4).map { _ in scheduler.place(request, on: nodes) }
        #expect(picks == [.placed(nodeID: "a"), .placed(nodeID: "b"), .placed(nodeID: "a"), .placed(nodeID: "b")])
    }

    @Test("resource_optimal packs into the tightest fit")
    func resourceOptimal() {
        var scheduler = Scheduler()
        let nodes = [
            Self.node("big", cpu: 16, memory: 16_384),
            Self.node("snug", cpu: 4, memory: 4096, allocated: ResourceSpec(cpu: 3, memoryMB: 3584)),
        ]
        let request = PlacementRequest(agentType: "echo", tenant: "default", resources: ResourceSpec(cpu: 0.5, memoryMB: 256), strategy: .resourceOptimal)
        #expect(scheduler.place(request, on: nodes) == .placed(nodeID: "snug"))
    }

    @Test("capability_match prefers nodes with the requested capabilities")
    func capabilityMatch() {
        var scheduler = Scheduler()
        let nodes = [Self.node("plain", capabilities: ["x"]), Self.node("gpu", capabilities: ["cuda", "x"], agents: 5)]
        let request = PlacementRequest(agentType: "echo", tenant: "default", requiredCapabilities: [], strategy: .capabilityMatch)
        // No capability requested: fewer extra capabilities wins, so specialised nodes stay free.
        #expect(scheduler.place(request, on: nodes) == .placed(nodeID: "plain"))
        let wantsCuda = PlacementRequest(agentType: "echo", tenant: "default", requiredCapabilities: ["cuda"], strategy: .capabilityMatch)
        #expect(scheduler.place(wantsCuda, on: nodes) == .placed(nodeID: "gpu"))
    }

    @Test("affinity_based co-locates with agents carrying the same labels")
    func affinity() {
        var scheduler = Scheduler()
        let nodes = [
            Self.node("a", agents: 0),
            Self.node("b", agents: 2, agentLabels: [["team": "risk"], ["team": "risk"]]),
        ]
        let request = PlacementRequest(agentType: "echo", tenant: "default", labels: ["team": "risk"], strategy: .affinityBased)
        #expect(scheduler.place(request, on: nodes) == .placed(nodeID: "b"))
    }

    @Test("constraints filter nodes whatever the strategy")
    func constraints() {
        for strategy in PlacementStrategy.allCases {
            var scheduler = Scheduler()
            let nodes = [
                Self.node("other-tenant", tenant: "t2"),
                Self.node("down", status: .down),
                Self.node("no-type", types: ["sleep"]),
                Self.node("full", agents: 2, maxAgents: 2),
                Self.node("small", cpu: 0.25),
                Self.node("wrong-label", labels: ["zone": "b"]),
                Self.node("ok", labels: ["zone": "a"]),
            ]
            let request = PlacementRequest(
                agentType: "echo", tenant: "default", resources: ResourceSpec(cpu: 0.5, memoryMB: 128),
                nodeSelector: ["zone": "a"], strategy: strategy
            )
            #expect(scheduler.place(request, on: nodes) == .placed(nodeID: "ok"), "strategy \(strategy)")
        }
    }

    @Test("the seed figures: a 4 CPU / 4 GB node holds 6 trading + 2 analysis + 4 risk agents at 1.5× CPU")
    func seedFigures() {
        // 6 × 0.5 + 2 × 1 + 4 × 0.25 = 6 CPU on 4 cores (1.5× overcommit); 3072 of 4096 MiB.
        var scheduler = Scheduler(cpuOvercommit: 1.5)
        var node = Self.node("n", cpu: 4, memory: 4096)
        let trading = ResourceSpec(cpu: 0.5, memoryMB: 256), analysis = ResourceSpec(cpu: 1, memoryMB: 512), risk = ResourceSpec(cpu: 0.25, memoryMB: 128)
        for resources in Array(repeating: trading, count: 6) + Array(repeating: analysis, count: 2) + Array(repeating: risk, count: 4) {
            let request = PlacementRequest(agentType: "echo", tenant: "default", resources: resources, strategy: .resourceOptimal)
            #expect(scheduler.place(request, on: [node]) == .placed(nodeID: "n"))
            node.allocated = node.allocated + resources
            node.agentCount += 1
        }
        let oneMore = PlacementRequest(agentType: "echo", tenant: "default", resources: risk)
        guard case .unplaceable(let failure) = scheduler.place(oneMore, on: [node]) else {
            Issue.record("a full node accepted another agent")
            return
        }
        #expect(failure.rejections == [.resourcesExhausted: 1])
        // Memory never overcommits.
        var strict = Scheduler(cpuOvercommit: 10)
        let big = PlacementRequest(agentType: "echo", tenant: "default", resources: ResourceSpec(cpu: 0, memoryMB: 1100))
        #expect(strict.place(big, on: [node]) == .unplaceable(PlacementFailure(agentType: "echo", nodesEvaluated: 1, rejections: [.resourcesExhausted: 1])))
    }

    @Test("min_cpu and min_memory rule out small nodes")
    func minimumNodeSize() {
        var scheduler = Scheduler()
        let nodes = [Self.node("small", cpu: 2, memory: 2048), Self.node("large", cpu: 16, memory: 65_536, agents: 9)]
        let request = PlacementRequest(agentType: "echo", tenant: "default", minNodeCapacity: ResourceSpec(cpu: 8, memoryMB: 16_384))
        #expect(scheduler.place(request, on: nodes) == .placed(nodeID: "large"))
    }

    @Test("anti_affinity keeps agents with the same labels apart")
    func antiAffinity() {
        var scheduler = Scheduler()
        let nodes = [
            Self.node("a", agents: 1, agentLabels: [["app": "risk"]]),
            Self.node("b", agents: 3, agentLabels: [["app": "other"], ["app": "other"], ["app": "other"]]),
        ]
        let request = PlacementRequest(agentType: "echo", tenant: "default", labels: ["app": "risk"], strategy: .antiAffinity)
        #expect(scheduler.place(request, on: nodes) == .placed(nodeID: "b"))
    }

    @Test("spread evens agents over the values of a node label")
    func spread() {
        var scheduler = Scheduler()
        var nodes = [
            Self.node("a1", labels: ["zone": "a"]), Self.node("a2", labels: ["zone": "a"]), Self.node("b1", labels: ["zone": "b"]),
        ]
        var zones: [String: Int] = [:]
        for _ in 0..<6 {
            let request = PlacementRequest(agentType: "echo", tenant: "default", labels: ["app": "x"], strategy: .spread, spreadBy: "zone")
            guard case .placed(let id) = scheduler.place(request, on: nodes), let index = nodes.firstIndex(where: { $0.nodeID == id }) else {
                Issue.record("no placement")
                return
            }
            nodes[index].agentCount += 1
            nodes[index].agentLabels.append(["app": "x"])
            zones[nodes[index].labels["zone"]!, default: 0] += 1
        }
        #expect(zones == ["a": 3, "b": 3])
    }

    @Test("nothing fits: the failure counts nodes by reason")
    func failureMessage() {
        var scheduler = Scheduler()
        let nodes = [Self.node("a", types: ["sleep"]), Self.node("b", types: ["sleep"]), Self.node("c", connected: false)]
        guard case .unplaceable(let failure) = scheduler.place(PlacementRequest(agentType: "trading_agent", tenant: "default"), on: nodes) else {
            Issue.record("expected no placement")
            return
        }
        #expect(failure.rejections == [.agentTypeMissing: 2, .notConnected: 1])
        #expect(failure.description == "no node can run agent type 'trading_agent': 3 evaluated; not connected to the gateway on 1 node, agent type not offered on 2 nodes")
        guard case .unplaceable(let empty) = scheduler.place(PlacementRequest(agentType: "x", tenant: "default"), on: []) else {
            Issue.record("expected no placement")
            return
        }
        #expect(empty.description.contains("no nodes are registered"))
    }
}
