import DroverClient
import DroverCore
import DroverTestSupport
import Foundation
import Testing

/// The workflow API against a real manager and node: bad definitions, every step type end to
/// end, cancellation, listing, pools.
@Suite("Workflow API", .serialized, .timeLimit(.minutes(3)))
struct WorkflowAPITests {
    static func cluster() async throws -> TestCluster {
        let cluster = try TestCluster()
        try await cluster.startManager()
        try await cluster.startNode("n1")
        try await cluster.waitForNode("n1", status: .active)
        return cluster
    }

    func error(_ data: Data) throws -> APIErrorBody {
        try JSONCoding.decoder().decode(APIErrorBody.self, from: data)
    }

    @Test("bad definitions get 422 with the path of the fault (or 400 for what does not parse); nothing is stored")
    func badDefinitions() async throws {
        let cluster = try await Self.cluster()
        let client = cluster.client
        let cases: [(body: String, status: Int, path: String?)] = [
            (#"{"name": "w", "steps": [{"id": "a", "type": "teleport"}]}"#, 422, "steps[0].type"),
            (#"{"name": "w", "steps": [{"id": "a", "type": "task", "agent_type": "echo", "depends_on": ["ghost"]}]}"#, 422, "steps[0].depends_on[0]"),
            (#"{"name": "w", "steps": [{"id": "a", "type": "task", "agent_type": "echo", "depends_on": ["b"]}, {"id": "b", "type": "task", "agent_type": "echo", "depends_on": ["a"]}]}"#, 422, "steps[0]"),
            (#"{"name": "w", "steps": [{"id": "d", "type": "decision", "decision_node": {"choices": [{"condition": {"field": "$.x", "operator": "==", "value": 1}, "next": "gone"}]}}]}"#, 422, "steps[0].decision_node.choices[0].next"),
            (#"{"name": "w", "steps": [{"id": "a", "type": "task", "agent_type": "echo", "input": {"u": "{{ $.urls[ }}"}}]}"#, 422, "steps[0].input.u"),
            (#"{"name": "w", "steps": [{"id": "s", "type": "sub_workflow", "sub_workflow_id": "unregistered"}]}"#, 422, "steps[0].sub_workflow_id"),
            (#"{"name": "w", "steps": [{"id": "a", "type": "task", "agent_type": "echo", "retry_policy": {"max_attempts": "three"}}]}"#, 400, nil),
            (#"{"name": "w", "steps": "nope"}"#, 400, nil),
            (#"{"name": "w", "steps": [{"id": "a", "type": "wait", "duration": "soon"}]}"#, 400, nil),
            ("{not json", 400, nil),
        ]
        for (body, status, path) in cases {
            let response = try await client.raw(method: "POST", path: "/api/v1/workflows", body: Data(body.utf8))
            #expect(response.status == status, "\(body) → \(String(decoding: response.body, as: UTF8.self))")
            let decoded = try error(response.body)
            if let path { #expect(decoded.error.path == path, "\(body)") }
            #expect(!decoded.error.message.isEmpty)
        }
        // YAML that is not YAML, and YAML with a wrong type.
        let notYAML = try await client.raw(method: "POST", path: "/api/v1/workflows", body: Data("name: [unclosed".utf8), contentType: "application/yaml")
        #expect(notYAML.status == 400)
        let wrongType = try await client.raw(method: "POST", path: "/api/v1/workflows", body: Data("name: w\nsteps: {a: 1}\n".utf8), contentType: "application/yaml")
        #expect(wrongType.status == 400)
        #expect(try error(wrongType.body).error.message.contains("$.steps"))
        #expect(try await client.workflows().isEmpty)

        // Unknown things answer 404; a bad filter 400; the server keeps serving.
        #expect(try await client.raw(method: "POST", path: "/api/v1/workflows/none/runs", body: Data("{}".utf8)).status == 404)
        #expect(try await client.raw(method: "GET", path: "/api/v1/workflows/runs/none").status == 404)
        #expect(try await client.raw(method: "GET", path: "/api/v1/workflows/runs/none/history").status == 404)
        #expect(try await client.raw(method: "POST", path: "/api/v1/workflows/runs/none/cancel").status == 404)
        #expect(try await client.raw(method: "GET", path: "/api/v1/workflows/runs?status=sideways").status == 400)
        #expect(try await client.health().status == "ok")
    }

    @Test("parallel, sub-workflow and decision steps end to end; versions are kept; agents are cleaned up")
    func stepTypes() async throws {
        let cluster = try await Self.cluster()
        let client = cluster.client
        let child = WorkflowDefinition(name: "child", steps: [
            StepDefinition(id: "count", type: .map, agentType: "wordcount", input: ["text": "$.item"], outputPath: "$.counts", mapConfig: MapConfig(inputPath: "$.texts")),
            StepDefinition(id: "add", type: .task, agentType: "sum", input: ["values": "$.counts", "field": "words"], outputPath: "$.total"),
        ])
        let first = try await client.applyWorkflow(child)
        #expect(first.version == 1)
        #expect(try await client.applyWorkflow(child).version == 1)
        var changed = child
        changed.description = "now with a description"
        #expect(try await client.applyWorkflow(changed).version == 2)

        let parent = WorkflowDefinition(name: "parent", steps: [
            StepDefinition(id: "both", type: .parallel, outputPath: "$.both", steps: [
                StepDefinition(id: "left", type: .task, agentType: "echo", input: ["side": "left", "n": "$.n"]),
                StepDefinition(id: "right", type: .task, agentType: "echo", input: ["side": "right"]),
            ]),
            StepDefinition(id: "sub", type: .subWorkflow, input: ["texts": "$.texts"], outputPath: "$.sub", subWorkflowID: "child"),
            StepDefinition(id: "check", type: .decision, decisionNode: DecisionNode(choices: [
                .init(condition: .compare(field: "$.sub.total.sum", op: ">=", value: 5), next: "many")
            ], default: "few")),
            StepDefinition(id: "many", type: .task, agentType: "echo", input: "many words", outputPath: "$.verdict"),
            StepDefinition(id: "few", type: .task, agentType: "echo", input: "few words", outputPath: "$.verdict"),
        ], config: WorkflowConfig(cleanupPolicy: .onSuccess))
        _ = try await client.applyWorkflow(parent)
        let view = try await client.runAndWait(workflow: "parent", input: ["n": 3, "texts": ["a b c", "d e"]], timeoutSeconds: 60)
        #expect(view.status == .completed, "\(view)\n\(cluster.logs)")
        #expect(view.state["both"] == ["left": ["side": "left", "n": 3], "right": ["side": "right"]])
        #expect(view.state["sub"]?["total"] == ["sum": 5, "count": 2])
        #expect(view.state["verdict"] == "many words")
        #expect(view.steps.map(\.id) == ["both", "both.left", "both.right", "sub", "check", "many", "few"])
        #expect(view.steps.first { $0.id == "few" }?.status == .skipped)
        let childRunID = try #require(view.steps.first { $0.id == "sub" }?.childRunID)
        let childRun = try await client.run(id: childRunID)
        #expect(childRun.parentRunID == view.id)
        #expect(childRun.version == 2)
        #expect(view.steps.allSatisfy { $0.status == .completed || $0.status == .skipped })
        #expect(view.steps.first { $0.id == "both.left" }?.nodeID == "n1")
        #expect(view.steps.first { $0.id == "both.left" }?.durationMs != nil)
        // Every agent the runs deployed (as their histories say) is undeployed: stopped, or already gone.
        let deployed = try await client.history(runID: view.id).filter { $0.kind == .agentDeployed }.compactMap(\.agentID)
            + client.history(runID: childRunID).filter { $0.kind == .agentDeployed }.compactMap(\.agentID)
        #expect(deployed.count == 3, "echo for the parent; wordcount and sum for the child")
        try await eventually("agents deployed by the runs are undeployed") {
            try await client.agents().filter { deployed.contains($0.id) }.allSatisfy { $0.desiredState == .stopped }
        }
        let runs = try await client.runs(workflow: "parent")
        #expect(runs.map(\.id) == [view.id])
        #expect(try await client.runs(status: .completed).count == 2)
    }

    @Test("a step whose agent type no node offers fails at once, saying why")
    func unplaceableStep() async throws {
        let cluster = try await Self.cluster()
        _ = try await cluster.client.applyWorkflow(WorkflowDefinition(name: "ghostly", steps: [
            StepDefinition(id: "haunt", type: .task, agentType: "ghost", input: 1)
        ]))
        let view = try await cluster.client.runAndWait(workflow: "ghostly", input: [:], timeoutSeconds: 30)
        #expect(view.status == .failed)
        #expect(view.error?.contains("no node can run agent type 'ghost'") == true, "\(view.error ?? "")")
        #expect(view.error?.contains("agent type not offered on 1 node") == true, "\(view.error ?? "")")
    }

    @Test("many runs on a node with room for 3 agents all finish: agents are let go of once no step needs them")
    func crowdedNode() async throws {
        let cluster = try TestCluster()
        try await cluster.startManager()
        try await cluster.startNode("small", extraArguments: ["--max-agents", "3"])
        try await cluster.waitForNode("small", status: .active)
        let client = cluster.client
        _ = try await client.applyWorkflow(WorkflowDefinition(name: "two-agents", steps: [
            StepDefinition(id: "count", type: .map, agentType: "wordcount", input: ["text": "$.item"], outputPath: "$.counts", mapConfig: MapConfig(inputPath: "$.texts")),
            StepDefinition(id: "add", type: .task, agentType: "sum", input: ["values": "$.counts", "field": "words"], outputPath: "$.total"),
        ]))
        var runs: [WorkflowRunRecord] = []
        for index in 0..<12 { runs.append(try await client.startRun(workflow: "two-agents", input: ["texts": ["a b", .string(String(repeating: "w ", count: index + 1))]])) }
        try await eventually("every run ends", timeout: .seconds(60)) {
            try await client.runs(workflow: "two-agents", limit: 100).allSatisfy { $0.status.isFinal }
        }
        for (index, run) in runs.enumerated() {
            let view = try await client.run(id: run.id)
            #expect(view.status == .completed, "\(view.error ?? "")")
            #expect(view.state["total"]?["sum"] == .int(index + 3))
        }
    }

    @Test("secrets in a pool's agent_config are sealed in the store and shown as *** in every answer")
    func poolSecrets() async throws {
        let cluster = try await Self.cluster()
        let client = cluster.client
        let secret = "pool-secret-\(UUID().uuidString)"
        let definition = WorkflowDefinition(
            name: "sealed",
            steps: [StepDefinition(id: "a", type: .task, pool: "p", input: 1)],
            pools: ["p": PoolDefinition(agentType: "echo", agentConfig: ["secrets": ["API_KEY": .string(secret)], "plain": "visible"], poolConfig: PoolConfig(minSize: 1, maxSize: 1, warmUp: true))]
        )
        let first = try await client.applyWorkflow(definition)
        #expect(first.version == 1)
        #expect(first.definition.pools?["p"]?.agentConfig == ["secrets": ["API_KEY": "***"], "plain": "visible"])
        #expect(try await client.applyWorkflow(definition).version == 1, "an unchanged definition keeps its version")
        let view = try await client.runAndWait(workflow: "sealed", input: [:], timeoutSeconds: 30)
        #expect(view.status == .completed)
        var answers = ""
        for path in ["/api/v1/workflows", "/api/v1/workflows/sealed", "/api/v1/cluster/agents", "/api/v1/workflows/runs/\(view.id)", "/api/v1/events"] {
            answers += String(decoding: try await client.raw(method: "GET", path: path).body, as: UTF8.self)
        }
        #expect(answers.contains("***"))
        #expect(!answers.contains(secret))
        for file in ["", "-wal"] {
            let bytes = (try? Data(contentsOf: URL(fileURLWithPath: cluster.databasePath + file))) ?? Data()
            #expect(bytes.range(of: Data(secret.utf8)) == nil, "the secret is in drover.db\(file)")
        }
        #expect(!cluster.logs.contains(secret))
    }

    @Test("cancel ends a waiting run; a cancelled run takes no signal")
    func cancel() async throws {
        let cluster = try await Self.cluster()
        let client = cluster.client
        _ = try await client.applyWorkflow(WorkflowDefinition(name: "hold", steps: [
            StepDefinition(id: "hold", type: .wait, signal: "never")
        ]))
        let run = try await client.startRun(workflow: "hold", input: [:])
        try await eventually("waiting") { try await client.run(id: run.id).steps[0].status == .waiting }
        let cancelled = try await cluster.cli(["workflow", "cancel", run.id])
        #expect(cancelled.status == 0, "\(cancelled.output)")
        #expect(cancelled.output.contains("cancelled"))
        let view = try await client.run(id: run.id)
        #expect(view.status == .cancelled)
        #expect(view.steps[0].status == .cancelled)
        let signal = try await client.raw(method: "POST", path: "/api/v1/workflows/runs/\(run.id)/signal/never", body: nil)
        #expect(signal.status == 409)
        #expect(try error(signal.body).error.code == "run_finished")
        let history = try await client.history(runID: run.id)
        #expect(history.map(\.kind) == [.runStarted, .stepStarted, .cancelRequested, .runCancelled])

        // A cancelled run's tasks still out are cancelled too: not sent again, their late results dropped.
        _ = try await client.applyWorkflow(WorkflowDefinition(name: "slow", steps: [
            StepDefinition(id: "each", type: .map, agentType: "sleep", input: ["seconds": 5, "echo": "$.item"], mapConfig: MapConfig(inputPath: "$.xs", maxConcurrency: 2))
        ]))
        let slow = try await client.startRun(workflow: "slow", input: ["xs": [1, 2, 3, 4]])
        try await eventually("two items are out") { try await client.run(id: slow.id).steps[0].items?.running == 2 }
        _ = try await client.cancelRun(id: slow.id)
        for item in 0..<2 {
            let task = try await client.task(id: WorkflowTaskContext.taskID(runID: slow.id, step: "each", item: item, attempt: 1))
            #expect(task.status == .cancelled, "\(task)")
            #expect(task.error?.contains("cancelled") == true)
        }
        #expect(try await client.run(id: slow.id).status == .cancelled)
    }

    @Test("a warm pool deploys min_size at registration, grows under load to max_size, and shrinks back when idle")
    func pools() async throws {
        let cluster = try await Self.cluster()
        let client = cluster.client
        let definition = WorkflowDefinition(
            name: "pooled",
            steps: [StepDefinition(id: "each", type: .map, pool: "sleepers", input: ["seconds": 0.05, "echo": "$.item"], outputPath: "$.r", mapConfig: MapConfig(inputPath: "$.xs", maxConcurrency: 6))],
            pools: ["sleepers": PoolDefinition(agentType: "sleep", poolConfig: PoolConfig(minSize: 1, maxSize: 3, idleTimeout: .init(seconds: 1), warmUp: true))]
        )
        _ = try await client.applyWorkflow(definition)
        func members() async throws -> [AgentRecord] {
            try await client.agents().filter { $0.labels["drover.pool"] == "pooled.sleepers" && $0.desiredState == .running }
        }
        try await eventually("one warm agent") {
            let warm = try await members()
            return warm.count == 1 && warm[0].status == .running
        }
        let view = try await client.runAndWait(workflow: "pooled", input: ["xs": .array((0..<30).map { .int($0) })], timeoutSeconds: 60)
        #expect(view.status == .completed, "\(view)\n\(cluster.logs)")
        #expect(view.state["r"]?.arrayValue?.map { $0["echo"]?.intValue } == (0..<30).map { Optional($0) })
        #expect(try await members().count == 3)
        try await eventually("the pool shrinks back to min_size", timeout: .seconds(15)) { try await members().count == 1 }
        // Pool agents belong to the pool, not the run: the run's cleanup leaves them.
        #expect(try await client.agents().filter { $0.labels["drover.run"] != nil }.isEmpty)
    }
}
