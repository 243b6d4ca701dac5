import DroverClient
import DroverCore
import DroverTestSupport
import Foundation
import Testing

/// Bad input gets a 4xx JSON error and the manager keeps serving.
@Suite("Bad input", .serialized, .timeLimit(.minutes(2)))
struct BadInputTests {
    @Test("malformed, unknown, unauthenticated and oversized requests are refused with JSON errors")
    func refusals() async throws {
        let cluster = try TestCluster()
        try await cluster.startManager()
        try await cluster.startNode("n1")
        try await cluster.waitForNode("n1", status: .active)
        let client = cluster.client
        let anonymous = DroverClient(baseURL: cluster.managerURL, token: nil)
        let wrong = DroverClient(baseURL: cluster.managerURL, token: "not-the-token-at-all-000000")

        let cases: [(DroverClient, String, String, String?, Int, String)] = [
            (client, "POST", "/api/v1/cluster/agents/deploy", "{not json", 400, "invalid_json"),
            (client, "POST", "/api/v1/cluster/agents/deploy", "{\"agent_type\": 5}", 400, "invalid_body"),
            (client, "POST", "/api/v1/cluster/agents/deploy", "{}", 400, "invalid_body"),
            (client, "POST", "/api/v1/cluster/agents/deploy", "{\"agent_type\": \"echo\", \"deployment_strategy\": \"random\"}", 400, "invalid_body"),
            (client, "POST", "/api/v1/cluster/agents/deploy", "{\"agent_type\": \"no_such_type\"}", 422, "unplaceable"),
            (client, "POST", "/api/v1/cluster/agents/deploy", "{\"agent_type\": \"../etc\"}", 400, "invalid_request"),
            (client, "POST", "/api/v1/cluster/agents/deploy", String(repeating: "[", count: 200) + String(repeating: "]", count: 200), 400, "invalid_request"),
            (client, "GET", "/api/v1/cluster/agents/agt-unknown", nil, 404, "not_found"),
            (client, "DELETE", "/api/v1/cluster/agents/agt-unknown", nil, 404, "not_found"),
            (client, "POST", "/api/v1/cluster/agents/agt-unknown/tasks", "{\"input\": 1}", 404, "not_found"),
            (client, "GET", "/api/v1/cluster/containers/nobody", nil, 404, "not_found"),
            (client, "POST", "/api/v1/cluster/containers/nobody/heartbeat", "{}", 404, "not_found"),
            (client, "GET", "/api/v1/tasks/tsk-unknown", nil, 404, "not_found"),
            (client, "GET", "/api/v1/no/such/route", nil, 404, "not_found"),
            (anonymous, "GET", "/api/v1/cluster/agents", nil, 401, "unauthorized"),
            (wrong, "GET", "/api/v1/cluster/status", nil, 401, "unauthorized"),
            (anonymous, "GET", "/metrics", nil, 401, "unauthorized"),
            (client, "POST", "/api/v1/cluster/containers/register", "{\"container_name\": \"\"}", 400, "invalid_request"),
            (client, "POST", "/api/v1/cluster/agents/deploy", "{\"agent_type\": \"echo\", \"pad\": \"" + String(repeating: "x", count: 2 << 20) + "\"}", 413, "body_too_large"),
        ]
        for (caller, method, path, body, status, code) in cases {
            let response = try await caller.raw(method: method, path: path, body: body.map { Data($0.utf8) })
            let text = String(decoding: response.body, as: UTF8.self)
            #expect(response.status == status, "\(method) \(path) → \(response.status) \(text.prefix(300))")
            let error = try? JSONCoding.decoder().decode(APIErrorBody.self, from: response.body)
            #expect(error?.error.code == code, "\(method) \(path) → \(text.prefix(300))")
            #expect(!(error?.error.message.isEmpty ?? true))
        }

        // A wrong type names the field.
        let wrongType = try await client.raw(method: "POST", path: "/api/v1/cluster/agents/deploy", body: Data(#"{"agent_type": "echo", "resource_requirements": {"cpu": "lots"}}"#.utf8))
        #expect(wrongType.status == 400)
        let wrongTypeMessage = try JSONCoding.decoder().decode(APIErrorBody.self, from: wrongType.body).error.message
        #expect(wrongTypeMessage.contains("resource_requirements.cpu"), "\(wrongTypeMessage)")

        // Nothing half-written, and the manager still serves.
        #expect(try await client.agents().isEmpty)
        #expect(try await anonymous.health().status == "ok")
        let echo = try await client.deploy(DeployRequest(agentType: "echo"))
        let task = try await client.submitTask(agentID: echo.id, input: "still here", timeoutSeconds: 20, wait: true)
        #expect(task.output == "still here")
        #expect(cluster.manager?.isRunning == true)
    }
}
