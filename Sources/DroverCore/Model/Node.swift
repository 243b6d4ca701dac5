import Foundation

/// Where a node is in its life. A node moves `registering → active`, may become `suspect`
/// when heartbeats are late and `down` when they stop for the grace period; `draining`
/// takes no new agents.
public enum NodeStatus: String, Codable, Sendable, CaseIterable {
    case registering
    case active
    case suspect
    case draining
    case down

    /// Whether new agents may be placed on a node in this state.
    public var acceptsAgents: Bool { self == .active }
}

/// How a node talks to the manager.
public enum NodeConnectionKind: String, Codable, Sendable {
    /// The node dialled the gateway WebSocket; the manager can start agents on it.
    case websocket
    /// Registered through the seed-compatible HTTP endpoints; it reports but takes no agents.
    case http
}

/// An agent type a node can run, as the node's catalog declares it.
public struct AgentTypeInfo: Codable, Sendable, Hashable {
    public var name: String
    public var driver: String
    /// Default resources of one agent of this type.
    public var resources: ResourceSpec

    public init(name: String, driver: String, resources: ResourceSpec = .zero) {
        self.name = name
        self.driver = driver
        self.resources = resources
    }
}

/// A node as the manager records it.
public struct NodeRecord: Codable, Sendable, Hashable {
    public var id: String
    public var tenant: String
    public var name: String
    public var hostAddress: String
    public var apiPort: Int
    public var capabilities: [String]
    public var labels: [String: String]
    public var agentTypes: [AgentTypeInfo]
    public var resources: NodeResources
    public var maxAgents: Int
    public var status: NodeStatus
    public var connection: NodeConnectionKind
    public var healthScore: Double?
    public var metadata: [String: JSONValue]
    public var registeredAt: Date
    public var lastHeartbeat: Date
    /// Changes every time the node process starts; tells a restart from a reconnect.
    public var incarnation: String
    /// Set by an admin: agents of any tenant may be placed here. `nil` means not shared.
    public var shared: Bool?

    /// Whether agents of tenants other than the node's own may be placed here.
    public var isShared: Bool { shared ?? false }

    public init(
        id: String, tenant: String, name: String, hostAddress: String, apiPort: Int,
        capabilities: [String] = [], labels: [String: String] = [:], agentTypes: [AgentTypeInfo] = [],
        resources: NodeResources, maxAgents: Int, status: NodeStatus, connection: NodeConnectionKind,
        healthScore: Double? = nil, metadata: [String: JSONValue] = [:], registeredAt: Date, lastHeartbeat: Date,
        incarnation: String, shared: Bool? = nil
    ) {
        self.shared = shared
        self.id = id
        self.tenant = tenant
        self.name = name
        self.hostAddress = hostAddress
        self.apiPort = apiPort
        self.capabilities = capabilities
        self.labels = labels
        self.agentTypes = agentTypes
        self.resources = resources
        self.maxAgents = maxAgents
        self.status = status
        self.connection = connection
        self.healthScore = healthScore
        self.metadata = metadata
        self.registeredAt = registeredAt
        self.lastHeartbeat = lastHeartbeat
        self.incarnation = incarnation
    }

    enum CodingKeys: String, CodingKey {
        case id, tenant, name, capabilities, labels, resources, status, connection, metadata, incarnation, shared
        case hostAddress = "host_address"
        case apiPort = "api_port"
        case agentTypes = "agent_types"
        case maxAgents = "max_agents"
        case healthScore = "health_score"
        case registeredAt = "registered_at"
        case lastHeartbeat = "last_heartbeat"
    }
}
