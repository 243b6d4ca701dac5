import Foundation

/// `POST /api/v1/cluster/agents/{id}/migrate` (the seed platform's field names).
public struct MigrateRequest: Codable, Sendable, Hashable {
    /// The node to move to; when absent the scheduler picks one (never the current node).
    public var targetContainerID: String?
    public var reason: String?
    /// Give the agent its last checkpointed state on the target (default `true`).
    public var preserveState: Bool?

    public init(targetContainerID: String? = nil, reason: String? = nil, preserveState: Bool? = nil) {
        self.targetContainerID = targetContainerID
        self.reason = reason
        self.preserveState = preserveState
    }

    enum CodingKeys: String, CodingKey {
        case reason
        case targetContainerID = "target_container_id"
        case preserveState = "preserve_state"
    }
}

/// The answer to a migration: the agent as it is now, and where it moved from and to.
public struct MigrateResponse: Codable, Sendable, Hashable {
    public var agent: AgentRecord
    public var from: String?
    public var to: String

    public init(agent: AgentRecord, from: String?, to: String) {
        self.agent = agent
        self.from = from
        self.to = to
    }
}

/// `POST /api/v1/cluster/actions`: `{"action": "rebalance" | "health_check", "dry_run": bool, "max_moves": n}`.
public struct ClusterActionRequest: Codable, Sendable, Hashable {
    public enum Action: String, Codable, Sendable, CaseIterable {
        case rebalance
        case healthCheck = "health_check"
    }

    public var action: Action
    public var dryRun: Bool?
    public var maxMoves: Int?

    public init(action: Action, dryRun: Bool? = nil, maxMoves: Int? = nil) {
        self.action = action
        self.dryRun = dryRun
        self.maxMoves = maxMoves
    }

    enum CodingKeys: String, CodingKey {
        case action
        case dryRun = "dry_run"
        case maxMoves = "max_moves"
    }
}

/// The answer to a cluster action.
public struct ClusterActionResponse: Codable, Sendable, Hashable {
    public var action: ClusterActionRequest.Action
    public var dryRun: Bool
    /// Rebalance: the moves planned (and, unless a dry run, made).
    public var moves: [Rebalancer.Move]
    /// Health check: each node's status after the check.
    public var nodes: [String: NodeStatus]

    public init(action: ClusterActionRequest.Action, dryRun: Bool, moves: [Rebalancer.Move] = [], nodes: [String: NodeStatus] = [:]) {
        self.action = action
        self.dryRun = dryRun
        self.moves = moves
        self.nodes = nodes
    }

    enum CodingKeys: String, CodingKey {
        case action, moves, nodes
        case dryRun = "dry_run"
    }
}

/// `GET /api/v1/cluster/metrics/distribution`.
public struct Distribution: Codable, Sendable, Hashable {
    public struct NodeUsage: Codable, Sendable, Hashable {
        public var nodeID: String
        public var status: NodeStatus
        public var agents: Int
        public var capacity: ResourceSpec
        public var used: ResourceSpec
        public var free: ResourceSpec

        public init(nodeID: String, status: NodeStatus, agents: Int, capacity: ResourceSpec, used: ResourceSpec, free: ResourceSpec) {
            self.nodeID = nodeID
            self.status = status
            self.agents = agents
            self.capacity = capacity
            self.used = used
            self.free = free
        }

        enum CodingKeys: String, CodingKey {
            case status, agents, capacity, used, free
            case nodeID = "node_id"
        }
    }

    public var agentsPerNode: [String: Int]
    public var agentsPerType: [String: Int]
    public var agentsPerTenant: [String: Int]
    public var nodes: [NodeUsage]

    public init(agentsPerNode: [String: Int], agentsPerType: [String: Int], agentsPerTenant: [String: Int], nodes: [NodeUsage]) {
        self.agentsPerNode = agentsPerNode
        self.agentsPerType = agentsPerType
        self.agentsPerTenant = agentsPerTenant
        self.nodes = nodes
    }

    enum CodingKeys: String, CodingKey {
        case nodes
        case agentsPerNode = "agents_per_node"
        case agentsPerType = "agents_per_type"
        case agentsPerTenant = "agents_per_tenant"
    }

    /// Counts agents that should run, by node, type and tenant, with each node's room.
    public static func make(agents: [AgentRecord], nodes: [NodeRecord]) -> Distribution {
        let running = agents.filter { $0.desiredState == .running }
        var perNode: [String: Int] = [:], perType: [String: Int] = [:], perTenant: [String: Int] = [:]
        var used: [String: ResourceSpec] = [:]
        for agent in running {
            perType[agent.agentType, default: 0] += 1
            perTenant[agent.tenant, default: 0] += 1
            if let nodeID = agent.nodeID {
                perNode[nodeID, default: 0] += 1
                used[nodeID] = (used[nodeID] ?? .zero) + agent.resources
            }
        }
        let usage = nodes.map { node in
            let nodeUsed = used[node.id] ?? .zero
            return NodeUsage(
                nodeID: node.id, status: node.status, agents: perNode[node.id] ?? 0, capacity: node.resources.capacity,
                used: nodeUsed, free: node.resources.capacity - nodeUsed
            )
        }
        return Distribution(agentsPerNode: perNode, agentsPerType: perType, agentsPerTenant: perTenant, nodes: usage)
    }
}
