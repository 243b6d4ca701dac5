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
        // Starting a run with the foreign run's id as idempotency key does not hand it over.
        _ = try await acme.applyWorkflow(WorkflowDefinition(name: "mine", steps: [StepDefinition(id: "a", type: .task, agentType: "echo")]))
        let stolen = try await acme.raw(method: "POST", path: "/api/v1/workflows/mine/runs", body: Data(#"{"run_id": "globex-run"}"#.utf8))
        #expect(stolen.status == 409)
        #expect(!String(decoding: stolen.body, as: UTF8.self).contains("globex-only"))
        // Registering a definition under a name another tenant holds is refused, and changes nothing.
        let taken = try await acme.raw(method: "POST", path: "/api/v1/workflows", body: Data(try JSONCoding.encoder().encode(gate)))
        #expect(taken.status == 409)
        #expect(try await admin.workflows().first { $0.name == "gate" }?.tenant == "globex")

        // Nothing changed: globex's run still waits, and finishes when globex signals it.
        let after = try await globex.run(id: run.id)
        #expect(after.status == .running)
        #expect(after.historyLength == view.historyLength)
        _ = try await globex.signal(runID: run.id, name: "open")
        try await eventually("globex's run completes") { try await globex.run(id: run.id).status == .completed }
        // The admin sees every tenant's runs (acme never started one).
        #expect(try await admin.runs().map(\.id) == [run.id])
    }
}
