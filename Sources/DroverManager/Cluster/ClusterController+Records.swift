import DroverCore
import DroverStore
import Foundation

/// The only ways the controller changes node and agent records: the store first, then — once
/// the write is durable — the in-memory `ClusterModel` that placement, lists and status read.
extension ClusterController {
    /// Stores agents just placed, whose room the model has reserved (all in one transaction),
    /// then turns the reservations into agents; gives the room back if the store refuses them.
    func storePlaced(_ agents: [AgentRecord]) async throws {
        do {
            if agents.count == 1 { try await store.upsertAgent(agents[0]) } else { try await store.upsertAgents(agents) }
        } catch {
            model.release(agents)
            throw error
        }
        model.commit(agents)
    }

    /// Changes an agent by read-modify-write on its current record, serialised with every other
    /// write of that agent. `change` returns `false` to leave the record as it is.
    /// Returns the record before and after (`nil` if there is no such agent).
    @discardableResult
    func updateAgent(id: String, _ change: @Sendable (inout AgentRecord) throws -> Bool) async throws -> AgentChange? {
        try await agentWrites.withLock(id) {
            guard let before = model.agent(id: id) else { return nil }
            var after = before
            guard try change(&after) else { return AgentChange(before: before, after: before, changed: false) }
            try await store.upsertAgent(after)
            model.put(after)
            return AgentChange(before: before, after: after, changed: true)
        }
    }

    /// Records a batch of status reports from nodes in one store write: each report counts if
    /// its agent is still placed on that node at that generation (a stale copy's report changes
    /// nothing), an agent's reports in the order they came. Returns the records afterwards and
    /// the reports of failure that counted. The agents' stripes are held for the whole batch.
    func recordStatuses(_ items: [AgentStatusQueue.Item]) async throws -> RecordedStatuses {
        try await agentWrites.withLocks(items.map(\.report.agentID)) {
            var changed: [String: AgentRecord] = [:]
            var errors: [String: String] = [:]
            var order: [String] = []
            var failures: [AgentStatusQueue.Item] = []
            for item in items {
                let report = item.report
                guard var agent = changed[report.agentID] ?? model.agent(id: report.agentID),
                    agent.nodeID == item.nodeID, agent.generation == report.generation
                else {
                    logger.debug("status from a stale copy ignored", metadata: ["agent": "\(report.agentID)", "node": "\(item.nodeID)", "generation": "\(report.generation)"])
                    continue
                }
                agent.status = report.status
                agent.restarts = report.restarts
                if let error = report.error {
                    agent.lastError = error
                    errors[agent.id] = error
                }
                agent.updatedAt = item.at
                if changed[agent.id] == nil { order.append(agent.id) }
                changed[agent.id] = agent
                if report.status == .failed { failures.append(item) }
            }
            let updates = order.compactMap { id in
                changed[id].map { AgentStatusUpdate(id: id, status: $0.status, restarts: $0.restarts, lastError: errors[id], updatedAt: $0.updatedAt) }
            }
            let stored = try await store.updateAgentStatuses(updates)
            var agents: [AgentRecord] = []
            for id in order where stored.contains(id) {
                guard let agent = changed[id] else { continue }
                model.put(agent)
                agents.append(agent)
            }
            return RecordedStatuses(agents: agents, failures: failures.filter { stored.contains($0.report.agentID) })
        }
    }

    /// Forgets an agent in the store, then in the model; `false` if there was none.
    @discardableResult
    func deleteAgent(id: String) async throws -> Bool {
        try await agentWrites.withLock(id) {
            let deleted = try await store.deleteAgent(id: id)
            model.removeAgent(id: id)
            return deleted
        }
    }

    /// Stores a node record and puts it in the model. Callers hold the plan lock.
    func saveNode(_ node: NodeRecord) async throws {
        try await store.upsertNode(node)
        model.put(node)
    }

    /// Forgets a node in the store, then in the model; `false` if there was none.
    @discardableResult
    func deleteNode(id: String) async throws -> Bool {
        let deleted = try await store.deleteNode(id: id)
        model.removeNode(id: id)
        return deleted
    }
}

/// What `ClusterController.recordStatuses` wrote.
struct RecordedStatuses: Sendable {
    /// The records after the batch, one per agent whose reports counted.
    let agents: [AgentRecord]
    /// The reports of failure that counted, in order.
    let failures: [AgentStatusQueue.Item]
}

/// An agent record before and after `ClusterController.updateAgent`.
struct AgentChange: Sendable {
    let before: AgentRecord
    let after: AgentRecord
    /// Whether anything was written.
    let changed: Bool
}
