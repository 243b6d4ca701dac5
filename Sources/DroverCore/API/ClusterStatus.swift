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

/// `{"items": [...], "next_cursor": "..."}` list responses. `next_cursor` is there when more
/// items follow: pass it back as `cursor` for the next page.
public struct ListResponse<Item: Codable & Sendable>: Codable, Sendable {
    public var items: [Item]
    public var nextCursor: String?
    public init(items: [Item], nextCursor: String? = nil) {
        self.items = items
        self.nextCursor = nextCursor
    }

    enum CodingKeys: String, CodingKey {
        case items
        case nextCursor = "next_cursor"
    }
}

/// `GET /health` on manager and node.
public struct HealthResponse: Codable, Sendable, Hashable {
    /// `ok`, or `degraded` while the manager's store refuses writes.
    public var status: String
    public var role: String
    public var version: String
    /// The manager's store (absent on a node).
    public var store: StoreHealthView?

    public init(status: String = "ok", role: String, version: String = DroverVersion.string, store: StoreHealthView? = nil) {
        self.status = status
        self.role = role
        self.version = version
        self.store = store
    }
}

/// Whether the manager's store takes writes, in `GET /health`.
public struct StoreHealthView: Codable, Sendable, Hashable {
    /// `ok` or `failing`.
    public var status: String
    /// When writes started failing.
    public var failingSince: Date?
    /// Why the last write failed (such as `database or disk is full`).
    public var error: String?
    /// Writes refused since the manager started.
    public var failedWrites: Int

    public init(status: String, failingSince: Date? = nil, error: String? = nil, failedWrites: Int = 0) {
        self.status = status
        self.failingSince = failingSince
        self.error = error
        self.failedWrites = failedWrites
    }

    enum CodingKeys: String, CodingKey {
        case status, error
        case failingSince = "failing_since"
        case failedWrites = "failed_writes"
    }
}

/// The version every process reports.
public enum DroverVersion {
    public static let string = "0.1.0"
}
