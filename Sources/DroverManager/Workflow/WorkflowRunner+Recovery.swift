import DroverCore
import DroverStore
import Foundation

/// Picking runs up again after a restart (or after a failed history append).
extension WorkflowRunner {
    /// Loads every open run from the store, replays its history, and carries on: work whose
    /// answer arrived while the manager was away is taken, work that never left is sent again,
    /// and runs whose end was recorded but not acted on are finished.
    func recover() async {
        do {
            let agents = controller.model.agents()
            pools.recover(agents: agents, workflows: try await store.workflows(), now: Date())
            let open = try await store.openRuns()
            await resume(runIDs: open.map(RunKey.init))
            if !open.isEmpty { logger.info("workflow runs resumed", metadata: ["runs": "\(open.count)"]) }
            await removeUnrecordedAgents(agents)
        } catch {
            logger.error("could not resume workflow runs", metadata: ["error": "\(error)"])
        }
    }

    /// Undeploys agents a run placed just before the manager stopped, before their
    /// `agent_deployed` event was recorded: no step of the run knows them, and the cleanup
    /// policy would never find them.
    private func removeUnrecordedAgents(_ agents: [AgentRecord]) async {
        for agent in agents where agent.desiredState == .running {
            guard let runID = agent.labels["drover.run"].map({ RunKey(tenant: agent.tenant, id: $0) }), let run = active[runID] else { continue }
            guard !run.machine.deployedAgents.values.contains(where: { $0.contains(agent.id) }) else { continue }
            logger.info("removing an agent its run never recorded", metadata: ["run": "\(runID)", "agent": "\(agent.id)"])
            _ = try? await controller.undeploy(agentID: agent.id)
        }
    }

    /// Rebuilds the named runs from their histories and resumes them.
    func resume(runIDs: [RunKey]) async {
        var resumed: Set<RunKey> = []
        for runID in runIDs {
            do {
                guard let record = try await store.run(tenant: runID.tenant, id: runID.id), record.status == .running else { continue }
                guard let workflow = try await store.workflow(tenant: record.tenant, name: record.workflow, version: record.version) else {
                    var failed = record
                    failed.status = .failed
                    failed.error = "workflow '\(record.workflow)' version \(record.version) is no longer stored"
                    failed.finishedAt = Date()
                    try await store.updateRun(failed)
                    await runWaiters.finished(runID, nil)
                    continue
                }
                let history = try await store.history(tenant: runID.tenant, runID: runID.id, after: 0, limit: Int.max)
                var machine = WorkflowMachine.replay(runID: runID.id, definition: workflow.definition, history: history)
                if history.isEmpty {
                    let started = machine.start(input: record.input, now: Date())
                    try await store.appendHistory(tenant: runID.tenant, runID: runID.id, started)
                }
                active[runID] = ActiveRun(record: record, machine: machine)
                if machine.status.isFinal {
                    await finish(runID: runID)
                    continue
                }
                await resumeWork(runID: runID, machine: machine, history: history)
                // A task the store refused sets the run aside again.
                if active[runID] != nil { resumed.insert(runID) }
            } catch where isStoreUnavailable(error) {
                park(runID, because: error)
            } catch {
                logger.error("could not resume a workflow run", metadata: ["run": "\(runID)", "error": "\(error)"])
            }
        }
        if !resumed.isEmpty { await process([], resumed: resumed) }
    }

    /// For each attempt in flight: take its answer if it came, send it again if it never left.
    private func resumeWork(runID: RunKey, machine: WorkflowMachine, history: [WorkflowEvent]) async {
        let inFlight = machine.inFlight
        guard !inFlight.isEmpty else { return }
        let wanted = Set(inFlight.compactMap { $0.taskID ?? $0.childRunID })
        var sentBy: [String: WorkflowEvent] = [:]
        for event in history {
            if let id = event.taskID ?? event.childRunID, wanted.contains(id) { sentBy[id] = event }
        }
        for work in inFlight {
            if let taskID = work.taskID {
                let stored = try? await store.task(tenant: runID.tenant, id: taskID)
                if let stored {
                    if stored.status.isFinal { inbox.post(.taskFinished(stored)) }
                    continue
                }
                guard var event = sentBy[taskID] else { continue }
                if event.agentID == nil, let agentID = machine.steps[work.step]?.agentID { event.agentID = agentID }
                await submit(event, runID: runID)
            } else if let childID = work.childRunID, let event = sentBy[childID] {
                await startChild(event, parentID: runID)
            }
        }
    }
}
