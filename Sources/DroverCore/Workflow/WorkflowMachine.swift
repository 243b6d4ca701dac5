import Foundation

/// One run of a workflow as a pure state machine: events in (`apply`), decisions out
/// (`decide`, `taskFinished`, `childFinished`, `signal`, `cancel`). No clock, no I/O: time is
/// passed in and every decision is written as events, so replaying the history rebuilds the
/// exact same machine.
public struct WorkflowMachine: Sendable {
    public let runID: String
    public let definition: WorkflowDefinition
    public let graph: WorkflowGraph
    /// Step definitions by key (`id`, or `parent.child` inside a parallel step), in document order.
    public let stepKeys: [String]
    let definitions: [String: StepDefinition]
    let childrenOf: [String: [String]]
    let parentOf: [String: String]

    public internal(set) var status: WorkflowRunStatus = .running
    public internal(set) var input: JSONValue = .object([:])
    /// The shared JSON state; it starts as the input.
    public internal(set) var state: JSONValue = .object([:])
    public internal(set) var steps: [String: StepRunState] = [:]
    public internal(set) var maps: [String: MapRunState] = [:]
    public internal(set) var startedAt: Date?
    public internal(set) var finishedAt: Date?
    public internal(set) var error: String?
    public internal(set) var cancelRequested = false
    /// Signals received and not yet taken by a wait step, oldest first.
    public internal(set) var pendingSignals: [String: [JSONValue]] = [:]
    /// Agents this run deployed, by agent type.
    public internal(set) var deployedAgents: [String: [String]] = [:]
    public internal(set) var lastSequence = 0

    public init(runID: String, definition: WorkflowDefinition) {
        self.runID = runID
        self.definition = definition
        self.graph = WorkflowGraph(definition.steps)
        var keys: [String] = []
        var definitions: [String: StepDefinition] = [:]
        var children: [String: [String]] = [:]
        var parents: [String: String] = [:]
        func add(_ step: StepDefinition, prefix: String?) {
            let key = prefix.map { "\($0).\(step.id)" } ?? step.id
            keys.append(key)
            definitions[key] = step
            if let prefix { parents[key] = prefix }
            if step.kind == .parallel {
                children[key] = (step.steps ?? []).map { "\(key).\($0.id)" }
                for child in step.steps ?? [] { add(child, prefix: key) }
            }
        }
        for step in definition.steps { add(step, prefix: nil) }
        self.stepKeys = keys
        self.definitions = definitions
        self.childrenOf = children
        self.parentOf = parents
        for key in keys { steps[key] = StepRunState() }
    }

    /// The definition of the step with this key.
    public func definition(of key: String) -> StepDefinition? { definitions[key] }

    /// Rebuilds a machine from its history.
    public static func replay(runID: String, definition: WorkflowDefinition, history: [WorkflowEvent]) -> WorkflowMachine {
        var machine = WorkflowMachine(runID: runID, definition: definition)
        for event in history { machine.apply(event) }
        return machine
    }

    // MARK: Applying events

    /// Folds one event into the state. Events the state has moved past are ignored.
    public mutating func apply(_ event: WorkflowEvent) {
        lastSequence = max(lastSequence, event.sequence)
        switch event.kind {
        case .runStarted:
            input = event.data ?? .object([:])
            state = input
            startedAt = event.at
        case .cancelRequested:
            cancelRequested = true
        case .signalReceived:
            if let name = event.signal { pendingSignals[name, default: []].append(event.data ?? .null) }
        case .agentDeployed:
            if let type = event.agentType, let agent = event.agentID { deployedAgents[type, default: []].append(agent) }
        case .runCompleted, .runFailed, .runCancelled:
            status = event.kind == .runCompleted ? .completed : (event.kind == .runFailed ? .failed : .cancelled)
            finishedAt = event.at
            error = event.error
            if event.kind != .runCompleted { cancelUnfinishedSteps(at: event.at) }
        case .stepStarted, .stepScheduled, .stepCompleted, .stepFailed, .stepSkipped, .decisionMade, .childStarted:
            guard let key = event.step, steps[key] != nil else { return }
            if let item = event.item {
                applyItem(event, key: key, item: item)
            } else {
                applyStep(event, key: key)
            }
        }
    }

    private mutating func applyStep(_ event: WorkflowEvent, key: String) {
        var step = steps[key]!
        switch event.kind {
        case .stepStarted:
            step.status = definitions[key]?.kind == .wait ? .waiting : .running
            step.startedAt = step.startedAt ?? event.at
            step.waitUntil = event.until
            if let count = event.count { maps[key] = MapRunState(count: count) }
        case .stepScheduled, .childStarted:
            step.status = .running
            step.startedAt = step.startedAt ?? event.at
            step.attemptStartedAt = event.at
            step.attempts = event.attempt ?? step.attempts + 1
            step.taskID = event.taskID
            step.childRunID = event.childRunID
            step.agentID = event.agentID
            step.retryAt = nil
            step.error = nil
        case .stepCompleted:
            step.status = .completed
            step.finishedAt = event.at
            step.output = event.data
            step.nodeID = event.nodeID ?? step.nodeID
            step.agentID = event.agentID ?? step.agentID
            step.error = nil
            if let output = event.data, let text = definitions[key]?.outputPath, let path = try? JSONPath(parsing: text) {
                state = path.setting(output, in: state)
            }
            if let name = event.signal, var queue = pendingSignals[name], !queue.isEmpty {
                queue.removeFirst()
                pendingSignals[name] = queue
            }
        case .stepFailed:
            step.error = event.error
            step.nodeID = event.nodeID ?? step.nodeID
            step.agentID = event.agentID ?? step.agentID
            if let retryAt = event.retryAt {
                step.status = .retrying
                step.retryAt = retryAt
            } else {
                step.status = .failed
                step.finishedAt = event.at
            }
        case .stepSkipped:
            step.status = .skipped
            step.finishedAt = event.at
            step.error = event.error
            step.skipPropagates = event.propagates ?? false
        case .decisionMade:
            step.chosen = event.next
        default:
            break
        }
        steps[key] = step
    }

