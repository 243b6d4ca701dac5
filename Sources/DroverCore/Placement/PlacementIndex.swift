import Foundation

/// Places agents fast on a large cluster: the same decisions as `Scheduler`, without looking
/// at every node for every agent.
///
/// Nodes with identical constraints (tenant, status, agent types, capabilities, labels,
/// capacity, `max_agents`) form a class. A request's static constraints are checked once per
/// class and cached; inside a class a heap orders the nodes for the strategy, with stale
/// entries dropped lazily and nodes that did not fit parked until a smaller request comes.
/// The label strategies keep, per node, how many agents carry each label set, so
/// `affinity_based` and `anti_affinity` get a heap of their own per label set, and `spread`
/// keeps a count per value of the spread label.
public struct PlacementIndex: Sendable {
    /// Every node, by slot; placements update them.
    public private(set) var nodes: [PlacementCandidate]
    public let cpuOvercommit: Double
    private var slotByID: [String: Int] = [:]
    private var classes: [NodeClass] = []
    private var versions: [UInt32]
    private var classOfSlot: [Int]
    private var feasibleClasses: [RequestShape: [Int]] = [:]
    private var roundRobinCursor: [RequestShape: Int] = [:]
    private var roundRobinSlots: [RequestShape: [Int]] = [:]
    private var fallback: Scheduler
    /// Per slot: how many agents carry each label set.
    private var labelCounts: [[[String: String]: Int]]
    /// For `spread`: agents matching a label set, per value of the spread label.
    private var spreadCounts: [SpreadKey: [String: Int]] = [:]

    public init(candidates: [PlacementCandidate], cpuOvercommit: Double = 1) {
        nodes = candidates.sorted { $0.nodeID < $1.nodeID }
        self.cpuOvercommit = cpuOvercommit
        versions = Array(repeating: 0, count: nodes.count)
        classOfSlot = Array(repeating: 0, count: nodes.count)
        fallback = Scheduler(cpuOvercommit: cpuOvercommit)
        labelCounts = nodes.map { node in node.agentLabels.reduce(into: [:]) { $0[$1, default: 0] += 1 } }
        var classByKey: [ClassKey: Int] = [:]
        for (slot, node) in nodes.enumerated() {
            slotByID[node.nodeID] = slot
            let key = ClassKey(node)
            if let existing = classByKey[key] {
                classes[existing].slots.append(slot)
                classOfSlot[slot] = existing
            } else {
                classOfSlot[slot] = classes.count
                classByKey[key] = classes.count
                classes.append(NodeClass(representative: node, slots: [slot]))
            }
        }
    }

    /// Chooses a node for `request` and counts the agent against it.
    public mutating func place(_ request: PlacementRequest) -> PlacementDecision {
        if let preferred = request.preferredNode {
            guard let slot = slotByID[preferred], fits(slot, request) else {
                return fallbackDecision(request)
            }
            commit(slot, request)
            return .placed(nodeID: preferred)
        }
        let shape = RequestShape(request)
        let classIndexes = feasibleClasses[shape] ?? cacheFeasibleClasses(shape, request)
        var best: (slot: Int, classIndex: Int)?
        switch request.strategy {
        case .spread:
            let key = SpreadKey(label: request.spreadBy ?? "", labels: request.labels)
            if spreadCounts[key] == nil { spreadCounts[key] = initialSpreadCounts(key) }
            let counts = spreadCounts[key] ?? [:]
            var bestCount = Int.max
            for classIndex in classIndexes {
                let count = counts[classes[classIndex].representative.labels[key.label] ?? ""] ?? 0
                guard count <= bestCount, let slot = top(of: classIndex, ordering: .emptiest, request: request) else { continue }
                if count < bestCount || best.map({ Scheduler.lessLoaded(nodes[slot], nodes[$0.slot]) }) == true {
                    best = (slot, classIndex)
                    bestCount = count
                }
            }
        case .roundRobin:
            let slots = roundRobinSlots[shape] ?? classIndexes.flatMap { classes[$0].slots }.sorted()
            roundRobinSlots[shape] = slots
            var cursor = roundRobinCursor[shape] ?? 0
            for step in 0..<slots.count {
                let slot = slots[(cursor + step) % slots.count]
                if fits(slot, request) {
                    best = (slot, classOfSlot[slot])
                    cursor = (cursor + step + 1) % max(slots.count, 1)
                    break
                }
            }
            roundRobinCursor[shape] = cursor
        case .leastLoaded, .capabilityMatch, .resourceOptimal, .affinityBased, .antiAffinity:
            let ordering: Ordering
            switch request.strategy {
            case .resourceOptimal: ordering = .tightest
            case .affinityBased: ordering = request.labels.isEmpty ? .emptiest : .labelled(request.labels, sign: -1)
            case .antiAffinity: ordering = request.labels.isEmpty ? .emptiest : .labelled(request.labels, sign: 1)
            default: ordering = .emptiest
            }
            for classIndex in classIndexes {
                guard let slot = top(of: classIndex, ordering: ordering, request: request) else { continue }
                if let current = best {
                    if better(slot, than: current.slot, for: request) { best = (slot, classIndex) }
                } else {
                    best = (slot, classIndex)
                }
            }
        }
        guard let chosen = best else { return fallbackDecision(request) }
        commit(chosen.slot, request)
        return .placed(nodeID: nodes[chosen.slot].nodeID)
    }

