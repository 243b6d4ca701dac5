import Foundation

/// Something that happened to the cluster, kept in the store for people to read afterwards
/// (`GET /api/v1/events`): a node went down, an agent was placed again, moved, failed.
public struct ClusterEvent: Codable, Sendable, Hashable {
    /// Increasing number given by the store; 0 before it is stored.
    public var sequence: Int
    public var at: Date
    /// What happened, e.g. `node.down`, `agent.rescheduled`, `agent.migrated`, `agent.failed`.
    public var kind: String
    public var nodeID: String?
    public var agentID: String?
    /// The tenant whose node or agent it concerns; `nil` for what only admins see (a shared
    /// node, the cluster as a whole).
    public var tenant: String?
    public var message: String

    public init(sequence: Int = 0, at: Date, kind: String, nodeID: String? = nil, agentID: String? = nil, tenant: String? = nil, message: String) {
        self.sequence = sequence
        self.at = at
        self.kind = kind
        self.nodeID = nodeID
        self.agentID = agentID
        self.tenant = tenant
        self.message = message
    }

    enum CodingKeys: String, CodingKey {
        case sequence, at, kind, message, tenant
        case nodeID = "node_id"
        case agentID = "agent_id"
    }
}