    private mutating func applyItem(_ event: WorkflowEvent, key: String, item index: Int) {
        // Taken out and put back so the item array is changed in place, not copied per event.
        guard var map = maps.removeValue(forKey: key) else { return }
        defer { maps[key] = map }
        guard map.items.indices.contains(index) else { return }
        var item = map.items[index]
        switch event.kind {
        case .stepScheduled:
            if item.status == .pending {
                map.nextIndex = max(map.nextIndex, index + 1)
                map.inFlight += 1
            } else if item.status == .retrying {
                map.retrying.remove(index)
                map.inFlight += 1
            }
            item.status = .running
            item.startedAt = item.startedAt ?? event.at
            item.attemptStartedAt = event.at
            item.attempts = event.attempt ?? item.attempts + 1
            item.taskID = event.taskID
            item.agentID = event.agentID
            item.retryAt = nil
        case .stepCompleted:
            guard item.status == .running else { return }
            map.inFlight -= 1
            map.finished += 1
            item.status = .completed
            item.finishedAt = event.at
            item.output = event.data
            item.nodeID = event.nodeID ?? item.nodeID
            item.agentID = event.agentID ?? item.agentID
            item.error = nil
        case .stepFailed:
            guard item.status == .running else { return }
            map.inFlight -= 1
            item.error = event.error
            item.nodeID = event.nodeID ?? item.nodeID
            if let retryAt = event.retryAt {
                item.status = .retrying
                item.retryAt = retryAt
                map.retrying.insert(index)
            } else {
                item.status = .failed
                item.finishedAt = event.at
                map.finished += 1
                map.failed += 1
            }
        default:
            break
        }
        map.items[index] = item
    }

    private mutating func cancelUnfinishedSteps(at date: Date) {
        for key in stepKeys where !(steps[key]?.status.isFinal ?? true) {
            steps[key]?.status = .cancelled
            steps[key]?.finishedAt = date
        }
    }

    // MARK: Reading

    /// The value references in a step's input are resolved against: the state, plus the map
    /// item and its index under the alias.
    public func scope(item: JSONValue? = nil, alias: String? = nil, index: Int? = nil) -> JSONValue {
        guard let item, let alias, case .object(var members) = state else { return state }
        members[alias] = item
        if let index { members["\(alias)_index"] = .int(index) }
        return .object(members)
    }

    /// Work in flight: tasks sent and child runs started that have not answered yet.
    public var inFlight: [WorkflowWork] {
        var work: [WorkflowWork] = []
        for key in stepKeys {
            guard let step = steps[key] else { continue }
            if let map = maps[key], step.status == .running {
                for (index, item) in map.items.enumerated() where item.status == .running {
                    work.append(WorkflowWork(step: key, item: index, attempt: item.attempts, taskID: item.taskID))
                }
            } else if step.status == .running, step.taskID != nil || step.childRunID != nil {
                work.append(WorkflowWork(step: key, item: nil, attempt: step.attempts, taskID: step.taskID, childRunID: step.childRunID))
            }
        }
        return work
    }

    /// Task ids of attempts that may still be out: those of running map items and of steps still
    /// running, or cancelled when the run ended. Once the run has ended these are of no use.
    public var outstandingTaskIDs: [String] {
        var ids: [String] = []
        for key in stepKeys {
            guard let step = steps[key] else { continue }
            if let map = maps[key] {
                ids += map.items.filter { $0.status == .running }.compactMap(\.taskID)
            } else if step.status == .running || step.status == .cancelled, let taskID = step.taskID {
                ids.append(taskID)
            }
        }
        return ids
    }

    /// The sub-workflow runs of steps that had not finished when the run ended (or now).
    public var openChildRunIDs: [String] {
        stepKeys.compactMap { key in
            guard let step = steps[key], step.status == .running || step.status == .cancelled else { return nil }
            return step.childRunID
        }
    }

    /// Agent types (of `agent_type` steps, not pools) that a step not yet finished may still use:
    /// pending, running, retrying or waiting steps. An agent the run deployed of any other type
    /// is no longer needed.
    public var agentTypesStillNeeded: Set<String> {
        guard status == .running else { return [] }
        var needed: Set<String> = []
        for key in stepKeys {
            guard let step = steps[key], !step.status.isFinal, let type = definitions[key]?.agentType else { continue }
            needed.insert(type)
        }
        return needed
    }

    /// The earliest instant at which `decide` has something to do without any new event.
    public var nextWakeup: Date? {
        guard status == .running else { return nil }
        var earliest: Date?
        func consider(_ date: Date?) {
            guard let date else { return }
            if earliest == nil || date < earliest! { earliest = date }
        }
        if let timeout = definition.effectiveConfig.timeout, let startedAt { consider(startedAt.addingTimeInterval(timeout.seconds)) }
        for key in stepKeys {
            guard let step = steps[key] else { continue }
            if step.status == .retrying { consider(step.retryAt) }
            if step.status == .waiting { consider(step.waitUntil) }
            if let map = maps[key], step.status == .running {
                for index in map.retrying { consider(map.items[index].retryAt) }
            }
        }
        return earliest
    }
}
