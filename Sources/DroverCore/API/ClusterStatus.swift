import Foundation

/// `GET /api/v1/cluster/status`: counts of nodes and agents by status, and capacity.
public struct ClusterStatus: Codable, Sendable, Hashable {
    public var version: String
    public var nodes: [String: Int]
    public var agents: [String: Int]
    public var openTasks: Int
    public var capacity: ResourceSpec
    public var allocated: ResourceSpec
    public var uptimeSeconds: Double

    public init(
        version: String, nodes: [String: Int], agents: [String: Int], openTasks: Int, capacity: ResourceSpec,
        allocated: ResourceSpec, uptimeSeconds: Double
    ) {
        self.version = version
        self.nodes = nodes
        self.agents = agents
        self.openTasks = openTasks
        self.capacity = capacity
        self.allocated = allocated
        self.uptimeSeconds = uptimeSeconds
    }

    enum CodingKeys: String, CodingKey {
        case version, nodes, agents, capacity, allocated
        case openTasks = "open_tasks"
        case uptimeSeconds = "uptime_s"
    }
}

/// `{"items": [...]}` list responses.
public struct ListResponse<Item: Codable & Sendable>: Codable, Sendable {
    public var items: [Item]
    public init(items: [Item]) { self.items = items }
}

/// `GET /health` on manager and node.
public struct HealthResponse: Codable, Sendable, Hashable {
    public var status: String
    public var role: String
    public var version: String
    public init(status: String = "ok", role: String, version: String = DroverVersion.string) {
        self.status = status
        self.role = role
        self.version = version
    }
}

/// The version every process reports.
public enum DroverVersion {
    public static let string = "0.1.0"
}
