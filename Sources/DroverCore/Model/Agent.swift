import Foundation

/// What the user wants for an agent. The reconciler converges the cluster toward it.
public enum DesiredState: String, Codable, Sendable {
    case running
    case stopped
}

/// What the cluster last saw of an agent.
public enum AgentStatus: String, Codable, Sendable, CaseIterable {
    /// Accepted, waiting for a node (none fits, or the chosen one has not started it yet).
    case pending
    /// The node is starting it.
    case starting
    case running
    /// Crashed past its restart limit.
    case failed
    case stopped
}

/// An agent as the manager records it: desired state, placement and last checkpoint.
public struct AgentRecord: Codable, Sendable, Hashable {
    public var id: String
    public var agentType: String
    public var tenant: String
    public var config: JSONValue
    /// The node the agent is placed on, if any.
    public var nodeID: String?
    /// Fencing token: bumped on every placement. A node runs only the newest generation.
    public var generation: Int
    public var desiredState: DesiredState
    public var status: AgentStatus
    /// The last state the agent checkpointed; given back to it when it starts anywhere.
    public var state: JSONValue?
    public var resources: ResourceSpec
    public var requiredCapabilities: [String]
    public var nodeSelector: [String: String]
    public var labels: [String: String]
    public var strategy: PlacementStrategy
    public var preferredNode: String?
    public var restarts: Int
    public var lastError: String?
    /// Nodes where the agent crashed past its restart limit; it is not placed there again.
    public var failedNodes: [String]?
    /// The smallest node (by total capacity) the agent accepts.
    public var minNodeCapacity: ResourceSpec?
    /// For the `spread` strategy: the node label to spread over.
    public var spreadBy: String?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String, agentType: String, tenant: String, config: JSONValue = .object([:]), nodeID: String? = nil,
        generation: Int = 0, desiredState: DesiredState = .running, status: AgentStatus = .pending,
        state: JSONValue? = nil, resources: ResourceSpec = .zero, requiredCapabilities: [String] = [],
        nodeSelector: [String: String] = [:], labels: [String: String] = [:],
        strategy: PlacementStrategy = .leastLoaded, preferredNode: String? = nil, restarts: Int = 0,
        lastError: String? = nil, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.agentType = agentType
        self.tenant = tenant
        self.config = config
        self.nodeID = nodeID
        self.generation = generation
        self.desiredState = desiredState
        self.status = status
        self.state = state
        self.resources = resources
        self.requiredCapabilities = requiredCapabilities
        self.nodeSelector = nodeSelector
        self.labels = labels
        self.strategy = strategy
        self.preferredNode = preferredNode
        self.restarts = restarts
        self.lastError = lastError
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case id, tenant, config, generation, status, state, resources, labels, restarts
        case agentType = "agent_type"
        case nodeID = "node_id"
        case desiredState = "desired_state"
        case requiredCapabilities = "required_capabilities"
        case nodeSelector = "node_selector"
        case strategy = "deployment_strategy"
        case preferredNode = "preferred_node"
        case lastError = "last_error"
        case failedNodes = "failed_nodes"
        case minNodeCapacity = "min_node_capacity"
        case spreadBy = "spread_by"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}
