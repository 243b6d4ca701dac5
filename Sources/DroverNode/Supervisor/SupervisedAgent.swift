import DroverCore
import Foundation

/// What the supervisor knows about one agent it was asked to run.
struct SupervisedAgent: Sendable {
    let agentID: String
    let agentType: String
    let driver: AgentDriverKind?
    /// Fencing token of this copy; only tasks of this generation run.
    let generation: Int
    let config: JSONValue
    /// The last checkpointed state; a restart gets it.
    var state: JSONValue?
    var status: AgentStatus
    var instance: (any AgentInstance)?
    /// Bumped at every launch: events and exits of an older launch are ignored.
    var launchSerial: Int
    /// Restarts after crashes, in total.
    var restarts = 0
    /// Crashes since the last healthy run; decides backoff and giving up.
    var crashesInRow = 0
    var lastError: String?
    var pid: Int32?
    var startedAt: Date?
    var runningSince: ContinuousClock.Instant?
    var tasksCompleted = 0
    var tasksFailed = 0
    var tasksInFlight = 0

    var running: NodeProtocol.RunningAgent {
        .init(agentID: agentID, generation: generation, status: status, restarts: restarts)
    }

    var summary: AgentSummary {
        AgentSummary(
            agentID: agentID, agentType: agentType, driver: driver?.rawValue, generation: generation, status: status,
            restarts: restarts, pid: pid.map(Int.init), tasksCompleted: tasksCompleted, tasksFailed: tasksFailed,
            tasksInFlight: tasksInFlight, startedAt: startedAt, lastError: lastError
        )
    }
}

/// One agent as the node's local API shows it (`GET /agents`).
public struct AgentSummary: Codable, Sendable, Hashable {
    public var agentID: String
    public var agentType: String
    public var driver: String?
    public var generation: Int
    public var status: AgentStatus
    public var restarts: Int
    public var pid: Int?
    public var tasksCompleted: Int
    public var tasksFailed: Int
    public var tasksInFlight: Int
    public var startedAt: Date?
    public var lastError: String?

    public init(
        agentID: String, agentType: String, driver: String?, generation: Int, status: AgentStatus, restarts: Int, pid: Int?,
        tasksCompleted: Int, tasksFailed: Int, tasksInFlight: Int, startedAt: Date?, lastError: String?
    ) {
        self.agentID = agentID
        self.agentType = agentType
        self.driver = driver
        self.generation = generation
        self.status = status
        self.restarts = restarts
        self.pid = pid
        self.tasksCompleted = tasksCompleted
        self.tasksFailed = tasksFailed
        self.tasksInFlight = tasksInFlight
        self.startedAt = startedAt
        self.lastError = lastError
    }

    enum CodingKeys: String, CodingKey {
        case driver, generation, status, restarts, pid
        case agentID = "agent_id"
        case agentType = "agent_type"
        case tasksCompleted = "tasks_completed"
        case tasksFailed = "tasks_failed"
        case tasksInFlight = "tasks_in_flight"
        case startedAt = "started_at"
        case lastError = "last_error"
    }
}

/// `GET /agents` on the node.
public struct NodeAgentsResponse: Codable, Sendable, Hashable {
    public var nodeID: String
    public var items: [AgentSummary]

    public init(nodeID: String, items: [AgentSummary]) {
        self.nodeID = nodeID
        self.items = items
    }

    enum CodingKeys: String, CodingKey {
        case items
        case nodeID = "node_id"
    }
}
