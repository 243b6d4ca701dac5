import Crypto
import DroverClient
import DroverCore
import DroverTestSupport
import Foundation
import Testing

/// Secrets in `agent_config` against a real manager and nodes: the agent gets them, nobody else sees them.
@Suite("Agent secrets", .serialized, .timeLimit(.minutes(3)))
struct SecretsTests {
    /// A process agent that answers each task with SHA-256 digests of its secrets, proving it got
    /// them in `init` without ever printing them.
    static let probe = """
        import hashlib, json, sys
        config = {}
        def digest(value):
            return hashlib.sha256(json.dumps(value).encode()).hexdigest() if value is not None else None
        for raw in sys.stdin:
            message = json.loads(raw)
            if message.get("type") == "init":
                config = message.get("config") or {}
            elif message.get("type") == "task":
                output = {"api_key": digest(config.get("api_key")), "nested": digest(config.get("nested", {}).get("token")),
                          "db_password": digest((config.get("secrets") or {}).get("DB_PASSWORD")),
                          "plain": config.get("plain")}
                sys.stdout.write(json.dumps({"type": "result", "task_id": message["task_id"], "output": output}) + "\\n")
                sys.stdout.flush()
            elif message.get("type") == "shutdown":
                break
        """

    /// The digest the probe computes: SHA-256 of the value's JSON text (Python's `json.dumps`).
    static func digest(_ text: String) -> String {
        SHA256.hash(data: Data("\"\(text)\"".utf8)).map { String(format: "%02x", $0) }.joined()
    }

