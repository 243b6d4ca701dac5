import DroverCore
import Foundation
import Logging

/// `task.run`: fencing, idempotency by task id, timeouts.
extension AgentSupervisor {
    /// How one delivery of a task ended on this node.
    enum Execution: Sendable {
        case completed(TaskOutcome)
        /// Not run at all (wrong generation, agent gone or failed); the manager may send it again.
        case rejected(String)
        case timedOut
    }

    /// Longest task timeout honoured, in seconds.
    static let maxTaskSeconds = 86_400.0

    /// Accepts a task; its `task.result` comes out of `events` when it is done.
    func submit(_ run: NodeProtocol.TaskRun) {
        if let cached = results[run.agentID, run.taskID], cached.generation == run.generation {
            logger.debug("duplicate task answered from the result cache", metadata: ["task": "\(run.taskID)"])
            metrics.duplicateTasks.increment()
            emit(.taskResult(cached))
            return
        }
        if inFlight.contains(NodeProtocol.deliveryKey(agentID: run.agentID, taskID: run.taskID)) {
            logger.debug("duplicate of a task in flight ignored; its result follows when done", metadata: ["task": "\(run.taskID)"])
            metrics.duplicateTasks.increment()
            return
        }
        if let reason = rejection(for: run) {
            logger.info("task rejected: \(reason)", metadata: ["task": "\(run.taskID)", "agent": "\(run.agentID)"])
            finish(run, agentType: agents[run.agentID]?.agentType ?? "unknown", execution: .rejected(reason), elapsed: .zero, counted: false)
            return
        }
        inFlight.insert(NodeProtocol.deliveryKey(agentID: run.agentID, taskID: run.taskID))
        agents[run.agentID]?.tasksInFlight += 1
        spawn { await self.execute(run) }
    }

    /// Why `run` cannot run here now, or `nil` if it can (or can once its agent is up).
    private func rejection(for run: NodeProtocol.TaskRun) -> String? {
        guard !shuttingDown else { return "the node is shutting down" }
        guard let record = agents[run.agentID] else { return "agent '\(run.agentID)' does not run on this node" }
        guard record.generation == run.generation else {
            return "agent '\(run.agentID)' runs here at generation \(record.generation), not \(run.generation)"
        }
        switch record.status {
        case .starting, .running: return nil
        case .failed: return "agent '\(run.agentID)' has failed: \(record.lastError ?? "unknown error")"
        case .stopped, .pending: return "agent '\(run.agentID)' is \(record.status.rawValue)"
        }
    }

    private func execute(_ run: NodeProtocol.TaskRun) async {
        let started = ContinuousClock.now
        let agentType = agents[run.agentID]?.agentType ?? "unknown"
        let seconds = run.timeoutSeconds.isFinite ? min(max(run.timeoutSeconds, 0.001), Self.maxTaskSeconds) : Self.maxTaskSeconds
        var execution = await withTaskGroup(of: Execution.self) { group in
            group.addTask { await self.runWhenReady(run) }
            group.addTask {
                try? await Task.sleep(for: .seconds(double: seconds))
                return .timedOut
            }
            let first = await group.next() ?? .timedOut
            group.cancelAll()
            return first
        }
        if shuttingDown {
            // Cut short by the node stopping, not by the task: let the manager send it again elsewhere.
            switch execution {
            case .completed(.failure(let message)): execution = .rejected("the node shut down before the task finished (\(message))")
            case .timedOut: execution = .rejected("the node shut down before the task finished")
            case .completed(.success), .rejected: break
            }
        }
        finish(run, agentType: agentType, execution: execution, elapsed: started.duration(to: .now))
    }

    /// Runs the task once its agent is running at the task's generation.
    private func runWhenReady(_ run: NodeProtocol.TaskRun) async -> Execution {
        while true {
            if Task.isCancelled { return .timedOut }
            guard let record = agents[run.agentID], record.generation == run.generation else {
                return .rejected("agent '\(run.agentID)' was stopped or replaced before the task ran")
            }
            if shuttingDown { return .rejected("the node is shutting down") }
            switch record.status {
            case .running:
                if let instance = record.instance {
                    let task = AgentTask(taskID: run.taskID, input: run.input, attempt: run.attempt, timeoutSeconds: run.timeoutSeconds, workflow: run.workflow)
                    return .completed(await instance.perform(task))
                }
                await waitForChange(of: run.agentID)
            case .starting, .pending:
                await waitForChange(of: run.agentID)
            case .failed:
                return .rejected("agent '\(run.agentID)' has failed: \(record.lastError ?? "unknown error")")
            case .stopped:
                return .rejected("agent '\(run.agentID)' was stopped")
            }
        }
    }

    /// Counts, caches and reports one task's end.
    private func finish(_ run: NodeProtocol.TaskRun, agentType: String, execution: Execution, elapsed: Duration, counted: Bool = true) {
        inFlight.remove(NodeProtocol.deliveryKey(agentID: run.agentID, taskID: run.taskID))
        var result = NodeProtocol.TaskResult(taskID: run.taskID, agentID: run.agentID, generation: run.generation, ok: false)
        let outcome: String
        switch execution {
        case .completed(.success(let output)):
            result.ok = true
            result.output = output
            outcome = "succeeded"
        case .completed(.failure(let message)):
            result.error = message
            outcome = "failed"
        case .timedOut:
            result.error = "task did not finish within \(Self.formatSeconds(run.timeoutSeconds)) s"
            outcome = "timed_out"
        case .rejected(let message):
            result.error = message
            result.rejected = true
            outcome = "rejected"
        }
        if counted, var record = agents[run.agentID], record.generation == run.generation {
            record.tasksInFlight = max(0, record.tasksInFlight - 1)
            switch outcome {
            case "succeeded": record.tasksCompleted += 1
            case "rejected": break
            default: record.tasksFailed += 1
            }
            agents[run.agentID] = record
        }
        if result.rejected != true { results.insert(result) }
        metrics.taskFinished(agentType: agentType, outcome: outcome, duration: elapsed)
        if outcome == "failed" || outcome == "timed_out" {
            logger.info("task \(outcome == "failed" ? "failed" : "timed out")", metadata: [
                "task": "\(run.taskID)", "agent": "\(run.agentID)", "error": "\(result.error ?? "-")",
            ])
        }
        emit(.taskResult(result))
    }

    static func formatSeconds(_ seconds: Double) -> String {
        seconds.rounded() == seconds && abs(seconds) < 1e9 ? String(Int(seconds)) : String(format: "%.3g", seconds)
    }
}