    /// Counts an agent placed by other means (a preferred or excluded-node decision) against `nodeID`.
    public mutating func reserve(_ request: PlacementRequest, onNode nodeID: String) {
        guard let slot = slotByID[nodeID] else { return }
        commit(slot, request)
    }

    // MARK: Classes and heaps

    private struct ClassKey: Hashable {
        var tenant: String
        var shared: Bool
        var status: NodeStatus
        var connected: Bool
        var agentTypes: Set<String>
        var capabilities: Set<String>
        var labels: [String: String]
        var capacity: ResourceSpec
        var maxAgents: Int

        init(_ node: PlacementCandidate) {
            tenant = node.tenant
            shared = node.shared
            status = node.status
            connected = node.connected
            agentTypes = node.agentTypes
            capabilities = node.capabilities
            labels = node.labels
            capacity = node.capacity
            maxAgents = node.maxAgents
        }
    }

    private struct RequestShape: Hashable {
        var agentType: String
        var tenant: String
        var capabilities: [String]
        var selector: [String: String]
        var minimum: ResourceSpec

        init(_ request: PlacementRequest) {
            agentType = request.agentType
            tenant = request.tenant
            capabilities = request.requiredCapabilities
            selector = request.nodeSelector
            minimum = request.minNodeCapacity
        }
    }

    private enum Ordering: Hashable {
        /// Fewest agents, then lowest use: `least_loaded`, `capability_match`.
        case emptiest
        /// Highest use first (best fit): `resource_optimal`.
        case tightest
        /// Agents sharing these labels first (`sign` -1, affinity) or last (`sign` 1, anti-affinity), then fewest agents.
        case labelled([String: String], sign: Int)
    }

    private struct SpreadKey: Hashable {
        var label: String
        var labels: [String: String]
    }

    private struct NodeClass: Sendable {
        var representative: PlacementCandidate
        var slots: [Int]
        var heaps: [Ordering: SlotHeap] = [:]
        var parked: [Ordering: [Int]] = [:]
        /// The most room any parked node has, per dimension: a request bigger than this fits none.
        var parkedRoom: [Ordering: ResourceSpec] = [:]
    }

    private mutating func cacheFeasibleClasses(_ shape: RequestShape, _ request: PlacementRequest) -> [Int] {
        var probe = request
        probe.resources = .zero
        let indexes = classes.indices.filter { index in
            var node = classes[index].representative
            node.agentCount = 0
            node.allocated = .zero
            return Scheduler.rejection(of: node, for: probe) == nil
        }
        feasibleClasses[shape] = indexes
        return indexes
    }

    /// The best node of a class for `ordering` that fits `request`, or `nil`.
    private mutating func top(of classIndex: Int, ordering: Ordering, request: PlacementRequest) -> Int? {
        if classes[classIndex].heaps[ordering] == nil {
            var heap = SlotHeap()
            for slot in classes[classIndex].slots { heap.push(key(slot, ordering), slot: slot, version: versions[slot]) }
            classes[classIndex].heaps[ordering] = heap
        }
        // A smaller request than the parked nodes were refused for: give them another chance.
        if let room = classes[classIndex].parkedRoom[ordering], room.fits(request.resources), let parked = classes[classIndex].parked[ordering] {
            for slot in parked {
                let entryKey = key(slot, ordering), version = versions[slot]
                classes[classIndex].heaps[ordering]?.push(entryKey, slot: slot, version: version)
            }
            classes[classIndex].parked[ordering] = []
            classes[classIndex].parkedRoom[ordering] = nil
        }
        while let entry = classes[classIndex].heaps[ordering]?.peek() {
            if entry.version != versions[entry.slot] {
                _ = classes[classIndex].heaps[ordering]?.pop()
                continue
            }
            if fits(entry.slot, request) { return entry.slot }
            _ = classes[classIndex].heaps[ordering]?.pop()
            let node = nodes[entry.slot]
            if node.agentCount < node.maxAgents {
                classes[classIndex].parked[ordering, default: []].append(entry.slot)
                let room = room(entry.slot)
                let previous = classes[classIndex].parkedRoom[ordering] ?? room
                classes[classIndex].parkedRoom[ordering] = ResourceSpec(
                    cpu: max(previous.cpu, room.cpu), memoryMB: max(previous.memoryMB, room.memoryMB), gpu: max(previous.gpu, room.gpu)
                )
            }
        }
        return nil
    }

