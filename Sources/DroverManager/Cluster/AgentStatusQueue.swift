import DroverCore
import Foundation

/// Agent status reports from nodes, applied in the background and in batches.
///
/// A node's frames are handled one after another; waiting there for each report's write would
/// hold every later frame of that node behind one commit at a time (10,000 agents starting on a
/// node are 20,000 reports). Here the frame handler only queues the report; the queue applies
/// what has gathered with one task per agent (each agent's reports in order), so the writes of
/// a batch are committed together (group commit). What the node reports is also kept in
/// `NodeSessions` at once, and a report whose write failed is repaired by the next
/// reconciliation pass, which records the status nodes report.
actor AgentStatusQueue {
    struct Item: Sendable {
        let nodeID: String
        let report: NodeProtocol.AgentStatusReport
        let at: Date
    }

    private var pending: [Item] = []
    private var draining = false

    /// Queues a report; `apply` gets batches, one at a time, until the queue is empty.
    func submit(_ item: Item, apply: @escaping @Sendable ([Item]) async -> Void) {
        pending.append(item)
        guard !draining else { return }
        draining = true
        Task { await drain(apply) }
    }

    private func drain(_ apply: @Sendable ([Item]) async -> Void) async {
        while !pending.isEmpty {
            let batch = pending
            pending = []
            await apply(batch)
        }
        draining = false
    }
}
