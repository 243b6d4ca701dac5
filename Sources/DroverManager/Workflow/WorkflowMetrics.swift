import DroverCore
import Foundation
import Metrics

/// Workflow metrics (exported with the rest at `/metrics`).
struct WorkflowMetrics: Sendable {
    let runsStarted = Counter(label: "drover_workflow_runs_started_total")
    let stepLatency = Metrics.Timer(label: "drover_workflow_step_duration_seconds")
    let stepsFinished = Counter(label: "drover_workflow_steps_finished_total")

    /// A run ended: counted by status.
    func runFinished(_ run: WorkflowRunRecord) {
        Counter(label: "drover_workflow_runs_finished_total", dimensions: [("status", run.status.rawValue)]).increment()
    }

    /// A step's task ended: its time from submission to answer.
    func stepFinished(_ task: TaskRecord, now: Date) {
        stepsFinished.increment()
        stepLatency.recordNanoseconds(Int64(max(0, (task.completedAt ?? now).timeIntervalSince(task.createdAt)) * 1e9))
    }
}
