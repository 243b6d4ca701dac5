import DroverCore
import DroverStore
import Foundation
import Logging

/// The workflow loop's own state and work: the runs in progress, their machines and pools.
/// Only the loop (`WorkflowEngine.run`) uses it, one batch at a time.
///
/// One batch: take every queued input, let the machines decide, pick agents, append each
/// run's new events to its history in one statement, and only then act on them (send tasks,
/// start sub-workflows, finish runs). A crash anywhere leaves a history that `recover()`
/// continues from.
final class WorkflowRunner {
    struct ActiveRun {
        var record: WorkflowRunRecord
        var machine: WorkflowMachine
    }

    let controller: ClusterController
    let store: any Store
    let logger: Logger
    let inbox: WorkflowInbox
    let metrics: WorkflowMetrics
    let pools: WorkflowPools
    var active: [String: ActiveRun] = [:]
    /// Runs that ended in the current batch, for the replies that come after it.
    private var ended: [String: ActiveRun] = [:]
    private var lastShrink = Date.distantPast
    /// Run-owned agents already let go of before their run ended.
    private var released: Set<String> = []

    init(controller: ClusterController, inbox: WorkflowInbox, metrics: WorkflowMetrics) {
        self.controller = controller
        self.store = controller.store
        self.logger = controller.logger
        self.inbox = inbox
        self.metrics = metrics
        self.pools = WorkflowPools(controller: controller, logger: controller.logger)
    }

    /// The earliest timer (a retry, a wait, a run timeout) among the runs in progress.
    var nextWakeup: Date? {
        active.values.compactMap(\.machine.nextWakeup).min()
    }

    // MARK: One batch

    /// Handles a batch of inputs (possibly none: then only due timers fire).
    func process(_ inputs: [WorkflowInput], resumed: Set<String> = []) async {
        let now = Date()
        var made: [String: [WorkflowEvent]] = [:]
        var touched = resumed
        var viewReplies: [(String, WorkflowInput.Reply<WorkflowRunView>)] = []
        var startReplies: [(WorkflowRunRecord, WorkflowInput.Reply<WorkflowRunRecord>)] = []
        ended = [:]

        for input in inputs {
            switch input {
            case .start(let record, let definition, let reply):
                if let existing = active[record.id] {
                    reply?.succeed(existing.record)
                    continue
                }
                do {
                    try await store.insertRun(record)
                } catch StoreError.duplicate {
                    if let stored = try? await store.run(id: record.id) { reply?.succeed(stored) } else { reply?.fail(APIError.notFound("run", record.id)) }
                    continue
                } catch {
                    reply?.fail(error)
                    continue
                }
                var machine = WorkflowMachine(runID: record.id, definition: definition)
                made[record.id, default: []] += machine.start(input: record.input, now: now)
                active[record.id] = ActiveRun(record: record, machine: machine)
                touched.insert(record.id)
                metrics.runsStarted.increment()
                if let reply { startReplies.append((record, reply)) }
            case .taskFinished(let task):
                pools.release(agentID: task.agentID, now: now)
                guard let context = task.workflow, active[context.runID] != nil else { continue }
                let events = active[context.runID]!.machine.taskFinished(
                    step: context.stepID, item: context.item, attempt: context.attempt, ok: task.status == .succeeded,
                    output: task.output, error: task.error ?? "task \(task.status.rawValue)", agentID: task.agentID, nodeID: task.nodeID, now: now
                )
                if !events.isEmpty {
                    metrics.stepFinished(task, now: now)
                    made[context.runID, default: []] += events
                    touched.insert(context.runID)
                }
            case .childFinished(let parentID, let childID, let ok, let output, let error):
                guard active[parentID] != nil else { continue }
                made[parentID, default: []] += active[parentID]!.machine.childFinished(childRunID: childID, ok: ok, output: output, error: error, now: now)
                touched.insert(parentID)
            case .signal(let runID, let name, let payload, let reply):
                guard active[runID] != nil else {
                    reply.fail(await notActive(runID, action: "take signals"))
                    continue
                }
                made[runID, default: []] += active[runID]!.machine.signal(name, payload: payload, now: now)
                touched.insert(runID)
                viewReplies.append((runID, reply))
            case .cancel(let runID, let reply):
                guard active[runID] != nil else {
                    if let reply { reply.fail(await notActive(runID, action: "be cancelled")) }
                    continue
                }
                made[runID, default: []] += active[runID]!.machine.cancel(now: now)
                touched.insert(runID)
                if let reply { viewReplies.append((runID, reply)) }
            case .view(let runID, let reply):
                reply.succeed(active[runID].map { WorkflowRunView(record: $0.record, machine: $0.machine) })
            case .warmPools(let record):
                await pools.warm(record, now: now)
            }
        }

        let due = active.filter { touched.contains($0.key) || ($0.value.machine.nextWakeup.map { $0 <= now } ?? false) }.keys
        for runID in due.sorted() {
            made[runID, default: []] += active[runID]!.machine.decide(now: now)
        }
        for runID in made.keys.sorted() {
            await assignAgents(runID: runID, events: &made[runID]!, now: now)
        }

        // Durable first: each run's new events in one append, then their effects.
        var effects: [(String, WorkflowEvent)] = []
        for (runID, events) in made where !events.isEmpty {
            do {
                try await store.appendHistory(runID: runID, events)
                effects += events.map { (runID, $0) }
            } catch {
                logger.error("could not append to a run's history; reloading it from the store", metadata: ["run": "\(runID)", "error": "\(error)"])
                active[runID] = nil
                await resume(runIDs: [runID])
            }
        }
        for (runID, event) in effects {
            await perform(event, runID: runID)
        }
        for runID in made.keys.sorted() { await releaseUnneededAgents(runID: runID) }
        for (record, reply) in startReplies { reply.succeed(record) }
        for (runID, reply) in viewReplies {
            if let run = active[runID] ?? ended[runID] {
                reply.succeed(WorkflowRunView(record: run.record, machine: run.machine))
            } else {
                reply.fail(APIError.notFound("run", runID))
            }
        }
        if now.timeIntervalSince(lastShrink) >= 1 {
            lastShrink = now
            await pools.shrinkIdle(now: now)
        }
    }

