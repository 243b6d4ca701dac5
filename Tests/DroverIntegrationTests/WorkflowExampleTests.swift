import DroverClient
import DroverCore
import DroverTestSupport
import Foundation
import Testing

/// The three example workflows, applied and run with the `drover` CLI exactly as their
/// comments say, against a real manager and node.
@Suite("Workflow examples", .serialized, .timeLimit(.minutes(3)))
struct WorkflowExampleTests {
    static func cluster() async throws -> TestCluster {
        let cluster = try TestCluster()
        try await cluster.startManager()
        try await cluster.startNode("n1")
        try await cluster.waitForNode("n1", status: .active)
        for file in ["mapreduce", "approval", "retry"] {
            let applied = try await cluster.cli(["workflow", "apply", "examples/workflows/\(file).yaml"])
            #expect(applied.status == 0, "\(applied.output)")
            #expect(applied.output.contains("workflow \(file) version 1"))
        }
        return cluster
    }

    @Test("mapreduce: counts words per document with max_concurrency, then adds them up")
    func mapreduce() async throws {
        let cluster = try await Self.cluster()
        let documents: JSONValue = .array((0..<12).map { .string(String(repeating: "word ", count: $0 + 1)) })
        let input = try JSONCoding.string(JSONValue.object(["documents": documents]))
        let result = try await cluster.cli(["workflow", "run", "mapreduce", "--watch", "--input", input])
        #expect(result.status == 0, "\(result.output)\n\(cluster.logs)")
        #expect(result.output.contains("count_words"))
        #expect(result.output.contains("completed  12/12 items"))
        let runID = try #require(result.output.split(separator: " ").dropFirst().first.map(String.init))
        let view = try await cluster.client.run(id: runID)
        #expect(view.status == .completed)
        #expect(view.state["total"] == ["sum": .int((1...12).reduce(0, +)), "count": 12])
        #expect(view.state["counts"]?.arrayValue?.map { $0["words"]?.intValue } == (1...12).map { Optional($0) })
        let history = try await cluster.client.history(runID: runID)
        let scheduled = history.filter { $0.kind == .stepScheduled && $0.step == "count_words" }
        #expect(scheduled.count == 12)
        // Never more than max_concurrency (4) items in flight.
        var inFlight = 0
        var most = 0
        for event in history where event.step == "count_words" && event.item != nil {
            if event.kind == .stepScheduled { inFlight += 1 }
            if event.kind == .stepCompleted || event.kind == .stepFailed { inFlight -= 1 }
            most = max(most, inFlight)
        }
        #expect(most == 4)
        // enable_profiling: the view carries a profile; the CLI draws the timeline.
        #expect(view.profile?.steps.first { $0.step == "count_words" }?.items?.count == 12)
        #expect(view.timeline.map(\.step) == ["count_words", "reduce"])
        let drawn = try await cluster.cli(["workflow", "status", runID, "--timeline"])
        #expect(drawn.status == 0)
        #expect(drawn.output.contains("timeline (0 to") && drawn.output.contains("count_words: 12 items"), "\(drawn.output)")
        // Run-deployed agents are removed at the end (cleanup_policy: always).
        let deployed = history.filter { $0.kind == .agentDeployed }.compactMap(\.agentID)
        #expect(deployed.count == 2, "wordcount and sum")
        try await eventually("the run's agents are undeployed") {
            try await cluster.client.agents().filter { deployed.contains($0.id) }.allSatisfy { $0.desiredState == .stopped }
        }
        // A run input that breaks input_schema is refused.
        let bad = try await cluster.cli(["workflow", "run", "mapreduce", "--input", #"{"documents": "not a list"}"#])
        #expect(bad.status == 1)
        #expect(bad.output.contains("input.documents: must be of type array"), "\(bad.output)")
    }

    @Test("approval: a large amount waits for the approve signal; a small one is approved at once")
    func approval() async throws {
        let cluster = try await Self.cluster()
        let started = try await cluster.cli(["workflow", "run", "approval", "--run-id", "pay-1", "--input", #"{"amount": 5000, "requester": "ana"}"#])
        #expect(started.status == 0, "\(started.output)")
        try await eventually("the run waits for a human") {
            try await cluster.client.run(id: "pay-1").steps.first { $0.id == "wait_for_human" }?.status == .waiting
        }
        let waiting = try await cluster.client.run(id: "pay-1")
        #expect(waiting.status == .running)
        #expect(waiting.steps.first { $0.id == "auto_approve" }?.status == .skipped)
        #expect(waiting.steps.first { $0.id == "pay" }?.status == .pending)

        let signalled = try await cluster.cli(["workflow", "signal", "pay-1", "approve", "--payload", #"{"approved_by": "bob"}"#])
        #expect(signalled.status == 0, "\(signalled.output)")
        try await eventually("the run completes") { try await cluster.client.run(id: "pay-1").status == .completed }
        let done = try await cluster.client.run(id: "pay-1")
        #expect(done.state["payment"] == ["paid": 5000, "requester": "ana", "approved_by": "bob"])
        #expect(done.steps.first { $0.id == "route" }?.next == "wait_for_human")

        // A signal to a finished run is refused; so is one to a run that does not exist.
        let late = try await cluster.client.raw(method: "POST", path: "/api/v1/workflows/runs/pay-1/signal/approve", body: Data("{}".utf8))
        #expect(late.status == 409)
        let missing = try await cluster.client.raw(method: "POST", path: "/api/v1/workflows/runs/nope/signal/approve", body: Data("{}".utf8))
        #expect(missing.status == 404)

        let small = try await cluster.cli(["workflow", "run", "approval", "--watch", "--input", #"{"amount": 50, "requester": "bo"}"#])
        #expect(small.status == 0, "\(small.output)")
        #expect(small.output.contains("wait_for_human") && small.output.contains("skipped"))
        #expect(small.output.contains(#""approved_by":"auto""#))
    }

    @Test("retry: the fail agent's step succeeds on its third attempt after exponential waits")
    func retry() async throws {
        let cluster = try await Self.cluster()
        let result = try await cluster.cli(["workflow", "run", "retry", "--watch", "--input", #"{"message": "third time lucky"}"#])
        #expect(result.status == 0, "\(result.output)\n\(cluster.logs)")
        #expect(result.output.contains("completed  attempt 3"))
        let runID = try #require(result.output.split(separator: " ").dropFirst().first.map(String.init))
        let view = try await cluster.client.run(id: runID)
        #expect(view.state["result"] == ["message": "third time lucky"])
        let history = try await cluster.client.history(runID: runID)
        let failures = history.filter { $0.kind == .stepFailed }
        #expect(failures.count == 2)
        let waits = failures.compactMap { failure in failure.retryAt.map { $0.timeIntervalSince(failure.at) } }
        #expect(waits.count == 2)
        #expect(abs(waits[0] - 0.5) < 0.01 && abs(waits[1] - 1.0) < 0.01, "\(waits)")
        let attempts = history.filter { $0.kind == .stepScheduled }
        #expect(attempts.map(\.taskID) == ["\(runID).flaky.a1", "\(runID).flaky.a2", "\(runID).flaky.a3"])
        // Each attempt is a task that carries the run, step and attempt.
        let task = try await cluster.client.task(id: "\(runID).flaky.a3")
        #expect(task.workflow == WorkflowTaskContext(runID: runID, stepID: "flaky", item: nil, attempt: 3))
        // The history command prints the same story.
        let printed = try await cluster.cli(["workflow", "history", runID])
        #expect(printed.output.components(separatedBy: "step_failed").count == 3)
    }
}
