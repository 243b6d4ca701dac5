import DroverCore
import Testing

@Suite("Placement index")
struct PlacementIndexTests {
    /// A deterministic random source, so a failure can be replayed.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func cluster(nodes: Int, random: inout SplitMix) -> [PlacementCandidate] {
        let shapes: [(cpu: Double, memory: Double, caps: Set<String>, zone: String)] = [
            (4, 4096, [], "a"), (8, 16_384, ["gpu"], "b"), (2, 2048, ["fast"], "a"), (16, 32_768, ["gpu", "fast"], "c"),
        ]
        return (0..<nodes).map { index in
            let shape = shapes[Int.random(in: 0..<shapes.count, using: &random)]
            return PlacementCandidate(
                nodeID: "node-\(String(index, radix: 10).leftPadded(to: 5))", tenant: index % 7 == 0 ? "other" : "default",
                status: index % 11 == 0 ? .draining : .active, connected: true, agentTypes: ["echo", "trading"],
                capabilities: shape.caps, labels: ["zone": shape.zone], capacity: ResourceSpec(cpu: shape.cpu, memoryMB: shape.memory),
                maxAgents: 40
            )
        }
    }

    @Test("the index makes the same decisions as the scheduler", arguments: [PlacementStrategy.leastLoaded, .resourceOptimal, .capabilityMatch, .affinityBased, .antiAffinity, .spread])
    func sameDecisions(strategy: PlacementStrategy) {
        var random = SplitMix(state: 42)
        var nodes = Self.cluster(nodes: 120, random: &random)
        var index = PlacementIndex(candidates: nodes, cpuOvercommit: 1.5)
        var scheduler = Scheduler(cpuOvercommit: 1.5)
        let sizes = [ResourceSpec(cpu: 0.5, memoryMB: 256), ResourceSpec(cpu: 1, memoryMB: 512), ResourceSpec(cpu: 0.25, memoryMB: 128)]
        var placed = 0
        for step in 0..<4000 {
            let request = PlacementRequest(
                agentType: step % 5 == 0 ? "trading" : "echo", tenant: "default", resources: sizes[Int.random(in: 0..<3, using: &random)],
                requiredCapabilities: step % 9 == 0 ? ["gpu"] : [], labels: step % 4 == 0 ? [:] : ["team": "t\(step % 3)"],
                strategy: strategy, spreadBy: "zone"
            )
            let expected = scheduler.place(request, on: nodes)
            let actual = index.place(request)
            #expect(actual == expected, "step \(step)")
            guard actual == expected else { return }
            if case .placed(let id) = expected, let slot = nodes.firstIndex(where: { $0.nodeID == id }) {
                nodes[slot].allocated = nodes[slot].allocated + request.resources
                nodes[slot].agentCount += 1
                if !request.labels.isEmpty { nodes[slot].agentLabels.append(request.labels) }
                placed += 1
            }
        }
        #expect(placed > 1000)
        #expect(placed < 4000, "the cluster should fill up so that refusals are compared too")
    }

    @Test("round_robin takes each feasible node in turn")
    func roundRobin() {
        let nodes = (0..<10).map {
            PlacementCandidate(
                nodeID: "n\($0)", tenant: "default", status: .active, connected: true, agentTypes: ["echo"], capabilities: [],
                labels: [:], capacity: ResourceSpec(cpu: 4, memoryMB: 4096), maxAgents: 3
            )
        }
        var index = PlacementIndex(candidates: nodes)
        var counts: [String: Int] = [:]
        for _ in 0..<30 {
            guard case .placed(let id) = index.place(PlacementRequest(agentType: "echo", tenant: "default", strategy: .roundRobin)) else {
                Issue.record("no placement")
                return
            }
            counts[id, default: 0] += 1
        }
        #expect(counts.count == 10)
        #expect(counts.values.allSatisfy { $0 == 3 })
        #expect(index.place(PlacementRequest(agentType: "echo", tenant: "default", strategy: .roundRobin)) != .placed(nodeID: "n0"))
    }

    @Test("a preferred node and refusals behave as in the scheduler")
    func preferredAndRefusals() {
        var random = SplitMix(state: 7)
        var index = PlacementIndex(candidates: Self.cluster(nodes: 10, random: &random))
        #expect(index.place(PlacementRequest(agentType: "echo", tenant: "default", preferredNode: "node-00001")) == .placed(nodeID: "node-00001"))
        guard case .unplaceable(let failure) = index.place(PlacementRequest(agentType: "nope", tenant: "default")) else {
            Issue.record("placed an agent type no node offers")
            return
        }
        #expect(failure.rejections[.agentTypeMissing] != nil)
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