    private func notActive(_ runID: String, action: String) async -> any Error {
        guard let record = try? await store.run(id: runID) else { return APIError.notFound("run", runID) }
        return APIError(.conflict, code: "run_finished", "run '\(runID)' is \(record.status.rawValue) and cannot \(action)")
    }

    // MARK: Agents

    /// Picks the agent of every newly scheduled attempt; a step whose agent cannot be had fails.
    private func assignAgents(runID: String, events: inout [WorkflowEvent], now: Date) async {
        guard events.contains(where: { $0.kind == .stepScheduled && $0.agentID == nil }) else { return }
        // Taken out of `active` while it changes, so its machine is changed in place, not copied.
        guard var run = active.removeValue(forKey: runID) else { return }
        defer { active[runID] = run }
        var index = 0
        var usable: [String: Bool] = [:]
        while index < events.count {
            defer { index += 1 }
            guard events[index].kind == .stepScheduled, events[index].agentID == nil else { continue }
            do {
                let agentID = try await chooseAgent(for: events[index], run: &run, usable: &usable, extra: &events, now: now)
                run.machine.assignAgent(agentID, to: &events[index])
            } catch {
                let event = events[index]
                events += run.machine.taskFinished(
                    step: event.step ?? "", item: event.item, attempt: event.attempt ?? 1, ok: false, output: nil,
                    error: "no agent for the step: \(error)", agentID: nil, nodeID: nil, now: now
                )
                events += run.machine.decide(now: now)
            }
        }
    }

    private func chooseAgent(
        for event: WorkflowEvent, run: inout ActiveRun, usable: inout [String: Bool], extra: inout [WorkflowEvent], now: Date
    ) async throws -> String {
        guard let key = event.step, let step = run.machine.definition(of: key) else { throw APIError.badRequest("unknown step") }
        if let poolName = step.pool {
            return try await pools.acquire(WorkflowPools.key(workflow: run.record.workflow, pool: poolName), now: now)
        }
        guard let agentType = step.agentType else { throw APIError.badRequest("step '\(key)' names no agent_type or pool") }
        if let existing = run.machine.deployedAgents[agentType]?.last {
            if usable[existing] == nil {
                let agent = try? await store.agent(id: existing)
                usable[existing] = agent.map { $0.desiredState == .running && $0.status != .failed } ?? false
            }
            if usable[existing] == true { return existing }
        }
        let agent = AgentRecord(
            id: Identifiers.make("agt"), agentType: agentType, tenant: run.record.tenant,
            labels: ["drover.run": run.record.id], strategy: controller.configuration.defaultStrategy, createdAt: now, updatedAt: now
        )
        // A step waits for a node that is away or full (its timeout bounds the wait); it fails at
        // once only when no node could ever take the agent.
        let placed = try await controller.place(agent, queueIfBusy: true)
        usable[placed.id] = true
        extra += run.machine.agentDeployed(placed.id, type: agentType, now: now)
        return placed.id
    }

    /// With `cleanup_policy: always`, undeploys the agents a run deployed as soon as no step left
    /// in it uses their type, so that runs waiting for room do not wait on agents nobody will use
    /// (many runs each holding one agent while waiting for another would never finish).
    private func releaseUnneededAgents(runID: String) async {
        guard let run = active[runID], run.machine.definition.effectiveConfig.cleanupPolicy == .always else { return }
        let needed = run.machine.agentTypesStillNeeded
        for (type, agents) in run.machine.deployedAgents where !needed.contains(type) {
            for agentID in agents where !released.contains(agentID) {
                released.insert(agentID)
                _ = try? await controller.undeploy(agentID: agentID)
            }
        }
    }

    // MARK: Effects