    private func key(_ slot: Int, _ ordering: Ordering) -> (Double, Double) {
        let node = nodes[slot]
        switch ordering {
        case .labelled(let labels, let sign):
            // Agent count and use folded into one number below 1, so the label count decides first.
            let load = (Double(node.agentCount) + Scheduler.utilisation(node) / 2) / Double(node.maxAgents + 1)
            return (Double(sign * affinity(slot, labels)), load)
        case .emptiest: return (Double(node.agentCount), Scheduler.utilisation(node))
        case .tightest:
            // Σ free/capacity per dimension: within a class (equal capacity) this orders nodes
            // exactly as `Scheduler.leftover` does.
            var score = 0.0
            if node.capacity.cpu > 0 { score += node.free.cpu / node.capacity.cpu }
            if node.capacity.memoryMB > 0 { score += node.free.memoryMB / node.capacity.memoryMB }
            if node.capacity.gpu > 0 { score += Double(node.free.gpu) / Double(node.capacity.gpu) }
            return (score, 0)
        }
    }

    private func better(_ slot: Int, than other: Int, for request: PlacementRequest) -> Bool {
        let lhs = nodes[slot], rhs = nodes[other]
        switch request.strategy {
        case .resourceOptimal:
            let left = Scheduler.leftover(lhs, request), right = Scheduler.leftover(rhs, request)
            return left != right ? left < right : lhs.nodeID < rhs.nodeID
        case .capabilityMatch:
            let left = Scheduler.capabilityScore(lhs, request), right = Scheduler.capabilityScore(rhs, request)
            return left != right ? left > right : Scheduler.lessLoaded(lhs, rhs)
        case .affinityBased, .antiAffinity:
            let left = affinity(slot, request.labels), right = affinity(other, request.labels)
            if left != right { return request.strategy == .affinityBased ? left > right : left < right }
            return Scheduler.lessLoaded(lhs, rhs)
        default:
            return Scheduler.lessLoaded(lhs, rhs)
        }
    }

    /// Agents on the node whose labels include every one of `labels` (as `Scheduler.affinity`).
    private func affinity(_ slot: Int, _ labels: [String: String]) -> Int {
        guard !labels.isEmpty else { return 0 }
        var count = 0
        for (carried, number) in labelCounts[slot] where labels.allSatisfy({ carried[$0.key] == $0.value }) { count += number }
        return count
    }

    private func initialSpreadCounts(_ key: SpreadKey) -> [String: Int] {
        var counts: [String: Int] = [:]
        for slot in nodes.indices {
            let matching = key.labels.isEmpty ? nodes[slot].agentCount : affinity(slot, key.labels)
            counts[nodes[slot].labels[key.label] ?? "", default: 0] += matching
        }
        return counts
    }

    private func room(_ slot: Int) -> ResourceSpec {
        var room = nodes[slot].free
        room.cpu += nodes[slot].capacity.cpu * (cpuOvercommit - 1)
        return room
    }

    private func fits(_ slot: Int, _ request: PlacementRequest) -> Bool {
        fallback.rejection(of: nodes[slot], for: request) == nil
    }

    private mutating func commit(_ slot: Int, _ request: PlacementRequest) {
        nodes[slot].allocated = nodes[slot].allocated + request.resources
        nodes[slot].agentCount += 1
        if !request.labels.isEmpty { nodes[slot].agentLabels.append(request.labels) }
        labelCounts[slot][request.labels, default: 0] += 1
        for key in Array(spreadCounts.keys) where key.labels.allSatisfy({ request.labels[$0.key] == $0.value }) {
            spreadCounts[key]?[nodes[slot].labels[key.label] ?? "", default: 0] += 1
        }
        versions[slot] &+= 1
        let classIndex = classOfSlot[slot]
        for ordering in Array(classes[classIndex].heaps.keys) {
            let entryKey = key(slot, ordering), version = versions[slot]
            classes[classIndex].heaps[ordering]?.push(entryKey, slot: slot, version: version)
        }
    }

    /// The scheduler's own answer, with its reasons, when the index finds nothing.
    private mutating func fallbackDecision(_ request: PlacementRequest) -> PlacementDecision {
        let decision = fallback.place(request, on: nodes)
        if case .placed(let nodeID) = decision, let slot = slotByID[nodeID] { commit(slot, request) }
        return decision
    }
}

/// A binary min-heap of node slots with a two-part key and a version for lazy deletion.
struct SlotHeap: Sendable {
    struct Entry: Sendable {
        var key: (Double, Double)
        var slot: Int
        var version: UInt32
    }

    private var entries: [Entry] = []

    var isEmpty: Bool { entries.isEmpty }

    func peek() -> Entry? { entries.first }

    mutating func push(_ key: (Double, Double), slot: Int, version: UInt32) {
        entries.append(Entry(key: key, slot: slot, version: version))
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard less(entries[child], entries[parent]) else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Entry? {
        guard !entries.isEmpty else { return nil }
        entries.swapAt(0, entries.count - 1)
        let top = entries.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < entries.count, less(entries[left], entries[smallest]) { smallest = left }
            if right < entries.count, less(entries[right], entries[smallest]) { smallest = right }
            guard smallest != parent else { break }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }

    private func less(_ lhs: Entry, _ rhs: Entry) -> Bool {
        if lhs.key.0 != rhs.key.0 { return lhs.key.0 < rhs.key.0 }
        if lhs.key.1 != rhs.key.1 { return lhs.key.1 < rhs.key.1 }
        return lhs.slot < rhs.slot
    }
}
