import DroverClient
import DroverCore
import DroverTestSupport
import Foundation
import Testing

/// Node join tokens against a real manager and node: join once, reconnect with the issued
/// credential, refuse replays, and cut the node off at once when the token is revoked.
@Suite("Join tokens", .serialized, .timeLimit(.minutes(3)))
struct JoinTokenTests {
    /// Runs the `drover` CLI and returns its stdout.
    static func cli(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = try Paths.drover
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = Pipe()
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestFailure("drover \(arguments.joined(separator: " ")) exited \(process.terminationStatus)") }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("join once, reconnect with the stored credential, replay refused, revoke disconnects at once and refuses after")
    func joinLifecycle() async throws {
        let cluster = try TestCluster()
        try await cluster.startManager()
        let admin = cluster.client
        _ = try await admin.createTenant("acme")
        let joinToken = try Self.cli(["token", "create", "--tenant", "acme", "--ttl", "1h", "--manager", cluster.managerURL, "--token", cluster.token])
        #expect(joinToken.hasPrefix("drj_"))
        let listed = try await admin.joinTokens(tenant: "acme")
        #expect(listed.count == 1 && listed.first?.usedAt == nil)
        let tokenID = try #require(listed.first?.id)

        // A join token is not an API credential.
        #expect(try await cluster.client(token: joinToken).raw(method: "GET", path: "/api/v1/cluster/agents").status == 401)

        // The node joins with it and keeps the credential it gets.
        try await cluster.startNode("joiner", token: joinToken, extraArguments: ["--tenant", "acme"])
        try await cluster.waitForNode("joiner", status: .active)
        #expect(try await admin.node(id: "joiner").tenant == "acme")
        let credentialFile = cluster.directory.appendingPathComponent(".drover-node/joiner.credential").path
        try await eventually("the node stored its credential") { FileManager.default.fileExists(atPath: credentialFile) }
        let nodeCredential = try String(contentsOfFile: credentialFile, encoding: .utf8)
        #expect(nodeCredential.hasPrefix("drn_"))
        let attributes = try FileManager.default.attributesOfItem(atPath: credentialFile)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(try await admin.joinTokens(tenant: "acme").first?.nodeID == "joiner")

        // The node credential opens the gateway only, never the API.
        let rest = try await cluster.client(token: nodeCredential).raw(method: "GET", path: "/api/v1/cluster/agents")
        #expect(rest.status == 403)

        // Replaying the used join token is refused at the upgrade (400), before any hello.
        let codec = NodeMessageCodec()
        #expect(try GatewayCredentialTests.upgradeStatus(cluster, token: joinToken) == 400)
        await #expect(throws: (any Error).self) {
            _ = try await GatewayGarbageTests.exchange(cluster, token: joinToken, frames: [try codec.encode(.hello(TenantIsolationTests.hello("intruder", tenant: "acme")))])
        }
        // A node credential cannot register another node id.
        let otherID = try await GatewayGarbageTests.exchange(
            cluster, token: nodeCredential, frames: [try codec.encode(.hello(TenantIsolationTests.hello("intruder", tenant: "acme")))]
        )
        #expect(otherID.first?.contains("hello_refused") == true)
        await #expect(throws: DroverClientError.self) { try await admin.node(id: "intruder") }

        // Restarted with the same (used) join token, the node comes back on its stored credential.
        let before = try await admin.node(id: "joiner").incarnation
        await cluster.stopNode("joiner", signal: SIGTERM)
        // At debug level the node logs every refused redial (repeats are debug lines).
        let joiner = try await cluster.startNode("joiner", token: joinToken, extraArguments: ["--tenant", "acme", "--log-level", "debug"])
        try await eventually("the node is back with a new incarnation") {
            let node = try await admin.node(id: "joiner")
            return node.incarnation != before && node.status == .active
        }

