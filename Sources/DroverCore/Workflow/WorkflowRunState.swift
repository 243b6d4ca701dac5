import Foundation

/// What the machine knows of one step (or one map item) at a point of the history.
public struct StepRunState: Sendable, Hashable {
    public var status: WorkflowStepStatus = .pending
    public var attempts = 0
    public var startedAt: Date?
    public var finishedAt: Date?
    /// When the current attempt was scheduled.
    public var attemptStartedAt: Date?
    public var taskID: String?
    public var agentID: String?
    public var nodeID: String?
    public var output: JSONValue?
    public var error: String?
    public var retryAt: Date?
    public var waitUntil: Date?
    /// A skip that the steps after it follow (an untaken branch, a failed dependency).
    public var skipPropagates = false
    /// A decision's choice.
    public var chosen: String?
    public var childRunID: String?

    public init() {}
}

/// A map step's items.
public struct MapRunState: Sendable, Hashable {
    public var items: [StepRunState]
    /// The next item not yet started.
    public var nextIndex = 0
    public var inFlight = 0
    public var finished = 0
    public var failed = 0
    /// Items waiting for a retry.
    public var retrying: Set<Int> = []

    public init(count: Int) {
        items = Array(repeating: StepRunState(), count: count)
    }
}

/// A unit of work the machine wants done outside it: a task to send or a child run to start.
/// The engine reads these from the events the machine produced.
public struct WorkflowWork: Sendable, Hashable {
    public var step: String
    public var item: Int?
    public var attempt: Int
    public var taskID: String?
    public var childRunID: String?
}
