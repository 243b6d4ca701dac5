import DroverCore
import DroverStore
import Foundation
import Logging

/// Tasks: accept, dispatch at least once, take the first result, time out.
extension ClusterController {
    /// Stores a new task for an agent and sends it if the agent is running.
    func submitTask(agentID: String, request: TaskSubmitRequest) async throws -> TaskRecord {
        switch try await acceptTask(agentID: agentID, request: request) {
        case .existing(let task): return task
        case .new(let task, let agent): return try await insertAndDispatch(task, agent: agent)
        }
    }

    /// Submits a task and waits until it is final or its timeout passes (`?wait=true`). The
    /// waiter is armed before the task is stored and sent, so its result cannot slip past it,
    /// and the wait needs no read of the store.
    func submitTaskAndWait(agentID: String, request: TaskSubmitRequest) async throws -> TaskRecord {
        switch try await acceptTask(agentID: agentID, request: request) {
        case .existing(let task):
            return try await awaitTask(tenant: task.tenant, id: task.id, timeout: .seconds(task.timeoutSeconds)) ?? task
        case .new(let task, let agent):
            let ticket = await waiters.arm(tenant: task.tenant, id: task.id)
            let stored: TaskRecord
            do {
                stored = try await insertAndDispatch(task, agent: agent)
            } catch {
                await waiters.disarm(tenant: task.tenant, id: task.id, ticket: ticket)
                throw error
            }
            if let finished = await waiters.wait(tenant: task.tenant, id: task.id, ticket: ticket, timeout: .seconds(task.timeoutSeconds)) {
                return finished
            }
            return try await store.task(tenant: task.tenant, id: task.id) ?? stored
        }
    }

    /// A submitted task: new (not stored yet), or one that already has the `task_id` asked for.
    enum AcceptedTask {
        case new(TaskRecord, AgentRecord)
        case existing(TaskRecord)
    }

    /// Checks a submission and makes its record (or finds the task its `task_id` names).
    private func acceptTask(agentID: String, request: TaskSubmitRequest) async throws -> AcceptedTask {
        guard let agent = model.agent(id: agentID) else { throw APIError.notFound("agent", agentID) }
        guard agent.desiredState == .running else {
            throw APIError(.conflict, code: "agent_undeployed", "agent '\(agentID)' is undeployed and takes no tasks")
        }
        let timeout = request.timeoutSeconds ?? configuration.defaultTaskTimeout
        guard timeout > 0, timeout <= configuration.maxTaskTimeout else {
            throw APIError.badRequest("timeout_s must be greater than 0 and at most \(Int(configuration.maxTaskTimeout))")
        }
        guard request.input.depth <= 64 else { throw APIError.badRequest("input nests deeper than 64 levels") }
        if let taskID = request.taskID {
            guard NodeIdentity.isValidName(taskID) else {
                throw APIError.badRequest("task_id '\(taskID.prefix(64))' is invalid: use 1 to 128 letters, digits, '.', '_' or '-'")
            }
            if let existing = try await store.task(tenant: agent.tenant, id: taskID) {
                guard existing.agentID == agentID else {
                    throw APIError(.conflict, code: "task_exists", "task '\(taskID)' already exists for another agent")
                }
                return .existing(existing)
            }
        }
        let now = Date()
        let task = TaskRecord(
            id: request.taskID ?? Identifiers.make("tsk"), agentID: agentID, tenant: agent.tenant, input: request.input,
            timeoutSeconds: timeout, createdAt: now, deadline: now.addingTimeInterval(timeout)
        )
        return .new(task, agent)
    }

    /// Stores a new task and sends it at once when its agent runs: one write, the task stored
    /// already `dispatched` (durable before it leaves), instead of an insert and an update.
    /// Returns the task as stored.
    func insertAndDispatch(_ task: TaskRecord, agent: AgentRecord) async throws -> TaskRecord {
        let running = await sessions.reportedCopy(nodeID: agent.nodeID, agentID: agent.id)
        guard let plan = await dispatchPlan(task, agent: agent, running: running, now: Date()) else {
            try await store.insertTask(task)
            metrics.tasksSubmitted.increment()
            return task
        }
        try await store.insertTask(plan.sent)
        metrics.tasksSubmitted.increment()
        await send(plan)
        return plan.sent
    }

    /// Waits until the tenant's task is final or `timeout` passes, then returns it as stored.
    /// The waiter is armed before the task is read, so a result landing in between wakes it at once.
    func awaitTask(tenant: String, id: String, timeout: Duration) async throws -> TaskRecord? {
        let ticket = await waiters.arm(tenant: tenant, id: id)
        let task: TaskRecord?
        do {
            task = try await store.task(tenant: tenant, id: id)
        } catch {
            await waiters.disarm(tenant: tenant, id: id, ticket: ticket)
            throw error
        }
        guard let task, !task.status.isFinal, timeout > .zero else {
            await waiters.disarm(tenant: tenant, id: id, ticket: ticket)
            return task
        }
        if let finished = await waiters.wait(tenant: tenant, id: id, ticket: ticket, timeout: timeout) { return finished }
        return try await store.task(tenant: tenant, id: id) ?? task
    }

    /// Sends every open task whose agent runs now; finishes those past their deadline.
    func dispatchOpenTasks(agentIDs: [String]? = nil) async throws {
        let open = if let agentIDs { try await store.openTasks(agentIDs: agentIDs) } else { try await store.openTasks() }
        guard !open.isEmpty else { return }
        var agents: [String: AgentRecord?] = [:]
        for task in open {
            if agents[task.agentID] == nil { agents[task.agentID] = .some(model.agent(id: task.agentID)) }
            guard let agent = agents[task.agentID] ?? nil else {
                try await finish(task, status: .cancelled, error: "agent '\(task.agentID)' no longer exists")
                continue
            }
            try await dispatch(task, agent: agent, running: await sessions.reportedCopy(nodeID: agent.nodeID, agentID: agent.id))
        }
    }