        // Revoking the join token cuts the node off at once and refuses it after.
        let lastEvent = try await admin.events(limit: 1_000).last?.sequence ?? 0
        #expect(try Self.cli(["token", "revoke", tokenID, "--manager", cluster.managerURL, "--token", cluster.token]) == "revoked \(tokenID)")
        let events = try await admin.events(after: lastEvent, limit: 100)
        #expect(events.contains { $0.kind == "node.disconnected" && $0.nodeID == "joiner" }, "\(events)")
        try await cluster.waitForNode("joiner", status: .down, timeout: .seconds(10))
        // The node keeps dialling with its revoked credential and is refused each time.
        let refusalsBefore = joiner.output.components(separatedBy: "retrying").count
        try await eventually("the node tried again twice and was refused", timeout: .seconds(20)) {
            joiner.output.components(separatedBy: "retrying").count >= refusalsBefore + 2
        }
        #expect(try await admin.node(id: "joiner").status == .down, "the node must not get back in")
        #expect(try GatewayCredentialTests.upgradeStatus(cluster, token: nodeCredential) == 400)
        #expect(try await admin.joinTokens(tenant: "acme").first?.revokedAt != nil)
        for secret in [joinToken, nodeCredential] {
            #expect(!cluster.fullLogs.contains(String(secret.dropFirst(4))), "a secret is in a log")
        }
    }

    @Test("join tokens: expired ones are refused, the wrong tenant in hello is refused without using the token up, tenants make only their own")
    func joinRules() async throws {
        let cluster = try TestCluster()
        try await cluster.startManager()
        let admin = cluster.client
        _ = try await admin.createTenant("acme")
        _ = try await admin.createTenant("globex")
        let codec = NodeMessageCodec()

        let shortLived = try await admin.createJoinToken(JoinTokenCreateRequest(tenant: "acme", ttlSeconds: 1))
        try await Task.sleep(for: .milliseconds(1_500))
        #expect(try GatewayCredentialTests.upgradeStatus(cluster, token: shortLived.token) == 400)

        let token = try await admin.createJoinToken(JoinTokenCreateRequest(tenant: "acme"))
        let wrongTenant = try await GatewayGarbageTests.exchange(
            cluster, token: token.token, frames: [try codec.encode(.hello(TenantIsolationTests.hello("n1", tenant: "globex")))]
        )
        #expect(wrongTenant.first?.contains("hello_refused") == true)
        let right = try await GatewayGarbageTests.exchange(
            cluster, token: token.token, frames: [try codec.encode(.hello(TenantIsolationTests.hello("n1", tenant: "acme")))]
        )
        let welcome = try #require(right.first.flatMap { try? codec.decode($0) })
        guard case .welcome(let payload) = welcome else { Issue.record("expected welcome, got \(right)"); return }
        let issued = try #require(payload.nodeCredential)
        #expect(issued.hasPrefix("drn_"))
        // Removing the node revokes its credential: the gateway refuses it from then on.
        try await admin.deleteNode(id: "n1")
        #expect(try GatewayCredentialTests.upgradeStatus(cluster, token: issued) == 400)

        // A tenant makes join tokens for itself only; another tenant's name answers 404 like an unknown one.
        let acmeAPI = try await admin.createAPIToken(tenant: "acme").token
        let acme = cluster.client(token: acmeAPI)
        #expect(try await acme.createJoinToken(JoinTokenCreateRequest()).info.tenant == "acme")
        let foreign = try await acme.raw(method: "POST", path: "/api/v1/tokens", body: Data(#"{"tenant": "globex"}"#.utf8))
        let unknown = try await acme.raw(method: "POST", path: "/api/v1/tokens", body: Data(#"{"tenant": "nobody"}"#.utf8))
        #expect(foreign.status == 404 && unknown.status == 404)
        #expect(try await acme.joinTokens().allSatisfy { $0.tenant == "acme" })
        let globexToken = try await admin.createJoinToken(JoinTokenCreateRequest(tenant: "globex"))
        #expect(try await acme.raw(method: "DELETE", path: "/api/v1/tokens/\(globexToken.info.id)").status == 404)
        #expect(try await admin.joinTokens(tenant: "globex").first?.revokedAt == nil)
        let badTTL = try await admin.raw(method: "POST", path: "/api/v1/tokens", body: Data(#"{"tenant": "acme", "ttl_s": -5}"#.utf8))
        #expect(badTTL.status == 400)
    }
}
