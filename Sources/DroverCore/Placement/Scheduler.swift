import Foundation

/// Picks a node for an agent: feasibility (constraints) → fit (resources) → score (strategy).
///
/// A value type with no I/O. The only state is the round-robin cursor, which the caller keeps
/// by holding on to the scheduler between calls.
public struct Scheduler: Sendable {
    private var roundRobinCursor: Int = 0
    /// How many times its cores a node may promise in CPU requests. CPU is shared; memory and
    /// GPUs are not, so they never overcommit.
    public var cpuOvercommit: Double

    public init(cpuOvercommit: Double = 1) {
        self.cpuOvercommit = cpuOvercommit
    }

    /// The first reason `candidate` cannot take `request`, or `nil` if it can.
    public func rejection(of candidate: PlacementCandidate, for request: PlacementRequest) -> PlacementRejection? {
        Self.rejection(of: candidate, for: request, cpuOvercommit: cpuOvercommit)
    }

    /// The first reason `candidate` cannot take `request`, or `nil` if it can.
    public static func rejection(of candidate: PlacementCandidate, for request: PlacementRequest, cpuOvercommit: Double = 1) -> PlacementRejection? {
        if let preferred = request.preferredNode, preferred != candidate.nodeID { return .notPreferred }
        if !candidate.connected { return .notConnected }
        if !candidate.status.acceptsAgents { return .notActive }
        if candidate.tenant != request.tenant, !candidate.shared { return .otherTenant }
        if !candidate.agentTypes.contains(request.agentType) { return .agentTypeMissing }
        if !request.requiredCapabilities.allSatisfy(candidate.capabilities.contains) { return .capabilityMissing }
        if !request.nodeSelector.allSatisfy({ candidate.labels[$0.key] == $0.value }) { return .selectorMismatch }
        if !candidate.capacity.fits(request.minNodeCapacity) { return .nodeTooSmall }
        if candidate.agentCount >= candidate.maxAgents { return .agentLimit }
        var room = candidate.free
        room.cpu += candidate.capacity.cpu * (cpuOvercommit - 1)
        if !room.fits(request.resources) { return .resourcesExhausted }
        return nil
    }

    /// Chooses a node for `request` among `candidates`.
    public mutating func place(_ request: PlacementRequest, on candidates: [PlacementCandidate]) -> PlacementDecision {
        var feasible: [PlacementCandidate] = []
        var rejections: [PlacementRejection: Int] = [:]
        for candidate in candidates {
            if let reason = rejection(of: candidate, for: request) {
                rejections[reason, default: 0] += 1
            } else {
                feasible.append(candidate)
            }
        }
        guard !feasible.isEmpty else {
            return .unplaceable(PlacementFailure(agentType: request.agentType, nodesEvaluated: candidates.count, rejections: rejections))
        }
        // A stable order makes every strategy deterministic for the same snapshot.
        feasible.sort { $0.nodeID < $1.nodeID }
        let chosen: PlacementCandidate
        switch request.strategy {
        case .roundRobin:
            chosen = feasible[roundRobinCursor % feasible.count]
            roundRobinCursor &+= 1
        case .leastLoaded:
            chosen = feasible.min(by: Self.lessLoaded)!
        case .capabilityMatch:
            chosen = feasible.min { lhs, rhs in
                let left = Self.capabilityScore(lhs, request), right = Self.capabilityScore(rhs, request)
                return left != right ? left > right : Self.lessLoaded(lhs, rhs)
            }!
        case .resourceOptimal:
            chosen = feasible.min { lhs, rhs in
                let left = Self.leftover(lhs, request), right = Self.leftover(rhs, request)
                return left != right ? left < right : lhs.nodeID < rhs.nodeID
            }!
        case .affinityBased:
            chosen = feasible.min { lhs, rhs in
                let left = Self.affinity(lhs, request), right = Self.affinity(rhs, request)
                return left != right ? left > right : Self.lessLoaded(lhs, rhs)
            }!
        case .antiAffinity:
            chosen = feasible.min { lhs, rhs in
                let left = Self.affinity(lhs, request), right = Self.affinity(rhs, request)
                return left != right ? left < right : Self.lessLoaded(lhs, rhs)
            }!
        case .spread:
            // Agents like this one per value of the spread label, over every candidate (full ones too).
            let key = request.spreadBy ?? ""
            var perValue: [String: Int] = [:]
            for candidate in candidates { perValue[candidate.labels[key] ?? "", default: 0] += Self.affinity(candidate, request, everyAgent: true) }
            chosen = feasible.min { lhs, rhs in
                let left = perValue[lhs.labels[key] ?? ""] ?? 0, right = perValue[rhs.labels[key] ?? ""] ?? 0
                return left != right ? left < right : Self.lessLoaded(lhs, rhs)
            }!
        }
        return .placed(nodeID: chosen.nodeID)
    }

    // MARK: Scores

    static func lessLoaded(_ lhs: PlacementCandidate, _ rhs: PlacementCandidate) -> Bool {
        if lhs.agentCount != rhs.agentCount { return lhs.agentCount < rhs.agentCount }
        let left = utilisation(lhs), right = utilisation(rhs)
        if left != right { return left < right }
        return lhs.nodeID < rhs.nodeID
    }

    /// Fraction of CPU and memory in use, averaged over the dimensions the node has.
    static func utilisation(_ node: PlacementCandidate) -> Double {
        var parts: [Double] = []
        if node.capacity.cpu > 0 { parts.append(node.allocated.cpu / node.capacity.cpu) }
        if node.capacity.memoryMB > 0 { parts.append(node.allocated.memoryMB / node.capacity.memoryMB) }
        return parts.isEmpty ? 0 : parts.reduce(0, +) / Double(parts.count)
    }

    static func capabilityScore(_ node: PlacementCandidate, _ request: PlacementRequest) -> Int {
        request.requiredCapabilities.filter(node.capabilities.contains).count * 1000 - node.capabilities.count
    }

    /// Free room left after placing, normalised per dimension; smaller is a tighter fit.
    static func leftover(_ node: PlacementCandidate, _ request: PlacementRequest) -> Double {
        let after = node.free - request.resources
        var score = 0.0
        if node.capacity.cpu > 0 { score += after.cpu / node.capacity.cpu }
        if node.capacity.memoryMB > 0 { score += after.memoryMB / node.capacity.memoryMB }
        if node.capacity.gpu > 0 { score += Double(after.gpu) / Double(node.capacity.gpu) }
        return score
    }

    /// How many agents on the node share every label of the request (with `everyAgent`, an
    /// unlabelled request counts every agent).
    static func affinity(_ node: PlacementCandidate, _ request: PlacementRequest, everyAgent: Bool = false) -> Int {
        guard !request.labels.isEmpty else { return everyAgent ? node.agentCount : 0 }
        return node.agentLabels.filter { labels in request.labels.allSatisfy { labels[$0.key] == $0.value } }.count
    }
}
