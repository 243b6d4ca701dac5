import DroverCore
import Metrics

/// The node's metrics (swift-metrics; exported in Prometheus format at the local `/metrics`).
struct NodeMetrics: Sendable {
    let restarts = Counter(label: "drover_node_agent_restarts_total")
    let duplicateTasks = Counter(label: "drover_node_duplicate_tasks_total")
    let managerConnected = Gauge(label: "drover_node_manager_connected")
    let bufferedResults = Gauge(label: "drover_node_buffered_results")
    /// The heartbeat interval the manager asked for (it grows with the manager's fleet).
    let heartbeatInterval = Gauge(label: "drover_node_heartbeat_interval_seconds")

    /// Agents by status (every status is written, zeros included).
    func record(agents: some Sequence<AgentStatus>) {
        var counts: [AgentStatus: Int] = [:]
        for status in agents { counts[status, default: 0] += 1 }
        for status in AgentStatus.allCases {
            Gauge(label: "drover_node_agents", dimensions: [("status", status.rawValue)]).record(counts[status] ?? 0)
        }
    }

    /// One finished task: `outcome` is succeeded, failed, timed_out or rejected.
    func taskFinished(agentType: String, outcome: String, duration: Duration) {
        Counter(label: "drover_node_tasks_total", dimensions: [("agent_type", agentType), ("outcome", outcome)]).increment()
        guard outcome != "rejected" else { return }
        let parts = duration.components
        let nanoseconds = parts.seconds * 1_000_000_000 + parts.attoseconds / 1_000_000_000
        Metrics.Timer(label: "drover_node_task_duration_seconds", dimensions: [("agent_type", agentType)]).recordNanoseconds(nanoseconds)
    }
}
