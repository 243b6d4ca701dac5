import DroverClient
import DroverCore
import DroverTestSupport
import Foundation
import HTTPTypes
import HummingbirdWSClient
import Testing

/// Credentials on the node gateway: the exact answer to a refused upgrade (`400`: the WebSocket
/// library answers every refused upgrade so), and credentials that stop being valid between the
/// upgrade and `hello`.
@Suite("Gateway credentials", .serialized, .timeLimit(.minutes(2)))
struct GatewayCredentialTests {
    /// The HTTP status the gateway answers a WebSocket upgrade with (curl sends the handshake;
    /// a 101 is cut off after a second).
    static func upgradeStatus(_ cluster: TestCluster, token: String?) throws -> Int {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        var arguments = [
            "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "1", "--http1.1",
            "-H", "Connection: Upgrade", "-H", "Upgrade: websocket", "-H", "Sec-WebSocket-Version: 13",
            "-H", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        ]
        if let token { arguments += ["-H", "Authorization: Bearer \(token)"] }
        process.arguments = arguments + [cluster.managerURL + "/api/v1/cluster/connect"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return Int(String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)) ?? -1
    }

    /// Connects with `token`, runs `between` once the socket is open, then sends `hello` for
    /// `nodeID` and returns the frames the manager answered with.
    static func helloAfter(
        _ cluster: TestCluster, token: String, nodeID: String, tenant: String, between: @escaping @Sendable () async throws -> Void
    ) async throws -> [String] {
        let received = FrameLog()
        let url = cluster.managerURL.replacingOccurrences(of: "http://", with: "ws://") + "/api/v1/cluster/connect"
        try await WebSocketClient.connect(
            url: url, configuration: .init(additionalHeaders: [.authorization: "Bearer \(token)"]), logger: GatewayGarbageTests.logger
        ) { inbound, outbound, _ in
            try await between()
            try await outbound.write(.text(NodeMessageCodec().encode(.hello(TenantIsolationTests.hello(nodeID, tenant: tenant)))))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        if case .text(let text) = message { await received.append(text) }
                    }
                }
                group.addTask { try await Task.sleep(for: .seconds(1)) }
                try await group.next()
                group.cancelAll()
                try? await outbound.close(.normalClosure, reason: nil)
            }
        }
        return await received.frames
    }

    @Test("a refused upgrade answers exactly 400 (what HummingbirdWebSocket sends): no token, garbage, expired or forged JWT, revoked tokens; a valid one gets 101")
    func upgradeStatuses() async throws {
        let cluster = try TestCluster()
        try await cluster.startManager()
        let admin = cluster.client
        _ = try await admin.createTenant("acme")
        let apiToken = try await admin.createAPIToken(tenant: "acme")
        let revokedJoin = try await admin.createJoinToken(JoinTokenCreateRequest(tenant: "acme", ttlSeconds: 600))
        try await admin.revokeJoinToken(id: revokedJoin.info.id)
        let revokedAPI = try await admin.createAPIToken(tenant: "acme")
        try await admin.revokeAPIToken(tenant: "acme", id: revokedAPI.info.id)
        let adminClaims = TestJWT.claims(sub: "admin", role: "admin")
        let refused: [(String, String?)] = [
            ("no token", nil),
            ("garbage", "garbage-garbage-garbage"),
            ("expired JWT", try TestJWT.make(claims: TestJWT.claims(sub: "admin", role: "admin", expiresIn: -60), secret: cluster.jwtSecret)),
            ("JWT signed with another secret", try TestJWT.make(claims: adminClaims, secret: "another-secret-another-secret-another")),
            ("alg none", try TestJWT.make(header: ["alg": "none", "typ": "JWT"], claims: adminClaims, secret: "", signature: "")),
            ("revoked, never used join token", revokedJoin.token),
            ("revoked API token", revokedAPI.token),
        ]
        for (name, token) in refused {
            #expect(try Self.upgradeStatus(cluster, token: token) == 400, "\(name)")
        }
        #expect(try Self.upgradeStatus(cluster, token: cluster.token) == 101)
        #expect(try Self.upgradeStatus(cluster, token: apiToken.token) == 101)
        #expect(try await admin.nodes().isEmpty)
    }

    @Test("a credential revoked, or a join token expired, between the upgrade and hello gets no node in")
    func staleBeforeHello() async throws {
        let cluster = try TestCluster()
        try await cluster.startManager()
        let admin = cluster.client
        _ = try await admin.createTenant("acme")

        let apiToken = try await admin.createAPIToken(tenant: "acme")
        let revokedFrames = try await Self.helloAfter(cluster, token: apiToken.token, nodeID: "late-1", tenant: "acme") {
            try await admin.revokeAPIToken(tenant: "acme", id: apiToken.info.id)
        }
        #expect(GatewayGarbageTests.types(revokedFrames) == ["error"], "\(revokedFrames)")
        #expect(revokedFrames.first?.contains("hello_refused") == true)
        #expect(revokedFrames.first?.contains("no longer valid") == true)

        // 3 s: long enough for the upgrade to get in on a busy machine (a 1 s token sometimes expired first).
        let join = try await admin.createJoinToken(JoinTokenCreateRequest(tenant: "acme", ttlSeconds: 3))
        let expiredFrames = try await Self.helloAfter(cluster, token: join.token, nodeID: "late-2", tenant: "acme") {
            // The token's time runs out while the socket is open.
            try await Task.sleep(for: .milliseconds(3_300))
        }
        #expect(GatewayGarbageTests.types(expiredFrames) == ["error"], "\(expiredFrames)")
        #expect(expiredFrames.first?.contains("hello_refused") == true)
        #expect(try await admin.joinTokens(tenant: "acme").first { $0.id == join.info.id }?.usedAt == nil)
        #expect(try await admin.nodes().isEmpty)
    }

    @Test("a join token cannot take over a connected node of its tenant; the node and its credential stay")
    func noTakeover() async throws {
        let cluster = try TestCluster()
        try await cluster.startManager()
        let admin = cluster.client
        _ = try await admin.createTenant("acme")
        let first = try await admin.createJoinToken(JoinTokenCreateRequest(tenant: "acme"))
        try await cluster.startNode("edge", token: first.token, extraArguments: ["--tenant", "acme"])
        try await cluster.waitForNode("edge", status: .active)
        let credentialsBefore = try await admin.joinTokens(tenant: "acme")

        let second = try await admin.createJoinToken(JoinTokenCreateRequest(tenant: "acme"))
        let frames = try await Self.helloAfter(cluster, token: second.token, nodeID: "edge", tenant: "acme") {}
        #expect(GatewayGarbageTests.types(frames) == ["error"], "\(frames)")
        #expect(frames.first?.contains("is connected") == true)
        #expect(try await admin.node(id: "edge").status == .active)
        let after = try await admin.joinTokens(tenant: "acme")
        #expect(after.first { $0.id == second.info.id }?.usedAt == nil, "the refused join did not use the token up")
        #expect(after.first { $0.id == first.info.id } == credentialsBefore.first { $0.id == first.info.id })
    }

    @Test("refused upgrades spend the address's bucket: past it even a good credential waits, then gets in")
    func upgradeRateLimit() async throws {
        let cluster = try TestCluster()
        cluster.managerArguments = ["--rate-limit", "1", "--rate-burst", "3"]
        try await cluster.startManager()
        for _ in 0..<3 { #expect(try Self.upgradeStatus(cluster, token: "guess-guess-guess-guess") == 400) }
        #expect(try Self.upgradeStatus(cluster, token: cluster.token) == 400, "the address's bucket is spent")
        try await eventually("a token is back", timeout: .seconds(5), every: .milliseconds(300)) {
            try Self.upgradeStatus(cluster, token: cluster.token) == 101
        }
    }

    @Test("an upgraded socket that never says hello is closed after the hello timeout, saying why")
    func helloTimeout() async throws {
        let cluster = try TestCluster()
        try await cluster.startManager()
        let started = ContinuousClock.now
        let frames = try await GatewayGarbageTests.exchange(cluster, token: cluster.token, frames: [], listen: .seconds(20))
        let waited = ContinuousClock.now - started
        #expect(GatewayGarbageTests.types(frames) == ["error"], "\(frames)")
        #expect(frames.first?.contains("hello_timeout") == true)
        #expect(waited < .seconds(19), "the manager closed the socket (after \(waited)), not the test")
        #expect(try await cluster.client.nodes().isEmpty)
    }
}