    /// Sends one task if its agent runs at the current generation on a connected node.
    func dispatch(_ task: TaskRecord, agent: AgentRecord, running: NodeProtocol.RunningAgent?) async throws {
        let now = Date()
        if now >= task.deadline {
            try await finish(task, status: .timedOut, error: "no result within \(task.timeoutSeconds) s")
            return
        }
        guard agent.desiredState == .running else {
            try await finish(task, status: .cancelled, error: "agent '\(agent.id)' was undeployed")
            return
        }
        guard let plan = await dispatchPlan(task, agent: agent, running: running, now: now) else { return }
        // Durable before it leaves: a restarted manager sees the attempt and sends it again.
        guard try await store.updateOpenTask(plan.sent) else { return }
        await send(plan)
    }

    /// A task on its way to a node: the record as stored once sent, and the frame.
    struct DispatchPlan {
        let sent: TaskRecord
        let run: NodeProtocol.TaskRun
        let nodeID: String
    }

    /// How `task` goes out now, or `nil` when its agent does not run at its generation on a
    /// connected node, or the session carries the task already.
    /// `running` is the copy of the agent its node reports.
    private func dispatchPlan(_ task: TaskRecord, agent: AgentRecord, running: NodeProtocol.RunningAgent?, now: Date) async -> DispatchPlan? {
        guard let nodeID = agent.nodeID, let running, running.generation == agent.generation, running.status == .running,
            await !sessions.isDispatched(agentID: agent.id, taskID: task.id, nodeID: nodeID)
        else { return nil }
        var sent = task
        sent.status = .dispatched
        sent.attempt += 1
        sent.nodeID = nodeID
        sent.generation = agent.generation
        sent.dispatchedAt = now
        let run = NodeProtocol.TaskRun(
            taskID: task.id, agentID: agent.id, generation: agent.generation, input: task.input, attempt: sent.attempt,
            timeoutSeconds: max(0.001, task.deadline.timeIntervalSince(now)), workflow: task.workflow
        )
        return DispatchPlan(sent: sent, run: run, nodeID: nodeID)
    }

    /// Sends a planned task (already stored as sent) and remembers it for its result.
    private func send(_ plan: DispatchPlan) async {
        // Kept before the frame leaves (its answer may come at once); dropped when it did not leave.
        let key = Self.dispatchKey(agentID: plan.sent.agentID, taskID: plan.sent.id)
        dispatchedTasks.withLock { $0[key] = plan.sent }
        if await sessions.dispatch(plan.run, to: plan.nodeID) {
            metrics.tasksDispatched.increment()
        } else {
            dispatchedTasks.withLock { _ = $0.removeValue(forKey: key) }
        }
    }

    /// Tasks are answered by agent and task id (task ids are per tenant, an agent has one tenant).
    static func dispatchKey(agentID: String, taskID: String) -> String { "\(agentID)/\(taskID)" }

    /// The first result from the current generation wins; the rest are dropped.
    func taskResultReceived(_ result: NodeProtocol.TaskResult, from nodeID: String) async throws {
        await sessions.settle(agentID: result.agentID, taskID: result.taskID, nodeID: nodeID)
        if result.rejected == true {
            logger.debug("node did not run task; it will be sent again", metadata: ["task": "\(result.taskID)", "node": "\(nodeID)", "error": "\(result.error ?? "-")"])
            return
        }
        // Task ids are per tenant: the task is the one of the agent's tenant (an agent belongs to one).
        // The record sent is kept in memory until its answer; the store is read only without it.
        let sent = dispatchedTasks.withLock { $0.removeValue(forKey: Self.dispatchKey(agentID: result.agentID, taskID: result.taskID)) }
        let agent = model.agent(id: result.agentID)
        let found = if let sent {
            sent
        } else if let agent {
            try await store.task(tenant: agent.tenant, id: result.taskID)
        } else {
            try await store.tasks(id: result.taskID).first { $0.agentID == result.agentID }
        }
        guard let task = found, task.agentID == result.agentID else { return }
        // Fencing first: a copy the agent has moved away from never gets a say, answered task or not.
        guard let agent, agent.nodeID == nodeID, agent.generation == result.generation else {
            logger.warning("result from a stale copy rejected", metadata: ["task": "\(result.taskID)", "node": "\(nodeID)", "generation": "\(result.generation)"])
            metrics.fencedFrames.increment()
            return
        }
        guard !task.status.isFinal else { return }
        var done = task
        done.status = result.ok ? .succeeded : .failed
        done.output = result.ok ? (result.output ?? .null) : nil
        done.error = result.ok ? nil : (result.error ?? "the agent reported an error")
        done.generation = result.generation
        done.nodeID = nodeID
        done.completedAt = Date()
        if try await store.updateOpenTask(done) {
            metrics.taskFinished(done)
            await waiters.finished(done)
            notifyWorkflow(done)
        }
    }

    private func finish(_ task: TaskRecord, status: TaskStatus, error: String) async throws {
        dispatchedTasks.withLock { _ = $0.removeValue(forKey: Self.dispatchKey(agentID: task.agentID, taskID: task.id)) }
        var done = task
        done.status = status
        done.error = error
        done.completedAt = Date()
        if try await store.updateOpenTask(done) {
            metrics.taskFinished(done)
            await waiters.finished(done)
            notifyWorkflow(done)
        }
    }
}

/// Ids the manager hands out: a short prefix and 20 random hex digits.
enum Identifiers {
    static func make(_ prefix: String) -> String {
        let hex = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        return "\(prefix)-\(hex.prefix(20))"
    }
}
