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

    @Test("a YAML alias bomb or deep nesting gets a 400 at once, a syntax error its line and column, and the manager keeps serving")
    func yamlBombs() async throws {
        let cluster = try TestCluster()
        try await cluster.startManager()
        let client = cluster.client
        func post(_ text: String, as type: String) async throws -> (status: Int, error: APIErrorBody.Detail?, seconds: Double) {
            let start = ContinuousClock.now
            let response = try await client.raw(method: "POST", path: "/api/v1/workflows", body: Data(text.utf8), contentType: type)
            let elapsed = start.duration(to: .now)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            return (response.status, try? JSONCoding.decoder().decode(APIErrorBody.self, from: response.body).error, seconds)
        }
        let names = "abcdefghij".map(String.init)
        var lines = ["name: bomb", "a: &a [" + Array(repeating: "\"lol\"", count: 9).joined(separator: ",") + "]"]
        for level in 1..<10 {
            lines.append("\(names[level]): &\(names[level]) [" + Array(repeating: "*\(names[level - 1])", count: 9).joined(separator: ",") + "]")
        }
        let bomb = lines.joined(separator: "\n") + "\nsteps: [{id: s, type: task, agent_type: echo, input: *j}]\n"
        for type in ["application/yaml", "text/yaml", "application/x-yaml"] {
            let answer = try await post(bomb, as: type)
            #expect(answer.status == 400, "\(type): \(answer)")
            #expect(answer.error?.code == "yaml_too_large", "\(type): \(answer)")
            #expect(answer.error?.message.contains("aliases") == true, "\(type): \(answer)")
            #expect(answer.seconds < 3, "\(type): \(answer.seconds) s")
        }
        let deep = try await post("name: deep\nsteps: " + String(repeating: "[", count: 100_000), as: "application/yaml")
        #expect(deep.status == 400 && deep.error?.code == "yaml_too_large" && deep.seconds < 3, "\(deep)")
        #expect(deep.error?.message.contains("deeper than 64") == true, "\(deep)")

        let broken = try await post("name: w\nsteps: [unclosed\n", as: "text/yaml")
        #expect(broken.status == 400 && broken.error?.code == "invalid_yaml", "\(broken)")
        #expect(broken.error?.message.contains("line 3, column 1") == true, "\(broken)")

        // Small anchors and aliases still register.
        let anchored = """
            name: anchored
            steps:
              - {id: a, type: task, agent_type: echo, input: &greeting {text: hi}}
              - {id: b, type: task, agent_type: echo, input: *greeting, depends_on: [a]}
            """
        #expect(try await post(anchored, as: "application/yaml").status == 201)
        #expect(try await client.health().status == "ok")
        #expect(cluster.manager?.isRunning == true)
    }
}
