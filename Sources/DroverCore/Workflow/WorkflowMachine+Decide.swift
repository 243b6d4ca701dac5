import Foundation

/// The machine's decisions: each returns the events it made, already applied.
extension WorkflowMachine {
    /// Starts the run with `input`.
    public mutating func start(input: JSONValue, now: Date) -> [WorkflowEvent] {
        record([WorkflowEvent(kind: .runStarted, at: now, data: input)])
    }

    /// Everything that can happen now without outside news: steps whose turn has come,
    /// retries that are due, waits that ended, finished parents, the end of the run.
    public mutating func decide(now: Date) -> [WorkflowEvent] {
        var made: [WorkflowEvent] = []
        // Each pass applies what it decided, so later passes see it (a decision, then its branch).
        for _ in 0..<(stepKeys.count * 4 + 8) {
            let next = decideOnce(now: now)
            if next.isEmpty { break }
            made += record(next)
            if status.isFinal { break }
        }
        return made
    }

    /// A task's answer for one attempt of a step or map item. Stale answers make no events.
    public mutating func taskFinished(
        step key: String, item: Int?, attempt: Int, ok: Bool, output: JSONValue?, error: String?,
        agentID: String?, nodeID: String?, now: Date
    ) -> [WorkflowEvent] {
        guard status == .running, let current = attemptState(step: key, item: item), current.status == .running, current.attempts == attempt else {
            return []
        }
        return record([outcome(step: key, item: item, attempt: attempt, ok: ok, output: output, error: error, agentID: agentID, nodeID: nodeID, now: now)])
    }

    /// A sub-workflow run ended.
    public mutating func childFinished(childRunID: String, ok: Bool, output: JSONValue?, error: String?, now: Date) -> [WorkflowEvent] {
        guard status == .running,
            let key = stepKeys.first(where: { steps[$0]?.childRunID == childRunID && steps[$0]?.status == .running }),
            let step = steps[key]
        else { return [] }
        return record([outcome(step: key, item: nil, attempt: step.attempts, ok: ok, output: output, error: error, agentID: nil, nodeID: nil, now: now)])
    }

    /// A signal for a waiting (or future) `wait` step.
    public mutating func signal(_ name: String, payload: JSONValue, now: Date) -> [WorkflowEvent] {
        record([WorkflowEvent(kind: .signalReceived, at: now, data: payload, signal: name)])
    }

    /// Asks the run to stop; `decide` then ends it as cancelled.
    public mutating func cancel(now: Date) -> [WorkflowEvent] {
        guard status == .running, !cancelRequested else { return [] }
        return record([WorkflowEvent(kind: .cancelRequested, at: now)])
    }

    /// Notes that the run deployed an agent (for the cleanup policy).
    public mutating func agentDeployed(_ agentID: String, type: String, now: Date) -> [WorkflowEvent] {
        record([WorkflowEvent(kind: .agentDeployed, at: now, agentID: agentID, agentType: type)])
    }

    /// Sets the agent chosen for a scheduled attempt, in the machine and in its event.
    public mutating func assignAgent(_ agentID: String, to event: inout WorkflowEvent) {
        event.agentID = agentID
        guard let key = event.step else { return }
        if let item = event.item {
            maps[key]?.items[item].agentID = agentID
        } else {
            steps[key]?.agentID = agentID
        }
    }

    // MARK: Internals

    /// Numbers the events after the last one and applies them.
    private mutating func record(_ events: [WorkflowEvent]) -> [WorkflowEvent] {
        var numbered = events
        for index in numbered.indices {
            numbered[index].sequence = lastSequence + 1
            apply(numbered[index])
        }
        return numbered
    }

    private func attemptState(step key: String, item: Int?) -> StepRunState? {
        if let item {
            guard steps[key]?.status == .running, let map = maps[key], map.items.indices.contains(item) else { return nil }
            return map.items[item]
        }
        return steps[key]
    }

    private func outcome(
        step key: String, item: Int?, attempt: Int, ok: Bool, output: JSONValue?, error: String?,
        agentID: String?, nodeID: String?, now: Date
    ) -> WorkflowEvent {
        if ok {
            return WorkflowEvent(kind: .stepCompleted, at: now, step: key, item: item, attempt: attempt, agentID: agentID, nodeID: nodeID, data: output ?? .null)
        }
        let policy = definitions[key]?.retryPolicy ?? .none
        let retryAt = attempt < policy.maxAttempts ? now.addingTimeInterval(policy.delay(afterAttempt: attempt)) : nil
        return WorkflowEvent(
            kind: .stepFailed, at: now, step: key, item: item, attempt: attempt, agentID: agentID, nodeID: nodeID,
            error: error ?? "the step failed", retryAt: retryAt
        )
    }

