import DroverCore
import DroverStore
import Foundation

/// What the workflow engine asks of the cluster: tasks for its steps, agents for its runs.
extension ClusterController {
    /// Stores and sends the task of one step attempt. Idempotent by task id: a task that exists
    /// already (a resumed run resubmitting) is returned as stored.
    func submitWorkflowTask(id: String, agentID: String, input: JSONValue, timeoutSeconds: Double, context: WorkflowTaskContext) async throws -> TaskRecord {
        guard let agent = model.agent(id: agentID), agent.desiredState == .running else {
            throw APIError(.conflict, code: "agent_undeployed", "agent '\(agentID)' is not deployed")
        }
        let timeout = min(max(timeoutSeconds, 0.001), configuration.maxTaskTimeout)
        let now = Date()
        let task = TaskRecord(
            id: id, agentID: agentID, tenant: agent.tenant, input: input, timeoutSeconds: timeout, createdAt: now,
            deadline: now.addingTimeInterval(timeout), workflow: context
        )
        do {
            return try await insertAndDispatch(task, agent: agent)
        } catch StoreError.duplicate {
            return try await store.task(tenant: agent.tenant, id: id) ?? task
        }
    }

    /// Marks a workflow task of `tenant` that is still open `cancelled`, so it is not sent again
    /// (its run ended). A result that arrives later from a node finds it final and is dropped.
    func cancelWorkflowTask(tenant: String, id: String, reason: String) async {
        guard let task = try? await store.task(tenant: tenant, id: id), !task.status.isFinal else { return }
        dispatchedTasks.withLock { _ = $0.removeValue(forKey: Self.dispatchKey(agentID: task.agentID, taskID: task.id)) }
        var done = task
        done.status = .cancelled
        done.error = reason
        done.completedAt = Date()
        if (try? await store.updateOpenTask(done)) == true {
            metrics.taskFinished(done)
            await waiters.finished(done)
        }
    }

    /// Hands a final workflow task to the engine.
    func notifyWorkflow(_ task: TaskRecord) {
        guard task.workflow != nil else { return }
        let observer = workflowTaskObserver.withLock { $0 }
        observer?.taskFinished(task)
    }
}

/// Who hears of finished workflow tasks.
///
/// A struct around the closure, not the bare closure, in the `Mutex`: reading a bare closure
/// through `withLock`'s generic `inout` wraps it in one more reabstraction thunk and writes it
/// back each time, until calling it overflows the stack (seen after ~20,000 tasks).
struct TaskObserver: Sendable {
    let taskFinished: @Sendable (TaskRecord) -> Void
}
