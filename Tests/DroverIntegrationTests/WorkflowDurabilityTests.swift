import DroverClient
import DroverCore
import DroverStore
import DroverTestSupport
import Foundation
import Logging
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Workflows against a real manager that is killed: runs resume from their history.
@Suite("Workflow durability", .serialized, .timeLimit(.minutes(4)))
struct WorkflowDurabilityTests {
    /// A 200-item map over a slow echo (the builtin `sleep` with `echo`), then a reduce.
    static let definition = WorkflowDefinition(
        name: "durable-map",
        steps: [
            StepDefinition(
                id: "each", type: .map, agentType: "sleep", input: ["seconds": 0.05, "echo": ["item": "$.item", "index": "$.item_index"]],
                outputPath: "$.results", retryPolicy: RetryPolicy(maxAttempts: 3, backoff: .constant, delay: .init(seconds: 0.2)),
                timeout: .init(seconds: 20), mapConfig: MapConfig(inputPath: "$.items", maxConcurrency: 4)
            ),
            StepDefinition(id: "total", type: .task, agentType: "sum", input: ["values": "$.results", "field": "slept"], outputPath: "$.total"),
        ]
    )

    static let input: JSONValue = ["items": .array((0..<200).map { .string("doc-\($0)") })]

    @Test("kill -9 of the manager in the middle of 200-item maps: every run resumes, nothing completed runs again, the result is the same")
    func killDuringMap() async throws {
        let cluster = try TestCluster()
        try await cluster.startManager()
        try await cluster.startNode("n1")
        try await cluster.waitForNode("n1", status: .active)
        let client = cluster.client
        _ = try await client.applyWorkflow(Self.definition)

        // The reference: the same run, never interrupted.
        let reference = try await client.runAndWait(workflow: "durable-map", input: Self.input, timeoutSeconds: 120)
        #expect(reference.status == .completed, "\(reference)\n\(cluster.logs)")

        let runIDs = ["interrupted-1", "interrupted-2", "interrupted-3"]
        for runID in runIDs { _ = try await client.startRun(workflow: "durable-map", input: Self.input, runID: runID) }
        try await eventually("a quarter of the first run's items are done", timeout: .seconds(60), every: .milliseconds(20)) {
            let items = try await client.run(id: runIDs[0]).steps.first?.items
            return (items?.completed ?? 0) >= 50
        }
        await cluster.killManager()

        // What the store holds at the kill: every run open and mid-map, some items in flight.
        var inFlightAtKill: [String: Set<Int>] = [:]
        var completedAtKill: [String: Int] = [:]
        let store = try await SQLiteStore.open(path: cluster.databasePath, logger: Logger(label: "durability-test"))
        for runID in runIDs {
            #expect(try await store.run(tenant: "default", id: runID)?.status == .running)
            let history = try await store.history(tenant: "default", runID: runID, after: 0, limit: Int.max)
            let items = history.filter { $0.step == "each" && $0.item != nil }
            let done = Set(items.filter { $0.kind == .stepCompleted }.compactMap(\.item))
            inFlightAtKill[runID] = Set(items.filter { $0.kind == .stepScheduled }.compactMap(\.item)).subtracting(done)
            completedAtKill[runID] = done.count
        }
        try await store.close()
        #expect(completedAtKill[runIDs[0]].map { $0 >= 50 && $0 < 200 } == true, "killed at \(completedAtKill); the test proves nothing")
        #expect(inFlightAtKill.values.map(\.count).reduce(0, +) > 0, "no item was in flight at the kill")

        try await cluster.startManager()
        for runID in runIDs {
            try await eventually("\(runID) completes after the restart", timeout: .seconds(90), every: .milliseconds(100)) {
                try await cluster.client.run(id: runID).status.isFinal
            }
            let resumed = try await cluster.client.run(id: runID)
            #expect(resumed.status == .completed, "\(runID): \(resumed.error ?? "")\n\(cluster.logs)")
            #expect(resumed.state == reference.state, "\(runID)")
            #expect(resumed.state["results"]?.arrayValue?.count == 200)
            #expect(resumed.state["results"]?.arrayValue?[137]["echo"] == ["item": "doc-137", "index": 137])
            try await checkHistory(of: runID, client: cluster.client, inFlightAtKill: inFlightAtKill[runID] ?? [])
        }
        // The tasks: one per item attempt, each carrying the run, step, item and attempt.
        let task = try await cluster.client.task(id: WorkflowTaskContext.taskID(runID: runIDs[0], step: "each", item: 7, attempt: 1))
        #expect(task.workflow == WorkflowTaskContext(runID: runIDs[0], stepID: "each", item: 7, attempt: 1))
    }

