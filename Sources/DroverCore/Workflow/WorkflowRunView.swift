import Foundation

/// `GET /api/v1/workflows/runs/{id}`: the run, its state, and every step.
public struct WorkflowRunView: Codable, Sendable, Hashable {
    public var id: String
    public var workflow: String
    public var version: Int
    public var tenant: String
    public var status: WorkflowRunStatus
    public var input: JSONValue
    public var state: JSONValue
    public var error: String?
    public var parentRunID: String?
    public var createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    public var durationMs: Double?
    public var steps: [WorkflowStepView]
    /// Signals received that no wait step has taken yet.
    public var pendingSignals: [String]
    public var historyLength: Int
    /// When each step started and ended, relative to the run's start.
    public var timeline: [WorkflowTimelineEntry]
    /// Only with `config.enable_profiling`: per-step durations and map item latencies.
    public var profile: WorkflowProfile?

    enum CodingKeys: String, CodingKey {
        case id, workflow, version, tenant, status, input, state, error, steps, timeline, profile
        case parentRunID = "parent_run_id"
        case createdAt = "created_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case durationMs = "duration_ms"
        case pendingSignals = "pending_signals"
        case historyLength = "history_length"
    }

    public init(record: WorkflowRunRecord, machine: WorkflowMachine) {
        id = record.id
        workflow = record.workflow
        version = record.version
        tenant = record.tenant
        status = machine.status
        input = machine.input
        state = machine.state
        error = machine.error ?? record.error
        parentRunID = record.parentRunID
        createdAt = record.createdAt
        startedAt = machine.startedAt
        finishedAt = machine.finishedAt
        durationMs = zip(machine.startedAt, machine.finishedAt).map { ($1.timeIntervalSince($0) * 1_000).rounded() }
        pendingSignals = machine.pendingSignals.filter { !$0.value.isEmpty }.keys.sorted()
        historyLength = machine.lastSequence
        timeline = machine.timeline
        profile = machine.definition.effectiveConfig.enableProfiling ? machine.profile : nil
        steps = machine.stepKeys.compactMap { key in
            guard let definition = machine.definition(of: key), let step = machine.steps[key] else { return nil }
            return WorkflowStepView(key: key, definition: definition, step: step, map: machine.maps[key])
        }
    }
}

/// One step in a run view.
public struct WorkflowStepView: Codable, Sendable, Hashable {
    /// Progress of a map step's items.
    public struct Items: Codable, Sendable, Hashable {
        public var total: Int
        public var completed: Int
        public var failed: Int
        public var running: Int
        public var retrying: Int
    }

    public var id: String
    public var type: String
    public var status: WorkflowStepStatus
    public var attempts: Int
    public var startedAt: Date?
    public var finishedAt: Date?
    public var durationMs: Double?
    public var agentID: String?
    public var nodeID: String?
    public var error: String?
    /// A decision's choice.
    public var next: String?
    public var childRunID: String?
    public var items: Items?

    enum CodingKeys: String, CodingKey {
        case id, type, status, attempts, error, next, items
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case durationMs = "duration_ms"
        case agentID = "agent_id"
        case nodeID = "node_id"
        case childRunID = "child_run_id"
    }

    init(key: String, definition: StepDefinition, step: StepRunState, map: MapRunState?) {
        id = key
        type = definition.type
        status = step.status
        attempts = step.attempts
        startedAt = step.startedAt
        finishedAt = step.finishedAt
        durationMs = zip(step.startedAt, step.finishedAt).map { ($1.timeIntervalSince($0) * 1_000 * 10).rounded() / 10 }
        agentID = step.agentID
        nodeID = step.nodeID
        error = step.error
        next = step.chosen
        childRunID = step.childRunID
        if let map {
            let running = map.items.reduce(0) { $0 + ($1.status == .running ? 1 : 0) }
            items = Items(
                total: map.items.count, completed: map.finished - map.failed, failed: map.failed, running: running, retrying: map.retrying.count
            )
        }
    }
}

private func zip(_ start: Date?, _ end: Date?) -> (Date, Date)? {
    guard let start, let end else { return nil }
    return (start, end)
}

/// `POST /api/v1/workflows/{name}/runs`.
public struct WorkflowRunRequest: Codable, Sendable, Hashable {
    public var input: JSONValue?
    /// Optional idempotency key: starting a run with an id that exists returns that run.
    public var runID: String?
    /// A registered version (the newest when absent).
    public var version: Int?

    public init(input: JSONValue? = nil, runID: String? = nil, version: Int? = nil) {
        self.input = input
        self.runID = runID
        self.version = version
    }

    enum CodingKeys: String, CodingKey {
        case input, version
        case runID = "run_id"
    }
}
