import Foundation

/// What the scheduler knows of one node when it places an agent.
public struct PlacementCandidate: Sendable, Hashable {
    public var nodeID: String
    public var tenant: String
    public var status: NodeStatus
    /// Only nodes connected over the gateway can start agents.
    public var connected: Bool
    public var agentTypes: Set<String>
    public var capabilities: Set<String>
    public var labels: [String: String]
    public var capacity: ResourceSpec
    /// Resources of the agents already placed on the node.
    public var allocated: ResourceSpec
    public var agentCount: Int
    public var maxAgents: Int
    /// Labels of the agents already on the node, for affinity.
    public var agentLabels: [[String: String]]
    /// Agents of any tenant may be placed here (an admin marked the node shared).
    public var shared: Bool

    public init(
        nodeID: String, tenant: String, status: NodeStatus, connected: Bool, agentTypes: Set<String>,
        capabilities: Set<String>, labels: [String: String], capacity: ResourceSpec, allocated: ResourceSpec = .zero,
        agentCount: Int = 0, maxAgents: Int, agentLabels: [[String: String]] = [], shared: Bool = false
    ) {
        self.shared = shared
        self.nodeID = nodeID
        self.tenant = tenant
        self.status = status
        self.connected = connected
        self.agentTypes = agentTypes
        self.capabilities = capabilities
        self.labels = labels
        self.capacity = capacity
        self.allocated = allocated
        self.agentCount = agentCount
        self.maxAgents = maxAgents
        self.agentLabels = agentLabels
    }

    /// What is left on the node.
    public var free: ResourceSpec { capacity - allocated }
}

/// What an agent needs from a node.
public struct PlacementRequest: Sendable, Hashable {
    public var agentType: String
    public var tenant: String
    public var resources: ResourceSpec
    public var requiredCapabilities: [String]
    public var nodeSelector: [String: String]
    public var labels: [String: String]
    public var preferredNode: String?
    public var strategy: PlacementStrategy
    /// The smallest node (by total capacity) the agent accepts: the seed's `min_cpu`, `min_memory`.
    public var minNodeCapacity: ResourceSpec
    /// For `spread`: the node label whose values the agents are spread over.
    public var spreadBy: String?

    public init(
        agentType: String, tenant: String, resources: ResourceSpec = .zero, requiredCapabilities: [String] = [],
        nodeSelector: [String: String] = [:], labels: [String: String] = [:], preferredNode: String? = nil,
        strategy: PlacementStrategy = .leastLoaded, minNodeCapacity: ResourceSpec = .zero, spreadBy: String? = nil
    ) {
        self.minNodeCapacity = minNodeCapacity
        self.spreadBy = spreadBy
        self.agentType = agentType
        self.tenant = tenant
        self.resources = resources
        self.requiredCapabilities = requiredCapabilities
        self.nodeSelector = nodeSelector
        self.labels = labels
        self.preferredNode = preferredNode
        self.strategy = strategy
    }

    public init(agent: AgentRecord) {
        self.init(
            agentType: agent.agentType, tenant: agent.tenant, resources: agent.resources,
            requiredCapabilities: agent.requiredCapabilities, nodeSelector: agent.nodeSelector, labels: agent.labels,
            preferredNode: agent.preferredNode, strategy: agent.strategy, minNodeCapacity: agent.minNodeCapacity ?? .zero,
            spreadBy: agent.spreadBy
        )
    }
}

/// Why a node could not take an agent. Reported as counts, like Nomad's placement failures.
public enum PlacementRejection: String, Sendable, Hashable, CaseIterable, Comparable {
    case notConnected = "not connected to the gateway"
    case notActive = "not active"
    case otherTenant = "owned by another tenant"
    case notPreferred = "not the preferred node"
    case agentTypeMissing = "agent type not offered"
    case capabilityMissing = "required capability missing"
    case selectorMismatch = "node selector not matched"
    case nodeTooSmall = "node smaller than min_cpu/min_memory"
    case agentLimit = "max_agents reached"
    case resourcesExhausted = "resources exhausted"

    public static func < (lhs: Self, rhs: Self) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// The scheduler's answer: a node, or the reasons no node fits.
public enum PlacementDecision: Sendable, Hashable {
    case placed(nodeID: String)
    case unplaceable(PlacementFailure)
}

/// Why an agent could not be placed, node by node class.
public struct PlacementFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public var agentType: String
    public var nodesEvaluated: Int
    /// How many nodes were filtered for each reason (the first reason that applied).
    public var rejections: [PlacementRejection: Int]

    public init(agentType: String, nodesEvaluated: Int, rejections: [PlacementRejection: Int]) {
        self.agentType = agentType
        self.nodesEvaluated = nodesEvaluated
        self.rejections = rejections
    }

    /// Whether waiting may help: every node that was ruled out was only away (not connected,
    /// not active) or full, or no node has registered yet. A type no node offers, a missing
    /// capability, a selector or size that rules nodes out, or another tenant, will not change by waiting.
    public var isTransient: Bool {
        let passing: Set<PlacementRejection> = [.notConnected, .notActive, .agentLimit, .resourcesExhausted]
        return nodesEvaluated == 0 || rejections.keys.allSatisfy { passing.contains($0) }
    }

    public var description: String {
        if nodesEvaluated == 0 {
            return "no node can run agent type '\(agentType)': no nodes are registered"
        }
        let parts = rejections.sorted { $0.key < $1.key }.map { "\($0.key.rawValue) on \($0.value) \($0.value == 1 ? "node" : "nodes")" }
        return "no node can run agent type '\(agentType)': \(nodesEvaluated) evaluated; " + parts.joined(separator: ", ")
    }
}
