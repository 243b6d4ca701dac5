import DroverCore
import DroverStore
import DroverTestSupport
import Foundation
import JWTKit
import Testing
@testable import DroverManager

@Suite("Credentials")
struct CredentialTests {
    static let secret = String(repeating: "s", count: 40)

    @Test("password hashes verify the password and nothing else, and survive their stored form")
    func passwordHash() throws {
        let hash = try PasswordHash.make("correct horse", rounds: 1_000)
        #expect(hash.matches("correct horse"))
        #expect(!hash.matches("correct hors"))
        #expect(!hash.matches(""))
        let decoded = try #require(PasswordHash(encoded: hash.encoded))
        #expect(decoded == hash)
        #expect(decoded.matches("correct horse"))
        #expect(try PasswordHash.make("correct horse", rounds: 1_000) != hash, "each hash has its own salt")
        for bad in ["", "pbkdf2-sha256$x$00$00", "md5$1$00$00", "pbkdf2-sha256$10$zz$00", "pbkdf2-sha256$10$00$"] {
            #expect(PasswordHash(encoded: bad) == nil, "\(bad)")
        }
    }

    @Test("hex and SHA-256 hex: lowercase, two digits a byte, the standard digest")
    func hexDigits() {
        #expect(Secrets.hex([0x00, 0x0f, 0xa5, 0xff, 0x10]) == "000fa5ff10")
        #expect(Secrets.hex([]) == "")
        #expect(Secrets.sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Secrets.bytes(fromHex: Secrets.hex([1, 2, 254])) == [1, 2, 254])
    }

    @Test("bearer headers: scheme is case-insensitive, empty and oversized credentials are refused")
    func bearer() {
        #expect(Authenticator.bearerToken("Bearer abc") == "abc")
        #expect(Authenticator.bearerToken("bearer abc") == "abc")
        #expect(Authenticator.bearerToken("Basic abc") == nil)
        #expect(Authenticator.bearerToken("Bearer ") == nil)
        #expect(Authenticator.bearerToken(nil) == nil)
        #expect(Authenticator.bearerToken("Bearer " + String(repeating: "a", count: 5_000)) == nil)
    }

    @Test("JWTs: our own verify; alg none, other secrets, expired, wrong issuer or audience do not")
    func jwt() async throws {
        let service = await JWTService(secret: Self.secret, lifetime: 60)
        let principal = Principal(role: .tenant, tenant: "acme", subject: "ci")
        let (token, expiresAt) = try await service.issue(for: principal)
        #expect(expiresAt > Date())
        #expect(JWTService.headerAlgorithm(of: token) == "HS256")
        let payload = try #require(JWTService.base64URLDecode(String(token.split(separator: ".")[1])))
        let text = String(decoding: payload, as: UTF8.self)
        #expect(!text.contains("."), "exp and iat are whole seconds: \(text)")
        let claims = try #require(try JSONSerialization.jsonObject(with: payload) as? [String: Any])
        #expect(claims["iss"] as? String == "drover" && claims["role"] as? String == "tenant" && claims["tenant"] as? String == "acme")
        #expect(await service.verify(token)?.principal == principal)

        let good = TestJWT.claims(sub: "admin", role: "admin")
        #expect(await service.verify(try TestJWT.make(claims: good, secret: Self.secret))?.principal == .admin)
        let attacks: [String: String] = [
            "other secret": try TestJWT.make(claims: good, secret: String(repeating: "x", count: 40)),
            "alg none": try TestJWT.make(header: ["alg": "none", "typ": "JWT"], claims: good, secret: "", signature: ""),
            "alg none signed": try TestJWT.make(header: ["alg": "none"], claims: good, secret: Self.secret),
            "HS512 header": try TestJWT.make(header: ["alg": "HS512"], claims: good, secret: Self.secret),
            "expired": try TestJWT.make(claims: TestJWT.claims(sub: "admin", role: "admin", expiresIn: -10), secret: Self.secret),
            "wrong issuer": try TestJWT.make(claims: good.merging(["iss": "evil"]) { $1 }, secret: Self.secret),
            "wrong audience": try TestJWT.make(claims: good.merging(["aud": "other-api"]) { $1 }, secret: Self.secret),
            "no exp": try TestJWT.make(claims: good.filter { $0.key != "exp" }, secret: Self.secret),
            "unknown role": try TestJWT.make(claims: TestJWT.claims(sub: "x", role: "root"), secret: Self.secret),
            "garbage": "a.b.c",
            "tampered": String(token.dropLast(2)) + (token.hasSuffix("AA") ? "BB" : "AA"),
        ]
        for (name, attack) in attacks {
            #expect(await service.verify(attack) == nil, "\(name) was accepted")
        }
    }