    @Test("deploy with secrets: the agent gets them; answers, events, the database file and every log show *** or nothing")
    func secretsStayHidden() async throws {
        let apiKey = "sk-live-APIKEY-\(UUID().uuidString)"
        let nestedToken = "nested-TOKEN-\(UUID().uuidString)"
        let dbPassword = "db-PASSWORD-\(UUID().uuidString)"
        let secrets = [apiKey, nestedToken, dbPassword]

        let cluster = try TestCluster(tls: true)
        let probeFile = cluster.directory.appendingPathComponent("probe.py")
        try Self.probe.write(to: probeFile, atomically: true, encoding: .utf8)
        cluster.managerArguments = ["--log-level", "trace"]
        try await cluster.startManager()
        for id in ["vault1", "vault2"] {
            try await cluster.startNode(id, extraArguments: ["--agent-type", "probe=process:python3 \(probeFile.path)", "--log-level", "trace"])
        }
        try await cluster.waitForNode("vault1", status: .active)
        try await cluster.waitForNode("vault2", status: .active)
        let client = cluster.client

        func assertHidden(_ text: String, _ what: String) {
            for secret in secrets { #expect(!text.contains(secret), "a secret appears in \(what)") }
        }

        let body = """
            {"agent_type": "probe", "preferred_container": "vault1",
             "agent_config": {"api_key": "secret://\(apiKey)", "nested": {"token": "secret://\(nestedToken)"},
                              "secrets": {"DB_PASSWORD": "\(dbPassword)"}, "plain": "visible"}}
            """
        let deployed = try await client.raw(method: "POST", path: "/api/v1/cluster/agents/deploy", body: Data(body.utf8))
        #expect(deployed.status == 201)
        let deployText = String(decoding: deployed.body, as: UTF8.self)
        assertHidden(deployText, "the deploy answer")
        let agent = try JSONCoding.decoder().decode(AgentRecord.self, from: deployed.body)
        #expect(agent.config["api_key"] == "***")
        #expect(agent.config["nested"]?["token"] == "***")
        #expect(agent.config["secrets"]?["DB_PASSWORD"] == "***")
        #expect(agent.config["plain"] == "visible")

        // The agent got every secret in clear (it answers digests of what it was given).
        let task = try await client.submitTask(agentID: agent.id, input: [:], timeoutSeconds: 30, wait: true)
        #expect(task.status == .succeeded, "\(task.error ?? "")\n\(cluster.logs)")
        #expect(task.output?["api_key"]?.stringValue == Self.digest(apiKey))
        #expect(task.output?["nested"]?.stringValue == Self.digest(nestedToken))
        #expect(task.output?["db_password"]?.stringValue == Self.digest(dbPassword))
        #expect(task.output?["plain"] == "visible")

        // It keeps them when it moves to another node (the new node gets them in init too).
        let migrated = try await client.raw(
            method: "POST", path: "/api/v1/cluster/agents/\(agent.id)/migrate", body: Data(#"{"target_container_id": "vault2"}"#.utf8)
        )
        #expect(migrated.status == 200)
        assertHidden(String(decoding: migrated.body, as: UTF8.self), "the migrate answer")
        try await eventually("the agent runs on vault2") {
            let now = try await client.agent(id: agent.id)
            return now.nodeID == "vault2" && now.status == .running
        }
        let moved = try await client.submitTask(agentID: agent.id, input: [:], timeoutSeconds: 30, wait: true)
        #expect(moved.output?["db_password"]?.stringValue == Self.digest(dbPassword))

        // Every read of the API.
        for path in [
            "/api/v1/cluster/agents", "/api/v1/cluster/agents/\(agent.id)", "/api/v1/cluster/agents/\(agent.id)/tasks",
            "/api/v1/events?after=0&limit=1000", "/api/v1/audit?after=0&limit=1000", "/api/v1/cluster/status", "/api/v1/cluster/containers",
        ] {
            let answer = try await client.raw(method: "GET", path: path)
            #expect(answer.status == 200, "\(path)")
            assertHidden(String(decoding: answer.body, as: UTF8.self), path)
        }
        let listed = try await client.agents()
        #expect(listed.first { $0.id == agent.id }?.config["api_key"] == "***")
        let cli = try await cluster.cli(["agents", "--json", "--ca", try #require(cluster.certificates).caCertificate])
        #expect(cli.status == 0)
        assertHidden(cli.output, "drover agents --json")
        for node in ["vault1", "vault2"] { assertHidden("\(try await cluster.nodeAPI(node, "/agents"))", "node \(node)'s /agents") }
        let undeployed = try await client.raw(method: "DELETE", path: "/api/v1/cluster/agents/\(agent.id)")
        assertHidden(String(decoding: undeployed.body, as: UTF8.self), "the undeploy answer")

        // The database (and its WAL) holds only ciphertext; the key lives beside it, mode 0600.
        await cluster.stopAll(keepingFiles: true)
        var sealedSeen = false
        for suffix in ["", "-wal", "-shm"] {
            guard let bytes = FileManager.default.contents(atPath: cluster.databasePath + suffix) else { continue }
            for secret in secrets { #expect(bytes.range(of: Data(secret.utf8)) == nil, "a secret is in drover.db\(suffix)") }
            sealedSeen = sealedSeen || bytes.range(of: Data("drover-secret:v1:".utf8)) != nil
        }
        #expect(sealedSeen, "no sealed secret in the database files")
        let keyFile = cluster.databasePath + ".master-key"
        let attributes = try FileManager.default.attributesOfItem(atPath: keyFile)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)

        // No log line of the manager or either node (at trace level) names a secret.
        assertHidden(cluster.fullLogs, "the process logs")
        try? FileManager.default.removeItem(at: cluster.directory)
    }

    @Test("bad secrets: a non-object secrets map and the reserved prefix answer 400 and store nothing")
    func badSecretsRefused() async throws {
        let cluster = try TestCluster()
        try await cluster.startManager()
        for config in [#"{"secrets": "x"}"#, #"{"a": "drover-secret:v1:AAAA"}"#, #"{"secrets": {"K": "drover-secret:v1:AAAA"}}"#] {
            let body = Data(#"{"agent_type": "echo", "agent_config": \#(config)}"#.utf8)
            let answer = try await cluster.client.raw(method: "POST", path: "/api/v1/cluster/agents/deploy", body: body)
            #expect(answer.status == 400, "\(config)")
            #expect(String(decoding: answer.body, as: UTF8.self).contains("invalid_request"))
        }
        #expect(try await cluster.client.agents().isEmpty)
    }

    @Test("MASTER_SECRET_KEY: with it no key file is written, and a manager restarted with another key cannot open the secrets")
    func masterKeyFromEnvironment() async throws {
        let cluster = try TestCluster()
        cluster.managerEnvironment = ["MASTER_SECRET_KEY": Data(repeating: 7, count: 32).base64EncodedString()]
        try await cluster.startManager()
        try await cluster.startNode("n1")
        try await cluster.startNode("n2")
        try await cluster.waitForNode("n1", status: .active)
        try await cluster.waitForNode("n2", status: .active)
        let agent = try await cluster.client.deploy(
            DeployRequest(agentType: "echo", agentConfig: ["secrets": ["K": .string("value-\(UUID().uuidString)")]], preferredContainer: "n1")
        )
        #expect(agent.config["secrets"]?["K"] == "***")
        #expect(!FileManager.default.fileExists(atPath: cluster.databasePath + ".master-key"))
        try await eventually("the agent runs") { try await cluster.client.agent(id: agent.id).status == .running }

        // Another key: the manager serves, and says it cannot decrypt instead of starting the agent with garbage.
        await cluster.killManager()
        cluster.managerEnvironment = ["MASTER_SECRET_KEY": "another passphrase entirely"]
        try await cluster.startManager()
        // The nodes reconnect to the new manager; then the move asks it to open the secrets for n2.
        try await eventually("the agent can be moved to n2") {
            (try? await cluster.client.migrate(agentID: agent.id, MigrateRequest(targetContainerID: "n2"))) != nil
        }
        try await eventually("the manager reports the key problem") {
            cluster.manager?.output.contains("cannot be decrypted with this master key") == true
        }
        #expect(try await cluster.client.health().status == "ok")
    }
}
