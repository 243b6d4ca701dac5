import DroverClient
import DroverCore
import DroverTestSupport
import Foundation
import Testing

/// A manager started with `--jwt-es256-key`: logins give ES256 tokens that work, and an HS256
/// token signed with the cluster's (unused) HMAC secret does not.
@Suite("ES256 JWTs", .serialized, .timeLimit(.minutes(2)))
struct ES256LoginTests {
    @Test("login with an ES256 key: the token is ES256 and works; HS256 tokens are refused")
    func es256() async throws {
        let cluster = try TestCluster()
        let keyPath = cluster.directory.appendingPathComponent("jwt-es256.pem").path
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        openssl.arguments = ["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", keyPath]
        try openssl.run()
        openssl.waitUntilExit()
        try #require(openssl.terminationStatus == 0)
        cluster.managerArguments = ["--jwt-es256-key", keyPath]
        try await cluster.startManager()

        let login = try await cluster.client(token: nil).login(username: "admin", password: cluster.adminPassword)
        let header = try #require(login.token.split(separator: ".").first.flatMap { Data(base64Encoded: Self.padded(String($0))) })
        #expect(String(decoding: header, as: UTF8.self).contains("ES256"))
        #expect(try await cluster.client(token: login.token).nodes().isEmpty)

        let hs256 = try TestJWT.make(claims: TestJWT.claims(sub: "admin", role: "admin"), secret: cluster.jwtSecret)
        let refused = try await cluster.client(token: hs256).raw(method: "GET", path: "/api/v1/cluster/agents")
        #expect(refused.status == 401)

        // A key file that is not a key stops the manager with a clear message.
        try "not a key".write(toFile: keyPath, atomically: true, encoding: .utf8)
        await cluster.killManager()
        do {
            try await cluster.startManager()
            Issue.record("the manager started with a broken ES256 key")
        } catch {
            #expect("\(error)".contains("not a P-256 private key in PEM"), "\(error)")
        }
    }

    static func padded(_ text: String) -> String {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while !base64.count.isMultiple(of: 4) { base64 += "=" }
        return base64
    }
}