    private func perform(_ event: WorkflowEvent, runID: String) async {
        switch event.kind {
        case .stepScheduled:
            await submit(event, runID: runID)
        case .childStarted:
            await startChild(event, parentID: runID)
        case .runCompleted, .runFailed, .runCancelled:
            await finish(runID: runID)
        default:
            break
        }
    }

    /// Sends the task of a scheduled attempt; a task that cannot be sent fails the attempt.
    func submit(_ event: WorkflowEvent, runID: String) async {
        guard let key = event.step, let taskID = event.taskID, let attempt = event.attempt else { return }
        let context = WorkflowTaskContext(runID: runID, stepID: key, item: event.item, attempt: attempt)
        let timeout = active[runID]?.machine.definition(of: key)?.timeout?.seconds ?? controller.configuration.defaultTaskTimeout
        do {
            guard let agentID = event.agentID else { throw APIError.badRequest("no agent was chosen") }
            _ = try await controller.submitWorkflowTask(id: taskID, agentID: agentID, input: event.data ?? .null, timeoutSeconds: timeout, context: context)
        } catch {
            let now = Date()
            var failed = TaskRecord(
                id: taskID, agentID: event.agentID ?? "", tenant: active[runID]?.record.tenant ?? "default", input: event.data ?? .null,
                status: .failed, timeoutSeconds: timeout, createdAt: now, deadline: now, workflow: context
            )
            failed.error = "the task could not be sent: \(error)"
            inbox.post(.taskFinished(failed))
        }
    }

    /// Starts a sub-workflow run for a step; a missing workflow fails the step.
    func startChild(_ event: WorkflowEvent, parentID: String) async {
        guard let childID = event.childRunID, let key = event.step, let parent = active[parentID],
            let step = parent.machine.definition(of: key), let name = step.subWorkflowID
        else { return }
        if let existing = try? await store.run(id: childID) {
            if existing.status.isFinal {
                inbox.post(.childFinished(parentRunID: parentID, childRunID: childID, ok: existing.status == .completed, output: existing.output, error: existing.error))
            }
            return
        }
        guard let definition = try? await store.workflow(name: name, version: nil), definition.tenant == parent.record.tenant else {
            inbox.post(.childFinished(parentRunID: parentID, childRunID: childID, ok: false, output: nil, error: "no workflow named '\(name)' is registered"))
            return
        }
        let input = event.data ?? .object([:])
        let problems = WorkflowValidator.inputProblems(input, schema: definition.definition.inputSchema)
        guard problems.isEmpty, case .object = input else {
            let why = problems.first.map(\.description) ?? "input must be a JSON object"
            inbox.post(.childFinished(parentRunID: parentID, childRunID: childID, ok: false, output: nil, error: "input for workflow '\(name)' is refused: \(why)"))
            return
        }
        let now = Date()
        let record = WorkflowRunRecord(
            id: childID, workflow: name, version: definition.version, tenant: parent.record.tenant, input: input,
            parentRunID: parentID, parentStep: key, createdAt: now, updatedAt: now
        )
        inbox.post(.start(record, definition.definition, reply: nil))
    }

    /// Records a run's end, removes the agents it deployed (per cleanup policy) and tells its parent.
    func finish(runID: String) async {
        guard var run = active.removeValue(forKey: runID) else { return }
        let machine = run.machine
        // Tasks the run still had out are of no use now: not sent again (a cancel, a fail-fast,
        // a timeout leaves them open).
        for taskID in machine.outstandingTaskIDs {
            await controller.cancelWorkflowTask(id: taskID, reason: "run \(runID) is \(machine.status.rawValue)")
        }
        // So are its sub-workflow runs still going: they are cancelled in the next batch.
        for childID in machine.openChildRunIDs { inbox.post(.cancel(runID: childID, reply: nil)) }
        run.record.status = machine.status
        run.record.error = machine.error
        run.record.output = machine.status == .completed ? machine.state : nil
        run.record.finishedAt = machine.finishedAt ?? Date()
        run.record.updatedAt = Date()
        do {
            try await store.updateRun(run.record)
        } catch {
            logger.error("could not record a run's end", metadata: ["run": "\(runID)", "error": "\(error)"])
        }
        metrics.runFinished(run.record)
        ended[runID] = run
        let policy = machine.definition.effectiveConfig.cleanupPolicy
        if policy == .always || (policy == .onSuccess && machine.status == .completed) {
            // Agents let go of earlier are not stopped twice (and leave the `released` set here).
            for agentID in machine.deployedAgents.values.joined() where released.remove(agentID) == nil {
                _ = try? await controller.undeploy(agentID: agentID)
            }
        }
        logger.info("workflow run ended", metadata: ["run": "\(runID)", "workflow": "\(run.record.workflow)", "status": "\(machine.status.rawValue)"])
        if let parentID = run.record.parentRunID {
            inbox.post(.childFinished(parentRunID: parentID, childRunID: runID, ok: machine.status == .completed, output: machine.status == .completed ? machine.state : nil, error: machine.error))
        }
    }
}