    @Test("ES256: its own tokens verify; HS256 (even signed with the public key), other keys and alg none do not")
    func es256() async throws {
        let key = ES256PrivateKey()
        let service = try await JWTService(es256PrivateKeyPEM: key.pemRepresentation, lifetime: 60)
        let principal = Principal(role: .tenant, tenant: "acme", subject: "ci")
        let (token, _) = try await service.issue(for: principal)
        #expect(JWTService.headerAlgorithm(of: token) == "ES256")
        #expect(await service.verify(token)?.principal == principal)

        let other = try await JWTService(es256PrivateKeyPEM: ES256PrivateKey().pemRepresentation, lifetime: 60)
        let (foreign, _) = try await other.issue(for: .admin)
        let good = TestJWT.claims(sub: "admin", role: "admin")
        let publicPEM = key.publicKey.pemRepresentation
        let attacks: [String: String] = [
            "another key": foreign,
            "HS256 with the public key as secret": try TestJWT.make(claims: good, secret: publicPEM),
            "HS256": try TestJWT.make(claims: good, secret: Self.secret),
            "alg none": try TestJWT.make(header: ["alg": "none", "typ": "JWT"], claims: good, secret: "", signature: ""),
            "tampered": String(token.dropLast(2)) + (token.hasSuffix("AA") ? "BB" : "AA"),
        ]
        for (name, attack) in attacks {
            #expect(await service.verify(attack) == nil, "\(name) was accepted")
        }
        await #expect(throws: (any Error).self) { _ = try await JWTService(es256PrivateKeyPEM: "not a key", lifetime: 60) }
    }

    @Test("the authenticator accepts the admin token, live tenant tokens and valid JWTs, and nothing else")
    func authenticator() async throws {
        let store = InMemoryStore()
        let service = await JWTService(secret: Self.secret, lifetime: 60)
        let authenticator = Authenticator(adminToken: "admin-token-0123456789", jwt: service, store: store)
        #expect(try await authenticator.principal(authorization: "Bearer admin-token-0123456789") == .admin)
        #expect(try await authenticator.principal(authorization: "Bearer admin-token-012345678") == nil)

        try await store.insertTenant(TenantRecord(name: "acme", createdAt: Date()))
        let secret = Authenticator.makeAPITokenSecret()
        try await store.insertAPIToken(APITokenRecord(id: "tok-1", tenant: "acme", name: "ci", secretHash: Secrets.sha256Hex(secret), createdAt: Date()))
        #expect(try await authenticator.principal(token: secret) == Principal(role: .tenant, tenant: "acme", subject: "token:tok-1", credential: "tok-1"))
        #expect(try await authenticator.principal(token: secret + "0") == nil)
        try await store.revokeAPIToken(id: "tok-1", tenant: "acme", at: Date())
        #expect(try await authenticator.principal(token: secret) == nil)

        let expiring = Authenticator.makeAPITokenSecret()
        try await store.insertAPIToken(APITokenRecord(
            id: "tok-2", tenant: "acme", name: "ci", secretHash: Secrets.sha256Hex(expiring), createdAt: Date(), expiresAt: Date().addingTimeInterval(-1)
        ))
        #expect(try await authenticator.principal(token: expiring) == nil)

        let tenantJWT = try TestJWT.make(claims: TestJWT.claims(sub: "u", role: "tenant", tenant: "acme"), secret: Self.secret)
        #expect(try await authenticator.principal(token: tenantJWT) == Principal(role: .tenant, tenant: "acme", subject: "u"))
        let ghostJWT = try TestJWT.make(claims: TestJWT.claims(sub: "u", role: "tenant", tenant: "ghost"), secret: Self.secret)
        #expect(try await authenticator.principal(token: ghostJWT) == nil)
        let tenantlessJWT = try TestJWT.make(claims: TestJWT.claims(sub: "u", role: "tenant"), secret: Self.secret)
        #expect(try await authenticator.principal(token: tenantlessJWT) == nil)
    }
}

@Suite("Join credentials")
struct JoinCredentialTests {
    @Test("join tokens open only the gateway, once; node credentials map to their node")
    func joinAndNode() async throws {
        let store = InMemoryStore()
        let authenticator = Authenticator(adminToken: "admin-token-0123456789", jwt: await JWTService(secret: CredentialTests.secret, lifetime: 60), store: store)
        try await store.insertTenant(TenantRecord(name: "acme", createdAt: Date()))
        let join = Authenticator.makeJoinTokenSecret()
        try await store.insertAPIToken(APITokenRecord(
            id: "jtk-1", tenant: "acme", name: "join", secretHash: Secrets.sha256Hex(join), createdAt: Date(), kind: .join
        ))
        #expect(try await authenticator.principal(token: join) == nil, "a join token is no API principal")
        guard case .join(let record) = try await authenticator.gatewayCredential(authorization: "Bearer \(join)") else {
            Issue.record("the gateway did not take the join token")
            return
        }
        #expect(record.id == "jtk-1")
        #expect(try await store.consumeJoinToken(id: "jtk-1", nodeID: "n1", at: Date()))
        #expect(try await !store.consumeJoinToken(id: "jtk-1", nodeID: "n2", at: Date()), "a join token works once")
        #expect(try await authenticator.gatewayCredential(authorization: "Bearer \(join)") == nil)

        let node = Authenticator.makeNodeCredentialSecret()
        try await store.insertAPIToken(APITokenRecord(
            id: "crd-1", tenant: "acme", name: "node-n1", secretHash: Secrets.sha256Hex(node), createdAt: Date(), kind: .node, nodeID: "n1"
        ))
        #expect(try await authenticator.principal(token: node) == Principal(role: .node, tenant: "acme", subject: "n1", credential: "crd-1"))
    }
}
