import DroverClient
import DroverCore
import DroverTestSupport
import Foundation
import Testing

/// Workflow edges against a real manager and node: unknown fields, pools without warm-up and
/// with members gone, parents that end before their sub-workflows, sub-workflow input checks.
@Suite("Workflow API edges", .serialized, .timeLimit(.minutes(3)))
struct WorkflowEdgeAPITests {
    func error(_ data: Data) throws -> APIErrorBody {
        try JSONCoding.decoder().decode(APIErrorBody.self, from: data)
    }

    @Test("an unknown field is a 422 naming it and the field meant, in JSON and YAML; nothing is stored")
    func unknownFields() async throws {
        let cluster = try await WorkflowAPITests.cluster()
        let client = cluster.client
        let json = #"{"name": "typo", "steps": [{"id": "a", "type": "task", "agent_type": "echo"}, {"id": "b", "type": "task", "agent_type": "echo", "depend_on": ["a"]}]}"#
        let response = try await client.raw(method: "POST", path: "/api/v1/workflows", body: Data(json.utf8))
        #expect(response.status == 422, "\(String(decoding: response.body, as: UTF8.self))")
        let body = try error(response.body)
        #expect(body.error.code == "invalid_workflow")
        #expect(body.error.path == "steps[1].depend_on")
        #expect(body.error.message.contains("did you mean 'depends_on'?"))

        let yaml = """
            name: typo
            steps:
              - id: each
                type: map
                agent_type: echo
                map_config: {input_path: $.xs, max_concurency: 2}
            """
        let fromYAML = try await client.raw(method: "POST", path: "/api/v1/workflows", body: Data(yaml.utf8), contentType: "application/yaml")
        #expect(fromYAML.status == 422, "\(String(decoding: fromYAML.body, as: UTF8.self))")
        #expect(try error(fromYAML.body).error.path == "steps[0].map_config.max_concurency")
        #expect(try error(fromYAML.body).error.message.contains("did you mean 'max_concurrency'?"))
        #expect(try await client.workflows().isEmpty)
        #expect(try await client.health().status == "ok")
    }

    @Test("a pool without warm_up deploys on first use; a member that is gone is replaced, not chosen")
    func coldPool() async throws {
        let cluster = try await WorkflowAPITests.cluster()
        let client = cluster.client
        _ = try await client.applyWorkflow(WorkflowDefinition(
            name: "cold",
            steps: [StepDefinition(id: "say", type: .task, pool: "echoes", input: "$.word", outputPath: "$.said")],
            pools: ["echoes": PoolDefinition(agentType: "echo", poolConfig: PoolConfig(minSize: 0, maxSize: 2, idleTimeout: .init(seconds: 600), warmUp: false))]
        ))
        func members() async throws -> [AgentRecord] {
            try await client.agents().filter { $0.labels["drover.pool"] == "cold.echoes" && $0.desiredState == .running }
        }
        #expect(try await members().isEmpty)
        let first = try await client.runAndWait(workflow: "cold", input: ["word": "one"], timeoutSeconds: 30)
        #expect(first.status == .completed, "\(first)\n\(cluster.logs)")
        #expect(first.state["said"] == "one")
        let pool = try await members()
        #expect(pool.count == 1)
        #expect(first.steps[0].agentID == pool.first?.id)

        // Its member is undeployed behind the pool's back: the next run gets a new one.
        _ = try await client.undeploy(id: try #require(pool.first?.id))
        let second = try await client.runAndWait(workflow: "cold", input: ["word": "two"], timeoutSeconds: 30)
        #expect(second.status == .completed, "\(second)\n\(cluster.logs)")
        #expect(second.state["said"] == "two")
        let replaced = try await members()
        #expect(replaced.count == 1)
        #expect(second.steps[0].agentID == replaced.first?.id)
        #expect(replaced.first?.id != pool.first?.id)

        // The CLI pages through runs, newest first.
        let page = try await cluster.cli(["workflow", "runs", "--workflow", "cold", "--limit", "1"])
        #expect(page.status == 0, "\(page.output)")
        #expect(page.output.contains(second.id) && !page.output.contains(first.id))
        #expect(page.output.contains("more: drover workflow runs --before \(second.id)"))
        let next = try await cluster.cli(["workflow", "runs", "--workflow", "cold", "--limit", "1", "--before", second.id])
        #expect(next.output.contains(first.id) && !next.output.contains(second.id), "\(next.output)")
    }

    @Test("a parent that ends (cancelled) cancels its sub-workflow run; a child's input is checked against its input_schema")
    func children() async throws {
        let cluster = try await WorkflowAPITests.cluster()
        let client = cluster.client
        _ = try await client.applyWorkflow(WorkflowDefinition(
            name: "child",
            steps: [StepDefinition(id: "hold", type: .wait, signal: "never")],
            inputSchema: ["type": "object", "required": ["ticket"], "properties": ["ticket": ["type": "integer"]]]
        ))
        _ = try await client.applyWorkflow(WorkflowDefinition(name: "parent", steps: [
            StepDefinition(id: "sub", type: .subWorkflow, input: ["ticket": "$.ticket"], subWorkflowID: "child"),
        ]))

        let parent = try await client.startRun(workflow: "parent", input: ["ticket": 7])
        var childID = ""
        try await eventually("the child waits") {
            guard let id = try await client.run(id: parent.id).steps.first?.childRunID else { return false }
            childID = id
            return try await client.run(id: id).steps.first?.status == .waiting
        }
        #expect(try await client.cancelRun(id: parent.id).status == .cancelled)
        try await eventually("the child is cancelled too") { try await client.run(id: childID).status == .cancelled }
        #expect(try await client.history(runID: childID).map(\.kind).suffix(2) == [.cancelRequested, .runCancelled])

        // A child input the child's schema refuses fails the parent's step, saying why; no child run is made.
        let refused = try await client.runAndWait(workflow: "parent", input: ["ticket": "not a number"], timeoutSeconds: 30)
        #expect(refused.status == .failed)
        let step = try #require(refused.steps.first)
        #expect(step.error?.contains("input.ticket: must be of type integer") == true, "\(step)")
        let childRuns = try await client.runs(workflow: "child")
        #expect(childRuns.count == 1)
        #expect(childRuns.first?.id == childID)
    }
}
