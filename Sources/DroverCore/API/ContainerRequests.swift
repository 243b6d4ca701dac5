import Foundation

/// `POST /api/v1/cluster/containers/register`, the seed platform's HTTP registration.
public struct ContainerRegisterRequest: Codable, Sendable, Hashable {
    public var containerName: String
    public var hostAddress: String?
    public var apiPort: Int?
    public var capabilities: [String]?
    public var resources: [String: JSONValue]?
    public var metadata: [String: JSONValue]?
    public var orchestratorID: String?

    public init(
        containerName: String, hostAddress: String? = nil, apiPort: Int? = nil, capabilities: [String]? = nil,
        resources: [String: JSONValue]? = nil, metadata: [String: JSONValue]? = nil, orchestratorID: String? = nil
    ) {
        self.containerName = containerName
        self.hostAddress = hostAddress
        self.apiPort = apiPort
        self.capabilities = capabilities
        self.resources = resources
        self.metadata = metadata
        self.orchestratorID = orchestratorID
    }

    enum CodingKeys: String, CodingKey {
        case capabilities, resources, metadata
        case containerName = "container_name"
        case hostAddress = "host_address"
        case apiPort = "api_port"
        case orchestratorID = "orchestrator_id"
    }
}

/// `POST /api/v1/cluster/containers/{id}/heartbeat`.
public struct ContainerHeartbeatRequest: Codable, Sendable, Hashable {
    public var healthScore: Double?
    public var resources: [String: JSONValue]?
    public var activeAgents: Int?

    public init(healthScore: Double? = nil, resources: [String: JSONValue]? = nil, activeAgents: Int? = nil) {
        self.healthScore = healthScore
        self.resources = resources
        self.activeAgents = activeAgents
    }

    enum CodingKeys: String, CodingKey {
        case resources
        case healthScore = "health_score"
        case activeAgents = "active_agents"
    }
}

/// The answer to a container registration or heartbeat.
public struct ContainerRegisterResponse: Codable, Sendable, Hashable {
    public var containerID: String
    public var status: NodeStatus
    public var heartbeatIntervalSeconds: Double

    public init(containerID: String, status: NodeStatus, heartbeatIntervalSeconds: Double) {
        self.containerID = containerID
        self.status = status
        self.heartbeatIntervalSeconds = heartbeatIntervalSeconds
    }

    enum CodingKeys: String, CodingKey {
        case status
        case containerID = "container_id"
        case heartbeatIntervalSeconds = "heartbeat_interval_s"
    }
}