    /// Every item completed exactly once; none was scheduled again after it completed; the items
    /// in flight at the kill completed within their retry policy's attempts.
    private func checkHistory(of runID: String, client: DroverClient, inFlightAtKill: Set<Int>) async throws {
        var history: [WorkflowEvent] = []
        while true {
            let page = try await client.history(runID: runID, after: history.last?.sequence ?? 0, limit: 1_000)
            if page.isEmpty { break }
            history += page
        }
        #expect(history.map(\.sequence) == Array(1...history.count))
        var completed: [Int: WorkflowEvent] = [:]
        var scheduled: [Int: [Int]] = [:]
        for event in history where event.step == "each" {
            guard let item = event.item else { continue }
            if event.kind == .stepCompleted {
                #expect(completed[item] == nil, "\(runID): item \(item) completed twice")
                completed[item] = event
            }
            if event.kind == .stepScheduled { scheduled[item, default: []].append(event.sequence) }
        }
        #expect(completed.count == 200)
        for (item, sequences) in scheduled {
            let done = completed[item]?.sequence ?? Int.max
            #expect(sequences.allSatisfy { $0 < done }, "\(runID): item \(item) was scheduled again after it completed")
        }
        let maxAttempts = Self.definition.steps[0].retryPolicy?.maxAttempts ?? 1
        for item in inFlightAtKill {
            let attempt = completed[item]?.attempt ?? Int.max
            #expect(attempt <= maxAttempts, "\(runID): item \(item), in flight at the kill, completed at attempt \(attempt)")
        }
    }

    @Test("a run waiting for a signal survives a restart and completes when signalled")
    func waitAcrossRestart() async throws {
        let cluster = try TestCluster()
        try await cluster.startManager()
        try await cluster.startNode("n1")
        try await cluster.waitForNode("n1", status: .active)
        let definition = WorkflowDefinition(name: "gate", steps: [
            StepDefinition(id: "first", type: .task, agentType: "echo", input: "before", outputPath: "$.first"),
            StepDefinition(id: "gate", type: .wait, outputPath: "$.gate", signal: "open"),
            StepDefinition(id: "last", type: .task, agentType: "echo", input: "{{ $.gate.by }} opened it", outputPath: "$.last"),
        ])
        _ = try await cluster.client.applyWorkflow(definition)
        let run = try await cluster.client.startRun(workflow: "gate", input: [:])
        try await eventually("the run waits") { try await cluster.client.run(id: run.id).steps[1].status == .waiting }
        await cluster.killManager()
        try await cluster.startManager()
        try await cluster.waitForNode("n1", status: .active)
        let afterRestart = try await cluster.client.run(id: run.id)
        #expect(afterRestart.status == .running)
        #expect(afterRestart.steps[0].status == .completed)
        _ = try await cluster.client.signal(runID: run.id, name: "open", payload: ["by": "ops"])
        try await eventually("the run completes") { try await cluster.client.run(id: run.id).status == .completed }
        #expect(try await cluster.client.run(id: run.id).state["last"] == "ops opened it")
        let firstAttempts = try await cluster.client.history(runID: run.id).filter { $0.kind == .stepScheduled && $0.step == "first" }
        #expect(firstAttempts.count == 1)
    }

    @Test("a parent waiting on a sub-workflow survives a restart: the child resumes, and its end completes the parent")
    func subWorkflowAcrossRestart() async throws {
        let cluster = try TestCluster()
        try await cluster.startManager()
        try await cluster.startNode("n1")
        try await cluster.waitForNode("n1", status: .active)
        let client = cluster.client
        _ = try await client.applyWorkflow(WorkflowDefinition(name: "child", steps: [
            StepDefinition(id: "hold", type: .wait, outputPath: "$.approval", signal: "go"),
            StepDefinition(id: "echo", type: .task, agentType: "echo", input: ["x": "$.x", "by": "$.approval.by"], outputPath: "$.echoed"),
        ]))
        _ = try await client.applyWorkflow(WorkflowDefinition(name: "parent", steps: [
            StepDefinition(id: "before", type: .task, agentType: "echo", input: 1, outputPath: "$.before"),
            StepDefinition(id: "sub", type: .subWorkflow, input: ["x": "$.x"], outputPath: "$.sub", subWorkflowID: "child"),
            StepDefinition(id: "after", type: .task, agentType: "echo", input: "$.sub.echoed", outputPath: "$.after"),
        ]))
        let parent = try await client.startRun(workflow: "parent", input: ["x": 42], runID: "parent-1")
        let childID = "parent-1.sub.a1"
        try await eventually("the child waits") { try await client.run(id: childID).steps[0].status == .waiting }

        await cluster.killManager()
        try await cluster.startManager()
        try await cluster.waitForNode("n1", status: .active)
        #expect(try await cluster.client.run(id: parent.id).status == .running)
        #expect(try await cluster.client.run(id: childID).steps[0].status == .waiting)

        _ = try await cluster.client.signal(runID: childID, name: "go", payload: ["by": "ops"])
        do {
            try await eventually("the parent completes") { try await cluster.client.run(id: parent.id).status == .completed }
        } catch {
            let parentView = try? await cluster.client.run(id: parent.id)
            let childView = try? await cluster.client.run(id: childID)
            Issue.record("\(error)\nparent: \(String(describing: parentView))\nchild: \(String(describing: childView))\n\(cluster.logs)")
            throw error
        }
        let done = try await cluster.client.run(id: parent.id)
        #expect(done.state["after"] == ["x": 42, "by": "ops"])
        // One child run, one attempt of every step.
        #expect(try await cluster.client.runs(workflow: "child").map(\.id) == [childID])
        let scheduled = try await cluster.client.history(runID: parent.id).filter { $0.kind == .stepScheduled || $0.kind == .childStarted }
        #expect(scheduled.map(\.step) == ["before", "sub", "after"])
    }
}
