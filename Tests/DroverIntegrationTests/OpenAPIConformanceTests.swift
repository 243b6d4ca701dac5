import DroverClient
import DroverCore
import DroverTestSupport
import Foundation
import Testing

/// Real answers of a real manager match the OpenAPI document it serves: for each call the
/// status is one the document lists for that operation, and the body validates against the
/// schema of that status.
@Suite("OpenAPI conformance", .serialized, .timeLimit(.minutes(2)))
struct OpenAPIConformanceTests {
    /// Sends one call and checks its answer against the document; returns the decoded body.
    struct Checker {
        let validator: OpenAPIValidator
        let client: DroverClient

        @discardableResult
        func call(
            _ method: String, _ path: String, documented template: String? = nil, query: String = "", body: String? = nil,
            contentType: String = "application/json", expect status: Int, sourceLocation: SourceLocation = #_sourceLocation
        ) async throws -> JSONValue {
            let operation = template ?? path
            let response = try await client.rawResponse(method: method, path: path + query, body: body.map { Data($0.utf8) }, contentType: contentType)
            let text = String(decoding: response.body, as: UTF8.self)
            #expect(response.status == status, "\(method) \(path)\(query) → \(response.status) \(text.prefix(300))", sourceLocation: sourceLocation)
            #expect(
                validator.statuses(method: method, path: operation).contains(response.status),
                "\(method) \(operation) answered \(response.status), which the document does not list", sourceLocation: sourceLocation
            )
            guard let schema = validator.responseSchema(method: method, path: operation, status: response.status) else { return .null }
            guard !response.body.isEmpty else { return .null }
            #expect(response.headers["content-type"]?.hasPrefix("application/json") == true, sourceLocation: sourceLocation)
            let value = try JSONCoding.decoder().decode(JSONValue.self, from: response.body)
            let problems = validator.problems(value, against: schema)
            #expect(problems.isEmpty, "\(method) \(operation) \(response.status): \(problems.prefix(10))", sourceLocation: sourceLocation)
            return value
        }
    }

    @Test("deploy, agent, task, workflow run, tenants, tokens, listings and error bodies match the served document")
    func conformance() async throws {
        let cluster = try TestCluster()
        try await cluster.startManager()
        try await cluster.startNode("n1")
        try await cluster.waitForNode("n1", status: .active)

        // Served without a credential.
        let anonymous = cluster.client(token: nil)
        let served = try await anonymous.raw(method: "GET", path: "/api/v1/openapi.json")
        #expect(served.status == 200)
        let document = try JSONCoding.decoder().decode(JSONValue.self, from: served.body)
        let validator = OpenAPIValidator(document: document)
        let admin = Checker(validator: validator, client: cluster.client)
        let nobody = Checker(validator: validator, client: anonymous)
        let cl = "/api/v1/cluster"

        try await nobody.call("GET", "/health", expect: 200)
        try await nobody.call("GET", "\(cl)/agents", expect: 401)

        // Agents and tasks.
        let agent = try await admin.call("POST", "\(cl)/agents/deploy", body: #"{"agent_type": "echo", "labels": {"team": "a"}}"#, expect: 201)
        let agentID = try #require(agent["id"]?.stringValue)
        try await admin.call("POST", "\(cl)/agents/deploy", query: "?dry_run=true", body: #"{"agent_type": "echo"}"#, expect: 200)
        try await admin.call("GET", "\(cl)/agents/\(agentID)", documented: "\(cl)/agents/{id}", expect: 200)
        try await admin.call("GET", "\(cl)/agents", query: "?status=running", expect: 200)
        let task = try await admin.call(
            "POST", "\(cl)/agents/\(agentID)/tasks", documented: "\(cl)/agents/{id}/tasks", query: "?wait=true",
            body: #"{"input": {"hello": "world"}, "timeout_s": 20}"#, expect: 200
        )
        #expect(task["status"] == "succeeded")
        let taskID = try #require(task["id"]?.stringValue)
        try await admin.call("GET", "/api/v1/tasks/\(taskID)", documented: "/api/v1/tasks/{id}", expect: 200)
        try await admin.call("GET", "\(cl)/agents/\(agentID)/tasks", documented: "\(cl)/agents/{id}/tasks", expect: 200)

        // Workflows and runs.
        let definition = #"{"name": "oa-echo", "steps": [{"id": "say", "type": "task", "agent_type": "echo", "retry_policy": {"max_attempts": 2, "delay": "10ms"}}]}"#
        try await admin.call("POST", "/api/v1/workflows", body: definition, expect: 201)
        try await admin.call("GET", "/api/v1/workflows/oa-echo", documented: "/api/v1/workflows/{name}", expect: 200)
        let run = try await admin.call(
            "POST", "/api/v1/workflows/oa-echo/runs", documented: "/api/v1/workflows/{name}/runs", query: "?wait=true&timeout_s=30",
            body: #"{"input": {"n": 1}}"#, expect: 200
        )
        #expect(run["status"] == "completed")
        let runID = try #require(run["id"]?.stringValue)
        try await admin.call("GET", "/api/v1/workflows/runs/\(runID)", documented: "/api/v1/workflows/runs/{id}", expect: 200)
        try await admin.call("GET", "/api/v1/workflows/runs/\(runID)/history", documented: "/api/v1/workflows/runs/{id}/history", expect: 200)
        try await admin.call("GET", "/api/v1/workflows/runs", expect: 200)
        try await admin.call("GET", "/api/v1/workflows", expect: 200)
        try await admin.call("POST", "/api/v1/workflows/runs/\(runID)/cancel", documented: "/api/v1/workflows/runs/{id}/cancel", expect: 409)

        // Cluster views.
        for path in ["\(cl)/status", "\(cl)/containers", "\(cl)/metrics/distribution", "/api/v1/events", "/api/v1/audit", "/api/v1/tokens"] {
            try await admin.call("GET", path, expect: 200)
        }
        try await admin.call("GET", "\(cl)/containers/n1", documented: "\(cl)/containers/{id}", expect: 200)
        try await admin.call("POST", "\(cl)/actions", body: #"{"action": "health_check"}"#, expect: 200)
        try await admin.call("POST", "\(cl)/actions", body: #"{"action": "rebalance", "dry_run": true}"#, expect: 200)

        // Tenants and tokens; a tenant token is refused admin calls with 403.
        try await admin.call("POST", "/api/v1/tenants", body: #"{"name": "acme"}"#, expect: 201)
        let token = try await admin.call("POST", "/api/v1/tenants/acme/tokens", documented: "/api/v1/tenants/{name}/tokens", body: #"{"name": "ci"}"#, expect: 201)
        try await admin.call("GET", "/api/v1/tenants/acme/tokens", documented: "/api/v1/tenants/{name}/tokens", expect: 200)
        try await admin.call("POST", "/api/v1/tokens", body: #"{"tenant": "acme", "ttl_s": 60}"#, expect: 201)
        let tenant = Checker(validator: validator, client: cluster.client(token: try #require(token["token"]?.stringValue)))
        try await tenant.call("GET", "/api/v1/audit", expect: 403)
        try await tenant.call("GET", "/api/v1/events", query: "?tenant=other", expect: 200)
        try await tenant.call("GET", "\(cl)/agents/\(agentID)", documented: "\(cl)/agents/{id}", expect: 404)

        // Names are per tenant: with one in two tenants, an admin names the tenant (409 without).
        try await admin.call("POST", "/api/v1/workflows", query: "?tenant=acme", body: definition, expect: 201)
        try await admin.call("GET", "/api/v1/workflows/oa-echo", documented: "/api/v1/workflows/{name}", expect: 409)
        try await admin.call("GET", "/api/v1/workflows/oa-echo", documented: "/api/v1/workflows/{name}", query: "?tenant=acme", expect: 200)
        try await admin.call("GET", "/api/v1/workflows/runs/\(runID)", documented: "/api/v1/workflows/runs/{id}", query: "?tenant=default", expect: 200)
        try await admin.call("GET", "/api/v1/tasks/\(taskID)", documented: "/api/v1/tasks/{id}", query: "?tenant=default", expect: 200)

        // Error bodies.
        try await admin.call("GET", "\(cl)/agents/agt-nope", documented: "\(cl)/agents/{id}", expect: 404)
        try await admin.call("POST", "\(cl)/agents/deploy", body: "{not json", expect: 400)
        try await admin.call("POST", "\(cl)/agents/deploy", body: #"{"agent_type": "no_such_type"}"#, expect: 422)
        try await admin.call("GET", "/api/v1/events", query: "?limit=zero", expect: 400)
        try await admin.call("POST", "/api/v1/workflows", body: #"{"name": "bad", "steps": []}"#, expect: 422)
        try await admin.call("POST", "/api/v1/tenants", body: #"{"name": "acme"}"#, expect: 409)
        try await nobody.call("POST", "/api/v1/auth/token", body: #"{"username": "admin", "password": "wrong"}"#, expect: 401)
        try await nobody.call("POST", "/api/v1/auth/token", body: #"{"username": "admin", "password": "\#(cluster.adminPassword)"}"#, expect: 200)
        try await admin.call("DELETE", "\(cl)/agents/\(agentID)", documented: "\(cl)/agents/{id}", expect: 202)
        #expect(cluster.manager?.isRunning == true)
    }
}
