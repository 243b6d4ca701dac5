import DroverClient
import DroverCore
import DroverTestSupport
import Foundation
import Testing

/// Workflows of two tenants on one manager: each sees and touches only its own definitions and
/// runs; the other's answer exactly like unknown ones; runs place agents on their own tenant's nodes.
@Suite("Workflow tenants", .serialized, .timeLimit(.minutes(3)))
struct WorkflowTenantTests {
    @Test("a tenant token cannot see, run, signal, cancel or read the history of another tenant's workflow")
    func isolation() async throws {
        let (cluster, acmeToken, globexToken) = try await Self.twoTenants()
        let admin = cluster.client
        let acme = cluster.client(token: acmeToken)
        let globex = cluster.client(token: globexToken)

        let gate = WorkflowDefinition(name: "gate", steps: [
            StepDefinition(id: "work", type: .task, agentType: "echo", input: "$.secret", outputPath: "$.echoed"),
            StepDefinition(id: "hold", type: .wait, signal: "open"),
        ])
        let registered = try await globex.applyWorkflow(gate)
        #expect(registered.tenant == "globex")
        let run = try await globex.startRun(workflow: "gate", input: ["secret": "globex-only"], runID: "globex-run")
        try await eventually("globex's run waits") { try await globex.run(id: run.id).steps[1].status == .waiting }
        // Its agent went to globex's node.
        let view = try await globex.run(id: run.id)
        #expect(view.steps[0].nodeID == "globex-1")

        // Lists hold only the caller's own.
        #expect(try await acme.workflows().isEmpty)
        #expect(try await acme.runs().isEmpty)
        #expect(try await globex.runs().map(\.id) == [run.id])

        // Every workflow route on a foreign id answers exactly as on an unknown one.
        let probes: [(String, String, String?)] = [
            ("GET", "/api/v1/workflows/NAME", nil),
            ("POST", "/api/v1/workflows/NAME/runs", "{}"),
            ("GET", "/api/v1/workflows/runs/RUN", nil),
            ("GET", "/api/v1/workflows/runs/RUN/history", nil),
            ("POST", "/api/v1/workflows/runs/RUN/cancel", nil),
            ("POST", "/api/v1/workflows/runs/RUN/signal/open", "{}"),
        ]
        for (method, template, body) in probes {
            let foreign = try await acme.raw(
                method: method, path: template.replacingOccurrences(of: "NAME", with: "gate").replacingOccurrences(of: "RUN", with: run.id),
                body: body.map { Data($0.utf8) }
            )
            let unknown = try await acme.raw(
                method: method, path: template.replacingOccurrences(of: "NAME", with: "nope").replacingOccurrences(of: "RUN", with: "nope"),
                body: body.map { Data($0.utf8) }
            )
            #expect(foreign.status == 404, "\(method) \(template)")
            let normalized = String(decoding: foreign.body, as: UTF8.self).replacingOccurrences(of: run.id, with: "X").replacingOccurrences(of: "gate", with: "X")
            let expected = String(decoding: unknown.body, as: UTF8.self).replacingOccurrences(of: "nope", with: "X")
            #expect(normalized == expected, "\(method) \(template)")
            #expect(!String(decoding: foreign.body, as: UTF8.self).contains("globex-only"))
        }
        // Names are per tenant: the foreign run's id as idempotency key starts acme's own run of
        // that id (it does not hand globex's over, nor tell acme it exists).
        _ = try await acme.applyWorkflow(WorkflowDefinition(name: "mine", steps: [StepDefinition(id: "a", type: .task, agentType: "echo")]))
        let own = try await acme.raw(method: "POST", path: "/api/v1/workflows/mine/runs", body: Data(#"{"run_id": "globex-run"}"#.utf8))
        #expect(own.status == 201)
        #expect(!String(decoding: own.body, as: UTF8.self).contains("globex-only"))
        // Registering a definition under a name another tenant holds registers acme's own, and changes nothing of globex's.
        let taken = try await acme.raw(method: "POST", path: "/api/v1/workflows", body: Data(try JSONCoding.encoder().encode(gate)))
        #expect(taken.status == 201)
        #expect(try await admin.raw(method: "GET", path: "/api/v1/workflows/gate?tenant=globex").body == (try await globex.raw(method: "GET", path: "/api/v1/workflows/gate").body))
        #expect(try await globex.workflows().map(\.version) == [1])

        // Nothing changed: globex's run still waits, and finishes when globex signals it.
        let after = try await globex.run(id: run.id)
        #expect(after.status == .running)
        #expect(after.historyLength == view.historyLength)
        _ = try await globex.signal(runID: run.id, name: "open")
        try await eventually("globex's run completes") { try await globex.run(id: run.id).status == .completed }
        // The admin sees every tenant's runs: two of the same id.
        #expect(try await admin.runs().map(\.id) == [run.id, run.id])
        #expect(try await acme.runs().map(\.workflow) == ["mine"])
    }

    /// The status and body of a call, with `id` replaced, to compare a foreign id with an unknown one.
    /// A manager with tenants `acme` and `globex`, each with an API token and a node of its own.
    static func twoTenants() async throws -> (TestCluster, acmeToken: String, globexToken: String) {
        let cluster = try TestCluster()
        try await cluster.startManager()
        let admin = cluster.client
        _ = try await admin.createTenant("acme")
        _ = try await admin.createTenant("globex")
        let acmeToken = try await admin.createAPIToken(tenant: "acme").token
        let globexToken = try await admin.createAPIToken(tenant: "globex").token
        try await cluster.startNode("acme-1", token: acmeToken, extraArguments: ["--tenant", "acme"])
        try await cluster.startNode("globex-1", token: globexToken, extraArguments: ["--tenant", "globex"])
        try await cluster.waitForNode("acme-1", status: .active)
        try await cluster.waitForNode("globex-1", status: .active)
        return (cluster, acmeToken, globexToken)
    }

    static func answer(_ client: DroverClient, _ method: String, _ path: String, id: String, body: String? = nil) async throws -> (Int, String) {
        let response = try await client.raw(method: method, path: path.replacingOccurrences(of: "ID", with: id), body: body.map { Data($0.utf8) })
        return (response.status, String(decoding: response.body, as: UTF8.self).replacingOccurrences(of: id, with: "ID"))
    }

    @Test("workflow names, run ids and task ids are per tenant: both have `etl`, run `r1` and task `job-1`, each sees its own")
    func namesPerTenant() async throws {
        let (cluster, acmeToken, globexToken) = try await Self.twoTenants()
        let admin = cluster.client
        let clients = ["acme": cluster.client(token: acmeToken), "globex": cluster.client(token: globexToken)]
        let acme = clients["acme"]!
        let globex = clients["globex"]!

        // Both register `etl` (different definitions) and both start run `r1`: no 409 across tenants.
        for (tenant, client) in clients.sorted(by: { $0.key < $1.key }) {
            let etl = WorkflowDefinition(name: "etl", steps: [
                StepDefinition(id: "extract", type: .task, agentType: "echo", input: "$.source", outputPath: "$.\(tenant)_extracted"),
            ])
            let registered = try await client.raw(method: "POST", path: "/api/v1/workflows", body: Data(try JSONCoding.encoder().encode(etl)))
            #expect(registered.status == 201, "\(tenant): \(String(decoding: registered.body, as: UTF8.self))")
            let started = try await client.raw(
                method: "POST", path: "/api/v1/workflows/etl/runs", body: Data(#"{"run_id": "r1", "input": {"source": "\#(tenant)-data"}}"#.utf8)
            )
            #expect(started.status == 201, "\(tenant): \(String(decoding: started.body, as: UTF8.self))")
        }
        for (tenant, client) in clients {
            try await eventually("\(tenant)'s run r1 completes") { try await client.run(id: "r1").status == .completed }
            let view = try await client.run(id: "r1")
            #expect(view.tenant == tenant)
            #expect(view.state["\(tenant)_extracted"] == .string("\(tenant)-data"))
            #expect(view.steps.first?.nodeID == "\(tenant)-1")
            let history = String(decoding: try await client.raw(method: "GET", path: "/api/v1/workflows/runs/r1/history").body, as: UTF8.self)
            #expect(history.contains("\(tenant)-data"))
            let other = tenant == "acme" ? "globex" : "acme"
            #expect(!history.contains("\(other)-data"))
            #expect(try await client.workflows().map(\.tenant) == [tenant])
            #expect(try await client.runs().map { "\($0.tenant)/\($0.id)" } == ["\(tenant)/r1"])
        }
        // Within one tenant the names still conflict: r1 is taken by `etl`.
        _ = try await acme.applyWorkflow(WorkflowDefinition(name: "other", steps: [StepDefinition(id: "a", type: .task, agentType: "echo")]))
        let taken = try await acme.raw(method: "POST", path: "/api/v1/workflows/other/runs", body: Data(#"{"run_id": "r1"}"#.utf8))
        #expect(taken.status == 409)
        #expect(try JSONCoding.decoder().decode(APIErrorBody.self, from: taken.body).error.code == "run_exists")
        #expect(try await acme.startRun(workflow: "etl", input: ["source": "ignored"], runID: "r1").input == ["source": "acme-data"])

        // Both send task `job-1` to their own agent, at once, on one node marked shared: each gets its own answer.
        _ = try await admin.setNodeShared(id: "globex-1", true)
        var agents: [String: AgentRecord] = [:]
        for (tenant, client) in clients {
            agents[tenant] = try await client.deploy(DeployRequest(agentType: "sleep", preferredContainer: "globex-1"))
        }
        for (tenant, agent) in agents {
            #expect(agent.nodeID == "globex-1" && agent.tenant == tenant)
            try await eventually("\(tenant)'s sleeper runs") { try await admin.agent(id: agent.id).status == .running }
        }
        let answers = try await withThrowingTaskGroup(of: (String, Int, Data).self) { group in
            for (tenant, client) in clients {
                let agentID = agents[tenant]!.id
                group.addTask {
                    let body = #"{"task_id": "job-1", "input": {"seconds": 1, "echo": "\#(tenant)-secret"}, "timeout_s": 20}"#
                    let response = try await client.raw(method: "POST", path: "/api/v1/cluster/agents/\(agentID)/tasks?wait=true", body: Data(body.utf8))
                    return (tenant, response.status, response.body)
                }
            }
            return try await group.reduce(into: [String: (Int, Data)]()) { $0[$1.0] = ($1.1, $1.2) }
        }
        for (tenant, client) in clients {
            let (status, body) = try #require(answers[tenant])
            #expect(status == 200, "\(tenant): \(String(decoding: body, as: UTF8.self))")
            let task = try await client.task(id: "job-1")
            #expect(task.tenant == tenant && task.agentID == agents[tenant]!.id && task.status == .succeeded)
            #expect(task.output?["echo"] == .string("\(tenant)-secret"))
            // A `?tenant=` naming the other tenant changes nothing for a tenant's token.
            let other = tenant == "acme" ? "globex" : "acme"
            let asked = try JSONCoding.decoder().decode(TaskRecord.self, from: try await client.raw(method: "GET", path: "/api/v1/tasks/job-1?tenant=\(other)").body)
            #expect(asked == task)
        }
        // The same id again is the same task (idempotent); on another agent of the same tenant, a 409.
        #expect(try await acme.raw(method: "POST", path: "/api/v1/cluster/agents/\(agents["acme"]!.id)/tasks", body: Data(#"{"task_id": "job-1", "input": {}}"#.utf8)).status == 202)
        let second = try await acme.deploy(DeployRequest(agentType: "echo"))
        let clash = try await acme.raw(method: "POST", path: "/api/v1/cluster/agents/\(second.id)/tasks", body: Data(#"{"task_id": "job-1", "input": {}}"#.utf8))
        #expect(clash.status == 409)
        #expect(try JSONCoding.decoder().decode(APIErrorBody.self, from: clash.body).error.code == "task_exists")

        // An id only the other tenant has answers exactly like an unknown one, on every route.
        _ = try await globex.applyWorkflow(WorkflowDefinition(name: "globex-only", steps: [StepDefinition(id: "a", type: .task, agentType: "echo")]))
        let lone = try await globex.startRun(workflow: "globex-only", input: [:], runID: "globex-run")
        let loneTask = try await globex.submitTask(agentID: agents["globex"]!.id, input: ["seconds": 0], timeoutSeconds: 10, wait: true)
        for (method, path, id, body) in [
            ("GET", "/api/v1/tasks/ID", loneTask.id, nil), ("GET", "/api/v1/tasks/ID?wait=true", loneTask.id, nil),
            ("GET", "/api/v1/workflows/ID", "globex-only", nil), ("POST", "/api/v1/workflows/ID/runs", "globex-only", "{}"),
            ("GET", "/api/v1/workflows/runs/ID", lone.id, nil), ("GET", "/api/v1/workflows/runs/ID/history", lone.id, nil),
            ("POST", "/api/v1/workflows/runs/ID/cancel", lone.id, nil), ("POST", "/api/v1/workflows/runs/ID/signal/go", lone.id, "{}"),
        ] as [(String, String, String, String?)] {
            let foreign = try await Self.answer(acme, method, path, id: id, body: body)
            let unknown = try await Self.answer(acme, method, path, id: "nope-\(UUID().uuidString.prefix(8))", body: body)
            #expect(foreign.0 == 404, "\(method) \(path): \(foreign)")
            #expect(foreign.0 == unknown.0 && foreign.1 == unknown.1.replacingOccurrences(of: #"nope-[0-9A-F]{8}"#, with: "ID", options: .regularExpression), "\(method) \(path)")
        }

        // An admin names the tenant when several have the id; one that only one tenant has needs no name.
        for path in ["/api/v1/tasks/job-1", "/api/v1/workflows/runs/r1", "/api/v1/workflows/runs/r1/history", "/api/v1/workflows/etl"] {
            let ambiguous = try await admin.raw(method: "GET", path: path)
            #expect(ambiguous.status == 409, "\(path)")
            #expect(try JSONCoding.decoder().decode(APIErrorBody.self, from: ambiguous.body).error.code == "ambiguous_id", "\(path)")
            for (tenant, client) in clients {
                let named = try await admin.raw(method: "GET", path: "\(path)?tenant=\(tenant)")
                #expect(named.status == 200, "\(path)?tenant=\(tenant)")
                let own = try await client.raw(method: "GET", path: path)
                #expect(try JSONCoding.decoder().decode(JSONValue.self, from: named.body) == JSONCoding.decoder().decode(JSONValue.self, from: own.body), "\(path)")
            }
            #expect(try await admin.raw(method: "GET", path: "\(path)?tenant=initech").status == 404)
        }
        #expect(try await admin.task(id: loneTask.id).tenant == "globex")
        #expect(try await admin.run(id: lone.id).tenant == "globex")
        let adminRun = try await admin.raw(method: "POST", path: "/api/v1/workflows/etl/runs?tenant=globex", body: Data(#"{"run_id": "r1"}"#.utf8))
        #expect(adminRun.status == 201)
        #expect(try JSONCoding.decoder().decode(WorkflowRunRecord.self, from: adminRun.body).input == ["source": "globex-data"])
    }
}
