import DroverCore
import Foundation
import Metrics

/// The manager's metrics (swift-metrics; exported in Prometheus format at `/metrics`).
struct ManagerMetrics: Sendable {
    let tasksSubmitted = Counter(label: "drover_manager_tasks_submitted_total")
    let tasksDispatched = Counter(label: "drover_manager_tasks_dispatched_total")
    let agentsDeployed = Counter(label: "drover_manager_agents_deployed_total")
    let agentsRescheduled = Counter(label: "drover_manager_agents_rescheduled_total")
    let agentsMigrated = Counter(label: "drover_manager_agents_migrated_total")
    let nodesMarkedDown = Counter(label: "drover_manager_nodes_marked_down_total")
    let nodeSessions = Counter(label: "drover_manager_node_sessions_total")
    let fencedFrames = Counter(label: "drover_manager_fenced_frames_total")
    /// Writes the store refused (disk full, I/O error, database away).
    let storeWriteFailures = Counter(label: "drover_manager_store_write_failures_total")
    /// The heartbeat interval nodes are told now (longer in a large fleet: `HeartbeatPace`).
    let heartbeatInterval = Gauge(label: "drover_manager_heartbeat_interval_seconds")
    let taskLatency = Metrics.Timer(label: "drover_manager_task_latency_seconds")

    func taskFinished(_ task: TaskRecord) {
        Counter(label: "drover_manager_tasks_finished_total", dimensions: [("status", task.status.rawValue)]).increment()
        if let completed = task.completedAt {
            taskLatency.recordNanoseconds(Int64(max(0, completed.timeIntervalSince(task.createdAt)) * 1e9))
        }
    }

    func record(agentsByStatus: [AgentStatus: Int], nodes: [NodeRecord]) {
        for status in AgentStatus.allCases {
            Gauge(label: "drover_manager_agents", dimensions: [("status", status.rawValue)]).record(agentsByStatus[status] ?? 0)
        }
        for status in NodeStatus.allCases {
            Gauge(label: "drover_manager_nodes", dimensions: [("status", status.rawValue)])
                .record(nodes.filter { $0.status == status }.count)
        }
    }
}
