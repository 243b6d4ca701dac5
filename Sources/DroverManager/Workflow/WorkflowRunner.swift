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
    /// Told when a run's end is stored (for `?wait=true`).
    let runWaiters: CompletionWaiters<RunKey, WorkflowRunView?>
    /// Runs in progress, by tenant and run id (run ids are per tenant).
    var active: [RunKey: ActiveRun] = [:]
    /// Runs that ended in the current batch, for the replies that come after it.
    private var ended: [RunKey: ActiveRun] = [:]
    private var lastShrink = Date.distantPast
    /// Run-owned agents already let go of before their run ended.
    private var released: Set<String> = []
    /// Runs set aside because the store refused a write for them, with when to try again: each is
    /// rebuilt from its history then (`resume`), so nothing decided but not recorded takes effect.
    var parked: [RunKey: Date] = [:]
    /// Writes refused in a row, per run, for the backoff of `parked`.
    private var refusedWrites: [RunKey: Int] = [:]
    /// Cancels that arrived (from a parent that ended) while the run was parked: applied when it resumes.
    private var cancelWhenResumed: Set<RunKey> = []
    /// Agents placed for a batch that was not recorded (the store refused it): undeployed as soon as the store lets us.
    private var unrecordedAgents: Set<String> = []

    init(controller: ClusterController, inbox: WorkflowInbox, metrics: WorkflowMetrics, runWaiters: CompletionWaiters<RunKey, WorkflowRunView?>) {
        self.runWaiters = runWaiters
        self.controller = controller
        self.store = controller.store
        self.logger = controller.logger
        self.inbox = inbox
        self.metrics = metrics
        self.pools = WorkflowPools(controller: controller, logger: controller.logger)
    }

    /// The earliest timer (a retry, a wait, a run timeout) among the runs in progress.
    var nextWakeup: Date? {
        (active.values.compactMap(\.machine.nextWakeup) + parked.values).min()
    }

    /// Sets a run aside after the store refused a write for it; it is rebuilt from its history
    /// after a backoff (0.25 s doubling to 5 s), so a store that stays full costs a few tries a
    /// second, not a spin, and the run carries on where it stopped once writes go through.
    func park(_ runID: RunKey, because error: any Error, now: Date = Date()) {
        active[runID] = nil
        let refused = (refusedWrites[runID] ?? 0) + 1
        refusedWrites[runID] = refused
        parked[runID] = now.addingTimeInterval(min(0.25 * pow(2, Double(min(refused, 6) - 1)), 5))
        if refused == 1 {
            logger.warning(
                "a run's step cannot be recorded; the run waits and resumes once the store takes writes",
                metadata: ["run": "\(runID)", "error": "\(error)"]
            )
        }
    }

    /// Resumes the parked runs whose backoff has passed.
    private func resumeParked(now: Date) async {
        let due = parked.filter { $0.value <= now }.keys.sorted()
        guard !due.isEmpty else { return }
        await undeployUnrecordedAgents()
        for runID in due { parked[runID] = nil }
        await resume(runIDs: due)
    }

    // MARK: One batch

    /// Handles a batch of inputs (possibly none: then only due timers fire).
    func process(_ inputs: [WorkflowInput], resumed: Set<RunKey> = []) async {
        if resumed.isEmpty { await resumeParked(now: Date()) }
        let now = Date()
        var made: [RunKey: [WorkflowEvent]] = [:]
        var touched = resumed
        var viewReplies: [(RunKey, WorkflowInput.Reply<WorkflowRunView>)] = []
        var startReplies: [(WorkflowRunRecord, WorkflowInput.Reply<WorkflowRunRecord>)] = []
        ended = [:]

        for input in inputs {
            switch input {
            case .start(let record, let definition, let reply):
                if let existing = active[RunKey(record)] {
                    reply?.succeed(existing.record)
                    continue
                }
                do {
                    try await store.insertRun(record)
                } catch StoreError.duplicate {
                    if let stored = try? await store.run(tenant: record.tenant, id: record.id) { reply?.succeed(stored) } else { reply?.fail(APIError.notFound("run", record.id)) }
                    continue
                } catch {
                    reply?.fail(error)
                    if reply == nil, let parentID = record.parentRunID {
                        // A sub-workflow: its parent waits for it. A store that refused it sets the
                        // parent aside (it starts the child again when it resumes); anything else fails the step.
                        let parent = RunKey(tenant: record.tenant, id: parentID)
                        if isStoreUnavailable(error) {
                            if active[parent] != nil { park(parent, because: error, now: now) }
                        } else {
                            inbox.post(.childFinished(parentRunID: parent, childRunID: record.id, ok: false, output: nil, error: "the sub-workflow could not be started: \(error)"))
                        }
                    }
                    continue
                }
                var machine = WorkflowMachine(runID: record.id, definition: definition)
                made[RunKey(record), default: []] += machine.start(input: record.input, now: now)
                active[RunKey(record)] = ActiveRun(record: record, machine: machine)
                touched.insert(RunKey(record))
                metrics.runsStarted.increment()
                if let reply { startReplies.append((record, reply)) }
            case .taskFinished(let task):
                pools.release(agentID: task.agentID, now: now)
                guard let context = task.workflow else { continue }
                let runID = RunKey(tenant: task.tenant, id: context.runID)
                guard active[runID] != nil else { continue }
                let events = active[runID]!.machine.taskFinished(
                    step: context.stepID, item: context.item, attempt: context.attempt, ok: task.status == .succeeded,
                    output: task.output, error: task.error ?? "task \(task.status.rawValue)", agentID: task.agentID, nodeID: task.nodeID, now: now
                )
                if !events.isEmpty {
                    metrics.stepFinished(task, now: now)
                    made[runID, default: []] += events
                    touched.insert(runID)
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
                    if let reply {
                        reply.fail(await notActive(runID, action: "be cancelled"))
                    } else if parked[runID] != nil {
                        cancelWhenResumed.insert(runID)
                    }
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

        for runID in cancelWhenResumed where active[runID] != nil {
            cancelWhenResumed.remove(runID)
            made[runID, default: []] += active[runID]!.machine.cancel(now: now)
            touched.insert(runID)
        }
        // Keys only: a filtered copy of `active` would share every machine's arrays, and the
        // machines changed below would then copy them whole (a 10,000-item map, every batch).
        let due = active.keys.filter { touched.contains($0) || (active[$0]?.machine.nextWakeup.map { $0 <= now } ?? false) }
        for runID in due.sorted() {
            made[runID, default: []] += active[runID]!.machine.decide(now: now)
        }
        for runID in made.keys.sorted() {
            do {
                try await assignAgents(runID: runID, events: &made[runID]!, now: now)
            } catch {
                // The store refused a placement: nothing of this batch is recorded for the run.
                await discard(made.removeValue(forKey: runID) ?? [], now: now)
                park(runID, because: error, now: now)
            }
        }

        // Durable first: each run's new events in one append, then their effects.
        var effects: [(RunKey, WorkflowEvent)] = []
        for (runID, events) in made where !events.isEmpty {
            do {
                try await store.appendHistory(tenant: runID.tenant, runID: runID.id, events)
                effects += events.map { (runID, $0) }
                if refusedWrites.removeValue(forKey: runID) != nil {
                    logger.notice("a run that waited for the store goes on", metadata: ["run": "\(runID)"])
                }
            } catch {
                // What the machine decided is not recorded: the run is rebuilt from its history later.
                await discard(events, now: now)
                park(runID, because: error, now: now)
            }
        }
        // Tasks first, all at once (their inserts share one commit), then the rest in order: a
        // run's end comes after its tasks, so a run that ends in this batch cancels them.
        await submitAll(effects.filter { $0.1.kind == .stepScheduled })
        for (runID, event) in effects where event.kind != .stepScheduled && parked[runID] == nil {
            await perform(event, runID: runID)
        }
        for runID in made.keys.sorted() { await releaseUnneededAgents(runID: runID) }
        for (record, reply) in startReplies { reply.succeed(record) }
        for (runID, reply) in viewReplies {
            if let run = active[runID] ?? ended[runID] {
                reply.succeed(WorkflowRunView(record: run.record, machine: run.machine))
            } else if parked[runID] != nil {
                // The signal or cancel was not recorded: the caller sends it again.
                reply.fail(APIError.storeUnavailable("run '\(runID.id)' could not record it"))
            } else {
                reply.fail(APIError.notFound("run", runID.id))
            }
        }
        if now.timeIntervalSince(lastShrink) >= 1 {
            lastShrink = now
            await pools.shrinkIdle(now: now)
        }
    }

    /// Gives back what a batch took for events that will not be recorded: pool leases, and the
    /// agents it placed for the run (which no recorded event knows).
    private func discard(_ events: [WorkflowEvent], now: Date) async {
        for event in events {
            if event.kind == .stepScheduled, let agentID = event.agentID { pools.release(agentID: agentID, now: now) }
            if event.kind == .agentDeployed, let agentID = event.agentID { unrecordedAgents.insert(agentID) }
        }
        await undeployUnrecordedAgents()
    }

    /// Undeploys the agents of unrecorded batches; those the store still refuses are tried again later.
    private func undeployUnrecordedAgents() async {
        for agentID in unrecordedAgents.sorted() {
            do {
                _ = try await controller.undeploy(agentID: agentID)
                unrecordedAgents.remove(agentID)
            } catch {
                break
            }
        }
    }

    private func notActive(_ runID: RunKey, action: String) async -> any Error {
        if parked[runID] != nil { return APIError.storeUnavailable("run '\(runID.id)' waits for the store to record its last step") }
        guard let record = try? await store.run(tenant: runID.tenant, id: runID.id) else { return APIError.notFound("run", runID.id) }
        return APIError(.conflict, code: "run_finished", "run '\(runID.id)' is \(record.status.rawValue) and cannot \(action)")
    }

    // MARK: Agents

    /// Picks the agent of every newly scheduled attempt; a step whose agent cannot be had fails.
    /// Throws when the store refused a placement (the step does not fail: the run waits).
    private func assignAgents(runID: RunKey, events: inout [WorkflowEvent], now: Date) async throws {
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
            } catch where isStoreUnavailable(error) {
                throw error
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
            return try await pools.acquire(WorkflowPools.key(tenant: run.record.tenant, workflow: run.record.workflow, pool: poolName), now: now)
        }
        guard let agentType = step.agentType else { throw APIError.badRequest("step '\(key)' names no agent_type or pool") }
        if let existing = run.machine.deployedAgents[agentType]?.last {
            if usable[existing] == nil {
                let agent = controller.model.agent(id: existing)
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
    private func releaseUnneededAgents(runID: RunKey) async {
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

    private func perform(_ event: WorkflowEvent, runID: RunKey) async {
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

    /// Sends the task of a scheduled attempt; a task that cannot be sent fails the attempt, and
    /// one the store cannot record sets the run aside (it is sent again when the run resumes).
    func submit(_ event: WorkflowEvent, runID: RunKey) async {
        await submitAll([(runID, event)])
    }

    /// The task of one scheduled attempt, ready to send.
    private struct Submission: Sendable {
        let runID: RunKey
        let taskID: String
        let agentID: String?
        let input: JSONValue
        let timeout: Double
        let context: WorkflowTaskContext
    }

    /// Sends the tasks of scheduled attempts concurrently (so their writes are committed
    /// together), then settles each outcome as `submit` says.
    private func submitAll(_ events: [(RunKey, WorkflowEvent)]) async {
        let submissions: [Submission] = events.compactMap { runID, event in
            guard parked[runID] == nil, let key = event.step, let taskID = event.taskID, let attempt = event.attempt else { return nil }
            return Submission(
                runID: runID, taskID: taskID, agentID: event.agentID, input: event.data ?? .null,
                timeout: active[runID]?.machine.definition(of: key)?.timeout?.seconds ?? controller.configuration.defaultTaskTimeout,
                context: WorkflowTaskContext(runID: runID.id, stepID: key, item: event.item, attempt: attempt)
            )
        }
        guard !submissions.isEmpty else { return }
        let cluster = self.controller
        let outcomes = await withTaskGroup(of: (Int, (any Error)?).self) { group in
            for (index, submission) in submissions.enumerated() {
                group.addTask {
                    do {
                        guard let agentID = submission.agentID else { throw APIError.badRequest("no agent was chosen") }
                        _ = try await cluster.submitWorkflowTask(
                            id: submission.taskID, agentID: agentID, input: submission.input, timeoutSeconds: submission.timeout, context: submission.context
                        )
                        return (index, nil)
                    } catch {
                        return (index, error)
                    }
                }
            }
            var outcomes = [(any Error)?](repeating: nil, count: submissions.count)
            for await (index, error) in group { outcomes[index] = error }
            return outcomes
        }
        for (submission, error) in zip(submissions, outcomes) {
            guard let error else { continue }
            if isStoreUnavailable(error) {
                if parked[submission.runID] == nil { park(submission.runID, because: error) }
                continue
            }
            let now = Date()
            var failed = TaskRecord(
                id: submission.taskID, agentID: submission.agentID ?? "", tenant: submission.runID.tenant, input: submission.input,
                status: .failed, timeoutSeconds: submission.timeout, createdAt: now, deadline: now, workflow: submission.context
            )
            failed.error = "the task could not be sent: \(error)"
            inbox.post(.taskFinished(failed))
        }
    }

    /// Starts a sub-workflow run for a step; a missing workflow fails the step.
    func startChild(_ event: WorkflowEvent, parentID: RunKey) async {
        guard let childID = event.childRunID, let key = event.step, let parent = active[parentID],
            let step = parent.machine.definition(of: key), let name = step.subWorkflowID
        else { return }
        if let existing = try? await store.run(tenant: parentID.tenant, id: childID) {
            if existing.status.isFinal {
                inbox.post(.childFinished(parentRunID: parentID, childRunID: childID, ok: existing.status == .completed, output: existing.output, error: existing.error))
            }
            return
        }
        guard let definition = try? await store.workflow(tenant: parent.record.tenant, name: name, version: nil) else {
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
            parentRunID: parentID.id, parentStep: key, createdAt: now, updatedAt: now
        )
        inbox.post(.start(record, definition.definition, reply: nil))
    }

    /// Records a run's end, removes the agents it deployed (per cleanup policy) and tells its parent.
    func finish(runID: RunKey) async {
        guard var run = active.removeValue(forKey: runID) else { return }
        let machine = run.machine
        // Tasks the run still had out are of no use now: not sent again (a cancel, a fail-fast,
        // a timeout leaves them open).
        for taskID in machine.outstandingTaskIDs {
            await controller.cancelWorkflowTask(tenant: runID.tenant, id: taskID, reason: "run \(runID.id) is \(machine.status.rawValue)")
        }
        // So are its sub-workflow runs still going: they are cancelled in the next batch.
        for childID in machine.openChildRunIDs { inbox.post(.cancel(runID: RunKey(tenant: runID.tenant, id: childID), reply: nil)) }
        run.record.status = machine.status
        run.record.error = machine.error
        run.record.output = machine.status == .completed ? machine.state : nil
        run.record.finishedAt = machine.finishedAt ?? Date()
        run.record.updatedAt = Date()
        ended[runID] = run
        do {
            try await store.updateRun(run.record)
        } catch {
            // Its end is in the history: it is finished again (cleanup, parent) when it resumes.
            park(runID, because: error)
            return
        }
        metrics.runFinished(run.record)
        // The final view for `?wait=true` callers, built only when someone waits (a map's view is large).
        if await runWaiters.isWaiting(runID) { await runWaiters.finished(runID, WorkflowRunView(record: run.record, machine: run.machine)) }
        let policy = machine.definition.effectiveConfig.cleanupPolicy
        if policy == .always || (policy == .onSuccess && machine.status == .completed) {
            // Agents let go of earlier are not stopped twice (and leave the `released` set here).
            for agentID in machine.deployedAgents.values.joined() where released.remove(agentID) == nil {
                _ = try? await controller.undeploy(agentID: agentID)
            }
        }
        logger.info("workflow run ended", metadata: ["run": "\(runID)", "workflow": "\(run.record.workflow)", "status": "\(machine.status.rawValue)"])
        if let parentID = run.record.parentRunID {
            inbox.post(.childFinished(parentRunID: RunKey(tenant: runID.tenant, id: parentID), childRunID: runID.id, ok: machine.status == .completed, output: machine.status == .completed ? machine.state : nil, error: machine.error))
        }
    }
}