    private func decideOnce(now: Date) -> [WorkflowEvent] {
        guard status == .running, let startedAt else { return [] }
        if cancelRequested { return [WorkflowEvent(kind: .runCancelled, at: now, error: "cancelled on request")] }
        let config = definition.effectiveConfig
        if let timeout = config.timeout, now >= startedAt.addingTimeInterval(timeout.seconds) {
            return [WorkflowEvent(kind: .runFailed, at: now, error: "the run took longer than its timeout of \(timeout.seconds) s")]
        }
        if config.failureStrategy == .failFast, let failed = stepKeys.first(where: { steps[$0]?.status == .failed }) {
            return [WorkflowEvent(kind: .runFailed, at: now, error: "step '\(failed)' failed: \(steps[failed]?.error ?? "unknown error")")]
        }
        var made: [WorkflowEvent] = []
        // Signals handed to waits in this pass: one signal completes one wait.
        var signalsTaken: [String: Int] = [:]
        for key in stepKeys {
            guard let step = steps[key], let definition = definitions[key] else { continue }
            switch step.status {
            case .pending:
                if let parent = parentOf[key] {
                    if steps[parent]?.status == .running { made += begin(key, definition, now: now) }
                } else if let events = whenReady(key, definition, now: now) {
                    made += events
                }
            case .retrying:
                if let retryAt = step.retryAt, retryAt <= now { made += attempt(key, definition, attempt: step.attempts + 1, now: now) }
            case .waiting:
                made += waitEvents(key, definition, step, signalsTaken: &signalsTaken, now: now)
            case .running:
                if definition.kind == .map {
                    made += mapEvents(key, definition, now: now)
                } else if definition.kind == .parallel {
                    made += parallelEvents(key)
                }
            case .completed, .failed, .skipped, .cancelled:
                break
            }
        }
        if made.isEmpty {
            let topLevel = self.definition.steps.map(\.id)
            if topLevel.allSatisfy({ steps[$0]?.status.isFinal ?? true }) {
                let failed = topLevel.filter { steps[$0]?.status == .failed }
                if failed.isEmpty { return [WorkflowEvent(kind: .runCompleted, at: now, data: state)] }
                let detail = failed.map { "'\($0)' (\(steps[$0]?.error ?? "failed"))" }.joined(separator: ", ")
                return [WorkflowEvent(kind: .runFailed, at: now, error: "steps failed: \(detail)")]
            }
        }
        return made
    }

    /// A top-level step whose dependencies have all ended: start it or skip it. `nil` while waiting.
    private func whenReady(_ key: String, _ definition: StepDefinition, now: Date) -> [WorkflowEvent]? {
        var dependencies = graph.dependencies[key] ?? []
        let decision = graph.branchOf[key]
        if let decision, !dependencies.contains(decision) { dependencies.append(decision) }
        guard dependencies.allSatisfy({ steps[$0]?.status.isFinal ?? true }) else { return nil }
        func skip(_ why: String, propagates: Bool) -> [WorkflowEvent] {
            [WorkflowEvent(kind: .stepSkipped, at: now, step: key, error: why, propagates: propagates)]
        }
        if let decision, steps[decision]?.status == .completed, let chosen = steps[decision]?.chosen, chosen != key {
            return skip("decision '\(decision)' chose '\(chosen)'", propagates: true)
        }
        if let failed = dependencies.first(where: { steps[$0]?.status == .failed || steps[$0]?.status == .cancelled }) {
            return skip("step '\(failed)' it depends on failed", propagates: true)
        }
        if !dependencies.isEmpty, dependencies.allSatisfy({ steps[$0]?.status == .skipped && steps[$0]?.skipPropagates == true }) {
            return skip("every step it depends on was skipped", propagates: true)
        }
        return begin(key, definition, now: now)
    }

    /// Starts a step (its condition first).
    private func begin(_ key: String, _ definition: StepDefinition, now: Date) -> [WorkflowEvent] {
        if let condition = definition.condition, !condition.evaluate(state) {
            return [WorkflowEvent(kind: .stepSkipped, at: now, step: key, error: "condition is false", propagates: false)]
        }
        switch definition.kind {
        case .task, .subWorkflow:
            return attempt(key, definition, attempt: 1, now: now)
        case .parallel:
            return [WorkflowEvent(kind: .stepStarted, at: now, step: key)]
        case .wait:
            return [WorkflowEvent(kind: .stepStarted, at: now, step: key, until: definition.duration.map { now.addingTimeInterval($0.seconds) })]
        case .map:
            let path = (try? JSONPath(parsing: definition.mapConfig?.inputPath ?? "$")) ?? JSONPath(components: [])
            guard let items = path.value(in: state)?.arrayValue else {
                return [WorkflowEvent(kind: .stepFailed, at: now, step: key, error: "map input_path \(path) is not a list in the state")]
            }
            var events = [WorkflowEvent(kind: .stepStarted, at: now, step: key, count: items.count)]
            if items.isEmpty { events.append(WorkflowEvent(kind: .stepCompleted, at: now, step: key, data: .array([]))) }
            return events
        case .decision:
            guard let node = definition.decisionNode else {
                return [WorkflowEvent(kind: .stepFailed, at: now, step: key, error: "decision_node is missing")]
            }
            let root = node.inputPath.flatMap { try? JSONPath(parsing: $0) }.map { $0.value(in: state) ?? .null } ?? state
            guard let next = node.choices.first(where: { $0.condition.evaluate(root) })?.next ?? node.default else {
                return [WorkflowEvent(kind: .stepFailed, at: now, step: key, error: "no choice matched and there is no default")]
            }
            return [
                WorkflowEvent(kind: .decisionMade, at: now, step: key, next: next),
                WorkflowEvent(kind: .stepCompleted, at: now, step: key, data: ["next": .string(next)]),
            ]
        case nil:
            return [WorkflowEvent(kind: .stepFailed, at: now, step: key, error: "unknown step type '\(definition.type)'")]
        }
    }

