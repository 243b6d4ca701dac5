import DroverClient
import DroverCore
import DroverTestSupport
import Foundation
import Testing

/// Credentials an attacker might try against a real manager: each is refused with the same
/// 401 JSON body, and nothing changes.
@Suite("Auth attacks", .serialized, .timeLimit(.minutes(2)))
struct AuthAttackTests {
    static func errorCode(_ body: Data) -> String? {
        (try? JSONCoding.decoder().decode(APIErrorBody.self, from: body))?.error.code
    }

    @Test("no token, garbage, expired, other-secret, alg none, tampered: 401 on reads and writes; nothing stored")
    func refusedCredentials() async throws {
        let cluster = try TestCluster()
        try await cluster.startManager()
        let admin = TestJWT.claims(sub: "admin", role: "admin")
        let attacks: [(String, String?)] = [
            ("no token", nil),
            ("garbage token", "garbage-garbage-garbage"),
            ("garbage JWT", "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl"),
            ("expired JWT", try TestJWT.make(claims: TestJWT.claims(sub: "admin", role: "admin", expiresIn: -60), secret: cluster.jwtSecret)),
            ("JWT signed with another secret", try TestJWT.make(claims: admin, secret: "another-secret-another-secret-another")),
            ("alg none", try TestJWT.make(header: ["alg": "none", "typ": "JWT"], claims: admin, secret: "", signature: "")),
            ("alg none with a signature", try TestJWT.make(header: ["alg": "none"], claims: admin, secret: cluster.jwtSecret)),
            ("wrong audience", try TestJWT.make(claims: admin.merging(["aud": "someone-else"]) { $1 }, secret: cluster.jwtSecret)),
            ("wrong issuer", try TestJWT.make(claims: admin.merging(["iss": "evil"]) { $1 }, secret: cluster.jwtSecret)),
            ("unknown tenant in JWT", try TestJWT.make(claims: TestJWT.claims(sub: "x", role: "tenant", tenant: "ghost"), secret: cluster.jwtSecret)),
            ("unknown API token", "drt_" + String(repeating: "0", count: 64)),
            ("admin token plus a byte", cluster.token + "x"),
        ]
        let deploy = try JSONCoding.encoder().encode(DeployRequest(agentType: "echo"))
        for (name, token) in attacks {
            let client = cluster.client(token: token)
            for (method, path, body) in [
                ("GET", "/api/v1/cluster/agents", nil), ("POST", "/api/v1/cluster/agents/deploy", deploy),
                ("POST", "/api/v1/tenants", Data(#"{"name":"evil"}"#.utf8)), ("GET", "/api/v1/audit", nil), ("GET", "/metrics", nil),
                ("GET", "/api/v1/no/such/route", nil),
            ] as [(String, String, Data?)] {
                let response = try await client.rawResponse(method: method, path: path, body: body)
                #expect(response.status == 401, "\(name): \(method) \(path) answered \(response.status)")
                #expect(Self.errorCode(response.body) == "unauthorized", "\(name): \(String(decoding: response.body, as: UTF8.self))")
                #expect(response.headers["www-authenticate"] == "Bearer")
            }
        }
        // Nothing was changed by any of it.
        #expect(try await cluster.client.agents().isEmpty)
        #expect(try await cluster.client.tenants().isEmpty)
        #expect(try await cluster.client.audit().isEmpty, "refused calls never reach the audit log")
        #expect(try await cluster.client(token: nil).health().status == "ok", "/health stays public")
    }

    @Test("login: a wrong password is 401, the right one gives a JWT that works until it is tampered with")
    func login() async throws {
        let cluster = try TestCluster()
        try await cluster.startManager()
        let anonymous = cluster.client(token: nil)
        for (username, password) in [("admin", "wrong-password"), ("root", cluster.adminPassword), ("admin", "")] {
            let body = try JSONCoding.encoder().encode(LoginRequest(username: username, password: password))
            let response = try await anonymous.raw(method: "POST", path: "/api/v1/auth/token", body: body)
            #expect(response.status == 401)
            #expect(Self.errorCode(response.body) == "invalid_credentials")
        }
        let malformed = try await anonymous.raw(method: "POST", path: "/api/v1/auth/token", body: Data(#"{"username": 5}"#.utf8))
        #expect(malformed.status == 400)

        let login = try await anonymous.login(username: "admin", password: cluster.adminPassword)
        #expect(login.expiresAt > Date().addingTimeInterval(60))
        #expect(login.token.split(separator: ".").count == 3)
        let withJWT = cluster.client(token: login.token)
        #expect(try await withJWT.agents().isEmpty)
        #expect(try await withJWT.createTenant("made-with-jwt").name == "made-with-jwt")

        var tampered = Array(login.token)
        let index = tampered.count - 5
        tampered[index] = tampered[index] == "A" ? "B" : "A"
        #expect(try await cluster.client(token: String(tampered)).raw(method: "GET", path: "/api/v1/cluster/agents").status == 401)

        // The login attempts themselves are audited (without a principal), and the JWT's write under admin.
        let audit = try await cluster.client.audit()
        #expect(audit.filter { $0.action == "POST /api/v1/auth/token" && $0.status == 401 && $0.principal == nil }.count == 3)
        #expect(audit.contains { $0.action == "POST /api/v1/tenants" && $0.status == 201 && $0.principal?.role == .admin })
    }

    @Test("rate limit: past the burst a credential gets 429 with Retry-After and a JSON error; others are not affected")
    func rateLimit() async throws {
        let cluster = try TestCluster()
        cluster.managerArguments = ["--rate-limit", "0.5", "--rate-burst", "5"]
        try await cluster.startManager()
        let tenant = try await cluster.client.createTenant("acme")
        var statuses: [Int] = []
        var limited: (status: Int, headers: [String: String], body: Data)?
        for _ in 0..<8 {
            let response = try await cluster.client.rawResponse(method: "GET", path: "/api/v1/cluster/agents")
            statuses.append(response.status)
            if response.status == 429 { limited = response }
        }
        // One call was spent creating the tenant: 4 more pass, then 429.
        #expect(statuses == [200, 200, 200, 200, 429, 429, 429, 429], "\(statuses)")
        let response = try #require(limited)
        #expect(Int(response.headers["retry-after"] ?? "") ?? 0 >= 1)
        #expect(Self.errorCode(response.body) == "rate_limited")

        // A different credential has its own bucket.
        let token = try await DroverClient(baseURL: cluster.managerURL, token: cluster.token).rawResponse(method: "GET", path: "/health")
        #expect(token.status == 200, "/health is keyed by address, not by the spent token")
        let jwt = try TestJWT.make(claims: TestJWT.claims(sub: "other-admin", role: "admin"), secret: cluster.jwtSecret)
        #expect(try await cluster.client(token: jwt).raw(method: "GET", path: "/api/v1/cluster/agents").status == 200)
        #expect(try await cluster.client(token: jwt).raw(method: "GET", path: "/api/v1/tenants").status == 200)
        _ = tenant

        // Guessing credentials spends the address's bucket: 401s, then 429s.
        var guesses: [Int] = []
        for attempt in 0..<8 {
            guesses.append(try await cluster.client(token: "guess-\(attempt)").raw(method: "GET", path: "/api/v1/cluster/agents").status)
        }
        let firstLimited = try #require(guesses.firstIndex(of: 429), "\(guesses)")
        #expect(firstLimited >= 3, "\(guesses)")
        #expect(guesses[..<firstLimited].allSatisfy { $0 == 401 } && guesses[firstLimited...].allSatisfy { $0 == 429 }, "\(guesses)")
    }
}
