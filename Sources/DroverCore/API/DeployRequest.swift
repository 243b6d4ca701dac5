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

    public init(
        agentType: String, agentConfig: JSONValue? = nil, deploymentStrategy: PlacementStrategy? = nil,
        preferredContainer: String? = nil, orchestratorID: String? = nil, resourceRequirements: ResourceSpec? = nil,
        requiredCapabilities: [String]? = nil, nodeSelector: [String: String]? = nil, labels: [String: String]? = nil
    ) {
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
        case labels
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
