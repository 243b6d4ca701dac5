import Foundation

/// When each step ran, relative to the run's start: the run's timeline.
public struct WorkflowTimelineEntry: Codable, Sendable, Hashable {
    public var step: String
    /// Milliseconds from the run's start to the step's start.
    public var startMs: Double
    /// Milliseconds from the run's start to the step's end (`nil` while it runs).
    public var endMs: Double?
    public var status: WorkflowStepStatus

    enum CodingKeys: String, CodingKey {
        case step, status
        case startMs = "start_ms"
        case endMs = "end_ms"
    }
}

/// With `config.enable_profiling`: where a run's time went, per step.
public struct WorkflowProfile: Codable, Sendable, Hashable {
    public struct Step: Codable, Sendable, Hashable {
        public var step: String
        public var durationMs: Double?
        public var attempts: Int
        /// For a map: how long items took, from being sent to being answered (last attempt).
        public var items: ItemLatency?

        enum CodingKeys: String, CodingKey {
            case step, attempts, items
            case durationMs = "duration_ms"
        }
    }

    public struct ItemLatency: Codable, Sendable, Hashable {
        public var count: Int
        public var retried: Int
        public var p50Ms: Double
        public var p95Ms: Double
        public var maxMs: Double

        enum CodingKeys: String, CodingKey {
            case count, retried
            case p50Ms = "p50_ms"
            case p95Ms = "p95_ms"
            case maxMs = "max_ms"
        }
    }

    public var totalMs: Double?
    public var steps: [Step]

    enum CodingKeys: String, CodingKey {
        case steps
        case totalMs = "total_ms"
    }
}

extension WorkflowMachine {
    /// Every step that started, in the order it started.
    public var timeline: [WorkflowTimelineEntry] {
        guard let runStart = startedAt else { return [] }
        func offset(_ date: Date) -> Double { (date.timeIntervalSince(runStart) * 10_000).rounded() / 10 }
        return stepKeys.compactMap { key -> WorkflowTimelineEntry? in
            guard let step = steps[key], let start = step.startedAt else { return nil }
            return WorkflowTimelineEntry(step: key, startMs: offset(start), endMs: step.finishedAt.map(offset), status: step.status)
        }.sorted { ($0.startMs, $0.step) < ($1.startMs, $1.step) }
    }

    /// Where the time went, step by step (map items as latency figures).
    public var profile: WorkflowProfile {
        func milliseconds(_ start: Date?, _ end: Date?) -> Double? {
            guard let start, let end else { return nil }
            return (end.timeIntervalSince(start) * 10_000).rounded() / 10
        }
        let steps = stepKeys.compactMap { key -> WorkflowProfile.Step? in
            guard let step = self.steps[key], step.startedAt != nil else { return nil }
            var items: WorkflowProfile.ItemLatency?
            if let map = maps[key] {
                let latencies = map.items.compactMap { milliseconds($0.attemptStartedAt, $0.finishedAt) }.sorted()
                if !latencies.isEmpty {
                    func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count - 1) * p))] }
                    items = WorkflowProfile.ItemLatency(
                        count: map.items.count, retried: map.items.filter { $0.attempts > 1 }.count,
                        p50Ms: percentile(0.5), p95Ms: percentile(0.95), maxMs: latencies.last ?? 0
                    )
                }
            }
            return WorkflowProfile.Step(step: key, durationMs: milliseconds(step.startedAt, step.finishedAt), attempts: step.attempts, items: items)
        }
        return WorkflowProfile(totalMs: milliseconds(startedAt, finishedAt), steps: steps)
    }
}
