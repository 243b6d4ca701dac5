import Foundation

/// One transition of a run, as kept in its history. A run's state is exactly the fold of its
/// events (`WorkflowMachine.apply`), so a manager that restarts replays them and goes on.
public struct WorkflowEvent: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// `data`: the run input.
        case runStarted = "run_started"
        /// A `parallel`, `map` or `wait` step began; `count` is a map's item count, `until` a wait's end.
        case stepStarted = "step_started"
        /// A task was sent for a step (or a map item): `attempt`, `task_id`, `agent_id`, `data` = its input.
        case stepScheduled = "step_scheduled"
        /// `data`: the step's (or item's) output.
        case stepCompleted = "step_completed"
        /// `error`; `retry_at` when another attempt follows.
        case stepFailed = "step_failed"
        /// `error` says why.
        case stepSkipped = "step_skipped"
        /// A decision chose `next`.
        case decisionMade = "decision_made"
        /// `signal` with `data` as payload arrived.
        case signalReceived = "signal_received"
        /// A sub-workflow run `child_run_id` was started for a step; `data` is its input.
        case childStarted = "child_started"
        /// The run deployed agent `agent_id` of `agent_type` (removed at the end per cleanup policy).
        case agentDeployed = "agent_deployed"
        case cancelRequested = "cancel_requested"
        /// `data`: the final state.
        case runCompleted = "run_completed"
        case runFailed = "run_failed"
        case runCancelled = "run_cancelled"
    }

    /// Position in the run's history (1-based), given by the store.
    public var sequence: Int
    public var at: Date
    public var kind: Kind
    /// The step key: a top-level id, or `parent.child` inside a parallel step.
    public var step: String?
    /// The map item index.
    public var item: Int?
    public var attempt: Int?
    public var taskID: String?
    public var agentID: String?
    public var agentType: String?
    public var nodeID: String?
    public var data: JSONValue?
    public var error: String?
    public var retryAt: Date?
    public var until: Date?
    public var next: String?
    public var signal: String?
    public var childRunID: String?
    public var count: Int?
    /// On `step_skipped`: whether the steps that depend on this one are skipped too.
    public var propagates: Bool?

    public init(
        kind: Kind, at: Date, step: String? = nil, item: Int? = nil, attempt: Int? = nil, taskID: String? = nil,
        agentID: String? = nil, agentType: String? = nil, nodeID: String? = nil, data: JSONValue? = nil, error: String? = nil,
        retryAt: Date? = nil, until: Date? = nil, next: String? = nil, signal: String? = nil, childRunID: String? = nil,
        count: Int? = nil, propagates: Bool? = nil, sequence: Int = 0
    ) {
        self.propagates = propagates
        self.sequence = sequence
        self.at = at
        self.kind = kind
        self.step = step
        self.item = item
        self.attempt = attempt
        self.taskID = taskID
        self.agentID = agentID
        self.agentType = agentType
        self.nodeID = nodeID
        self.data = data
        self.error = error
        self.retryAt = retryAt
        self.until = until
        self.next = next
        self.signal = signal
        self.childRunID = childRunID
        self.count = count
    }

    enum CodingKeys: String, CodingKey {
        case sequence, at, kind, step, item, attempt, data, error, until, next, signal, count, propagates
        case taskID = "task_id"
        case agentID = "agent_id"
        case agentType = "agent_type"
        case nodeID = "node_id"
        case retryAt = "retry_at"
        case childRunID = "child_run_id"
    }
}

/// Where a run is.
public enum WorkflowRunStatus: String, Codable, Sendable, CaseIterable {
    case running, completed, failed, cancelled

    public var isFinal: Bool { self != .running }
}

/// Where a step (or a map item) is.
public enum WorkflowStepStatus: String, Codable, Sendable, CaseIterable {
    case pending, running
    /// Failed; another attempt is due at `retry_at`.
    case retrying
    /// A wait step waiting for its signal or its time.
    case waiting
    case completed, failed, skipped, cancelled

    public var isFinal: Bool {
        switch self {
        case .completed, .failed, .skipped, .cancelled: return true
        case .pending, .running, .retrying, .waiting: return false
        }
    }
}

/// What a task of a workflow carries so the agent can be idempotent.
public struct WorkflowTaskContext: Codable, Sendable, Hashable {
    public var runID: String
    public var stepID: String
    public var item: Int?
    public var attempt: Int

    public init(runID: String, stepID: String, item: Int?, attempt: Int) {
        self.runID = runID
        self.stepID = stepID
        self.item = item
        self.attempt = attempt
    }

    enum CodingKeys: String, CodingKey {
        case item, attempt
        case runID = "run_id"
        case stepID = "step_id"
    }

    /// The task id of one attempt: the same on every replay, so a resubmission finds the task.
    /// `RUN.STEP.aN`, or `RUN.STEP.iK.aN` for item K of a map (a step is a map or a parallel,
    /// never both, so the two cannot collide); only characters that need no escaping in a URL.
    public static func taskID(runID: String, step: String, item: Int?, attempt: Int) -> String {
        "\(runID).\(step)\(item.map { ".i\($0)" } ?? "").a\(attempt)"
    }
}
