import DroverClient
import DroverCore
import Foundation

/// Follows a run, printing a line whenever a step changes, until the run ends.
struct RunWatcher {
    let client: DroverClient
    /// Print nothing along the way (for `--json`).
    let quiet: Bool

    func follow(runID: String) async throws -> WorkflowRunView {
        var seen: [String: String] = [:]
        while true {
            let view = try await client.run(id: runID)
            if !quiet {
                for step in view.steps {
                    let line = RunPrinter.progress(step)
                    if seen[step.id] != line {
                        seen[step.id] = line
                        if step.status != .pending { print(line) }
                    }
                }
            }
            if view.status.isFinal { return view }
            try await Task.sleep(for: .milliseconds(250))
        }
    }
}

/// How runs look in the terminal.
enum RunPrinter {
    /// One step on one line: id, status, attempts, items, time, agent and node.
    static func progress(_ step: WorkflowStepView) -> String {
        var parts = ["  \(step.id.padding(toLength: max(step.id.count, 20), withPad: " ", startingAt: 0))", step.status.rawValue]
        if let items = step.items {
            parts.append("\(items.completed + items.failed)/\(items.total) items" + (items.failed > 0 ? " (\(items.failed) failed)" : ""))
        }
        if step.attempts > 1 { parts.append("attempt \(step.attempts)") }
        if let duration = step.durationMs { parts.append(String(format: "%.1f ms", duration)) }
        if let next = step.next { parts.append("→ \(next)") }
        if let node = step.nodeID { parts.append("on \(node)") }
        if let error = step.error, step.status != .completed { parts.append("— \(error.prefix(100))") }
        return parts.joined(separator: "  ")
    }

    /// One bar per step, on a 50-column scale from the run's start to its end (or now).
    static func timeline(_ view: WorkflowRunView) {
        let end = max(view.durationMs ?? 0, view.timeline.compactMap { $0.endMs ?? $0.startMs }.max() ?? 0, 1)
        let width = 50.0
        let nameWidth = max(view.timeline.map(\.step.count).max() ?? 0, 4)
        print("timeline (0 to \(String(format: "%.0f", end)) ms):")
        for entry in view.timeline {
            let from = Int((entry.startMs / end * width).rounded(.down))
            let to = max(from + 1, Int(((entry.endMs ?? end) / end * width).rounded(.up)))
            let bar = String(repeating: " ", count: from) + String(repeating: entry.endMs == nil ? "-" : "#", count: min(to, Int(width)) - from)
            let label = entry.step.padding(toLength: nameWidth, withPad: " ", startingAt: 0)
            print("  \(label) |\(bar.padding(toLength: Int(width), withPad: " ", startingAt: 0))| \(String(format: "%.1f", entry.startMs))–\(entry.endMs.map { String(format: "%.1f", $0) } ?? "…") ms")
        }
        if let profile = view.profile {
            for step in profile.steps {
                guard let items = step.items else { continue }
                print(String(format: "  %@: %d items, %d retried, latency p50 %.1f ms, p95 %.1f ms, max %.1f ms", step.step, items.count, items.retried, items.p50Ms, items.p95Ms, items.maxMs))
            }
        }
    }

    static func steps(_ view: WorkflowRunView) {
        for step in view.steps { print(progress(step)) }
    }

    static func summary(_ view: WorkflowRunView) {
        let duration = view.durationMs.map { String(format: " in %.0f ms", $0) } ?? ""
        print("run \(view.id): \(view.status.rawValue)\(duration)")
        if let error = view.error { print("error: \(error)") }
        if view.status == .completed, let text = try? JSONCoding.string(view.state) {
            print("state: \(text.prefix(2_000))")
        }
    }
}
