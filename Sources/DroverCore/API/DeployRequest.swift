import Foundation

/// `POST /api/v1/cluster/agents/deploy`.
///
/// Field names follow the seed platform: `agent_type`, `agent_config`, `deployment_strategy`,
/// `preferred_container`, `orchestrator_id` (the tenant).
public struct DeployRequest: Codable, Sendable, Hashable {
    public var agentType: String
    public var agentConfig: JSONValue?
    public var deploymentStrategy: PlacementStrategy?
    public var preferredContainer: String?
    public var orchestratorID: String?
    public var resourceRequirements: ResourceSpec?
    public var requiredCapabilities: [String]?
    public var nodeSelector: [String: String]?
    public var labels: [String: String]?
    /// The seed's constraints: `min_memory` (MiB), `min_cpu` (cores), `required_capabilities`.
    public var constraints: DeployConstraints?
    /// For `deployment_strategy: spread`: the node label to spread over (e.g. `zone`).
    public var spreadBy: String?
    /// How many agents of this spec to place in one call (1 to 10,000): all of them or none.
    /// With it, the answer is a list (`{"items": [...]}`) instead of one agent.
    public var replicas: Int?

    public init(
        agentType: String, agentConfig: JSONValue? = nil, deploymentStrategy: PlacementStrategy? = nil,
        preferredContainer: String? = nil, orchestratorID: String? = nil, resourceRequirements: ResourceSpec? = nil,
        requiredCapabilities: [String]? = nil, nodeSelector: [String: String]? = nil, labels: [String: String]? = nil,
        constraints: DeployConstraints? = nil, spreadBy: String? = nil
    ) {
        self.constraints = constraints
        self.spreadBy = spreadBy
        self.agentType = agentType
        self.agentConfig = agentConfig
        self.deploymentStrategy = deploymentStrategy
        self.preferredContainer = preferredContainer
        self.orchestratorID = orchestratorID
        self.resourceRequirements = resourceRequirements
        self.requiredCapabilities = requiredCapabilities
        self.nodeSelector = nodeSelector
        self.labels = labels
    }

    enum CodingKeys: String, CodingKey {
        case labels, constraints, replicas
        case spreadBy = "spread_by"
        case agentType = "agent_type"
        case agentConfig = "agent_config"
        case deploymentStrategy = "deployment_strategy"
        case preferredContainer = "preferred_container"
        case orchestratorID = "orchestrator_id"
        case resourceRequirements = "resource_requirements"
        case requiredCapabilities = "required_capabilities"
        case nodeSelector = "node_selector"
    }
}

/// The seed platform's placement constraints.
public struct DeployConstraints: Codable, Sendable, Hashable {
    /// Smallest node memory in MiB.
    public var minMemory: Double?
    /// Fewest node CPU cores.
    public var minCPU: Double?
    public var requiredCapabilities: [String]?

    public init(minMemory: Double? = nil, minCPU: Double? = nil, requiredCapabilities: [String]? = nil) {
        self.minMemory = minMemory
        self.minCPU = minCPU
        self.requiredCapabilities = requiredCapabilities
    }

    enum CodingKeys: String, CodingKey {
        case minMemory = "min_memory"
        case minCPU = "min_cpu"
        case requiredCapabilities = "required_capabilities"
    }
}