    /// One attempt of a task or sub-workflow step, or of one map item.
    private func attempt(_ key: String, _ definition: StepDefinition, item: Int? = nil, itemValue: JSONValue? = nil, attempt: Int, now: Date) -> [WorkflowEvent] {
        let scope = self.scope(item: itemValue, alias: definition.mapConfig?.itemAlias, index: item)
        let input = definition.input.map { InputTemplate.resolve($0, in: scope) } ?? itemValue ?? state
        if definition.kind == .subWorkflow {
            let child = "\(runID).\(key).a\(attempt)"
            return [WorkflowEvent(kind: .childStarted, at: now, step: key, attempt: attempt, data: input, childRunID: child)]
        }
        let taskID = WorkflowTaskContext.taskID(runID: runID, step: key, item: item, attempt: attempt)
        let agentType = definition.agentType ?? definition.pool.flatMap { self.definition.pools?[$0]?.agentType ?? $0 }
        return [WorkflowEvent(kind: .stepScheduled, at: now, step: key, item: item, attempt: attempt, taskID: taskID, agentType: agentType, data: input)]
    }

    private func waitEvents(
        _ key: String, _ definition: StepDefinition, _ step: StepRunState, signalsTaken: inout [String: Int], now: Date
    ) -> [WorkflowEvent] {
        if let name = definition.signal, let queue = pendingSignals[name], queue.count > signalsTaken[name, default: 0] {
            let payload = queue[signalsTaken[name, default: 0]]
            signalsTaken[name, default: 0] += 1
            return [WorkflowEvent(kind: .stepCompleted, at: now, step: key, data: payload, signal: name)]
        }
        guard let until = step.waitUntil, until <= now else { return [] }
        if let name = definition.signal {
            return [WorkflowEvent(kind: .stepFailed, at: now, step: key, error: "no '\(name)' signal within \(definition.duration?.seconds ?? 0) s")]
        }
        return [WorkflowEvent(kind: .stepCompleted, at: now, step: key, data: .null)]
    }

    private func parallelEvents(_ key: String) -> [WorkflowEvent] {
        let children = childrenOf[key] ?? []
        guard children.allSatisfy({ steps[$0]?.status.isFinal ?? true }) else { return [] }
        let now = children.compactMap { steps[$0]?.finishedAt }.max() ?? startedAt ?? Date(timeIntervalSince1970: 0)
        if let failed = children.first(where: { steps[$0]?.status == .failed }) {
            return [WorkflowEvent(kind: .stepFailed, at: now, step: key, error: "step '\(failed)' failed: \(steps[failed]?.error ?? "unknown error")")]
        }
        var outputs: [String: JSONValue] = [:]
        for child in children {
            let id = definitions[child]?.id ?? child
            outputs[id] = steps[child]?.output ?? .null
        }
        return [WorkflowEvent(kind: .stepCompleted, at: now, step: key, data: .object(outputs))]
    }

    private func mapEvents(_ key: String, _ definition: StepDefinition, now: Date) -> [WorkflowEvent] {
        guard let map = maps[key], let config = definition.mapConfig else { return [] }
        if config.errorHandling == .failFast, map.failed > 0, let index = map.items.firstIndex(where: { $0.status == .failed }) {
            return [WorkflowEvent(kind: .stepFailed, at: now, step: key, error: "item \(index) failed: \(map.items[index].error ?? "unknown error")")]
        }
        if map.finished == map.items.count {
            return [WorkflowEvent(kind: .stepCompleted, at: now, step: key, data: .array(map.items.map { $0.output ?? .null }))]
        }
        var slots = config.maxConcurrency - map.inFlight
        guard slots > 0 else { return [] }
        let list = (try? JSONPath(parsing: config.inputPath))?.value(in: state)?.arrayValue ?? []
        var made: [WorkflowEvent] = []
        for index in map.retrying.sorted() where slots > 0 {
            guard let retryAt = map.items[index].retryAt, retryAt <= now else { continue }
            made += attempt(key, definition, item: index, itemValue: list.indices.contains(index) ? list[index] : .null, attempt: map.items[index].attempts + 1, now: now)
            slots -= 1
        }
        var index = map.nextIndex
        while slots > 0, index < map.items.count {
            made += attempt(key, definition, item: index, itemValue: list.indices.contains(index) ? list[index] : .null, attempt: 1, now: now)
            index += 1
            slots -= 1
        }
        return made
    }
}
