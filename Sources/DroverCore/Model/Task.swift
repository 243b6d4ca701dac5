import Foundation

/// Where a task is. `succeeded`, `failed`, `timed_out` and `cancelled` are final.
public enum TaskStatus: String, Codable, Sendable, CaseIterable {
    case queued
    case dispatched
    case succeeded
    case failed
    case timedOut = "timed_out"
    case cancelled

    public var isFinal: Bool {
        switch self {
        case .queued, .dispatched: return false
        case .succeeded, .failed, .timedOut, .cancelled: return true
        }
    }
}

/// One request to one agent: JSON in, JSON out. The id is the idempotency key.
public struct TaskRecord: Codable, Sendable, Hashable {
    public var id: String
    public var agentID: String
    public var tenant: String
    public var input: JSONValue
    public var status: TaskStatus
    public var output: JSONValue?
    public var error: String?
    /// How many times it was sent to a node.
    public var attempt: Int
    /// The agent generation of the node that answered it.
    public var generation: Int?
    public var nodeID: String?
    public var timeoutSeconds: Double
    public var createdAt: Date
    public var dispatchedAt: Date?
    public var completedAt: Date?
    /// After this instant an unanswered task is `timed_out`.
    public var deadline: Date
    /// Set when a workflow step sent the task.
    public var workflow: WorkflowTaskContext?

    public init(
        id: String, agentID: String, tenant: String, input: JSONValue, status: TaskStatus = .queued,
        output: JSONValue? = nil, error: String? = nil, attempt: Int = 0, generation: Int? = nil,
        nodeID: String? = nil, timeoutSeconds: Double, createdAt: Date, dispatchedAt: Date? = nil,
        completedAt: Date? = nil, deadline: Date, workflow: WorkflowTaskContext? = nil
    ) {
        self.workflow = workflow
        self.id = id
        self.agentID = agentID
        self.tenant = tenant
        self.input = input
        self.status = status
        self.output = output
        self.error = error
        self.attempt = attempt
        self.generation = generation
        self.nodeID = nodeID
        self.timeoutSeconds = timeoutSeconds
        self.createdAt = createdAt
        self.dispatchedAt = dispatchedAt
        self.completedAt = completedAt
        self.deadline = deadline
    }

    enum CodingKeys: String, CodingKey {
        case id, tenant, input, status, output, error, attempt, generation, deadline, workflow
        case agentID = "agent_id"
        case nodeID = "node_id"
        case timeoutSeconds = "timeout_s"
        case createdAt = "created_at"
        case dispatchedAt = "dispatched_at"
        case completedAt = "completed_at"
    }
}
