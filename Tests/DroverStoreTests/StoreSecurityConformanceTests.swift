import DroverCore
import Foundation
import Testing
@testable import DroverStore

/// Tenants, API tokens and the audit log: every backend behaves the same.
@Suite("Store security records")
struct StoreSecurityConformanceTests {
    @Test("tenants: insert once, read, list by name", arguments: Backend.allCases)
    func tenants(backend: Backend) async throws {
        try await backend.withStore { store in
            try await store.insertTenant(TenantRecord(name: "beta", createdAt: Fixtures.epoch))
            try await store.insertTenant(TenantRecord(name: "alpha", createdAt: Fixtures.epoch))
            await #expect(throws: StoreError.duplicate("alpha")) {
                try await store.insertTenant(TenantRecord(name: "alpha", createdAt: Fixtures.epoch))
            }
            #expect(try await store.tenants().map(\.name) == ["alpha", "beta"])
            #expect(try await store.tenant(name: "beta") == TenantRecord(name: "beta", createdAt: Fixtures.epoch))
            #expect(try await store.tenant(name: "gamma") == nil)
        }
    }

    @Test("API tokens: found by hash, listed per tenant, revoked only within their tenant", arguments: Backend.allCases)
    func apiTokens(backend: Backend) async throws {
        try await backend.withStore { store in
            let one = APITokenRecord(id: "tok-1", tenant: "alpha", name: "ci", secretHash: "h1", createdAt: Fixtures.epoch)
            let two = APITokenRecord(id: "tok-2", tenant: "alpha", name: "cd", secretHash: "h2", createdAt: Fixtures.epoch.addingTimeInterval(1))
            let other = APITokenRecord(id: "tok-3", tenant: "beta", name: "x", secretHash: "h3", createdAt: Fixtures.epoch)
            for token in [one, two, other] { try await store.insertAPIToken(token) }
            await #expect(throws: StoreError.self) {
                try await store.insertAPIToken(APITokenRecord(id: "tok-4", tenant: "beta", name: "dup", secretHash: "h1", createdAt: Fixtures.epoch))
            }
            #expect(try await store.apiToken(secretHash: "h2") == two)
            #expect(try await store.apiToken(secretHash: "nope") == nil)
            #expect(try await store.apiTokens(tenant: "alpha").map(\.id) == ["tok-1", "tok-2"])
            #expect(try await !store.revokeAPIToken(id: "tok-3", tenant: "alpha", at: Fixtures.epoch))
            #expect(try await store.apiToken(secretHash: "h3")?.revokedAt == nil)
            let revokedAt = Fixtures.epoch.addingTimeInterval(60)
            #expect(try await store.revokeAPIToken(id: "tok-1", tenant: "alpha", at: revokedAt))
            #expect(try await store.revokeAPIToken(id: "tok-1", tenant: "alpha", at: revokedAt.addingTimeInterval(60)))
            #expect(try await store.apiToken(secretHash: "h1")?.revokedAt == revokedAt)
            #expect(try await store.apiToken(secretHash: "h1")?.isValid(at: revokedAt) == false)
            #expect(try await !store.revokeAPIToken(id: "missing", tenant: "alpha", at: revokedAt))
        }
    }

    @Test("a join token is used once: of two nodes only the first gets it, and never after revocation", arguments: Backend.allCases)
    func joinTokens(backend: Backend) async throws {
        try await backend.withStore { store in
            let join = APITokenRecord(id: "jtk-1", tenant: "acme", name: "j", secretHash: "hj", createdAt: Fixtures.epoch, kind: .join)
            let api = APITokenRecord(id: "tok-1", tenant: "acme", name: "a", secretHash: "ha", createdAt: Fixtures.epoch)
            let revoked = APITokenRecord(id: "jtk-2", tenant: "acme", name: "j", secretHash: "hr", createdAt: Fixtures.epoch, kind: .join)
            for token in [join, api, revoked] { try await store.insertAPIToken(token) }
            try await store.revokeAPIToken(id: "jtk-2", tenant: "acme", at: Fixtures.epoch)
            let usedAt = Fixtures.epoch.addingTimeInterval(5)
            #expect(try await store.consumeJoinToken(id: "jtk-1", nodeID: "n1", at: usedAt))
            #expect(try await !store.consumeJoinToken(id: "jtk-1", nodeID: "n2", at: usedAt))
            #expect(try await !store.consumeJoinToken(id: "jtk-2", nodeID: "n1", at: usedAt))
            #expect(try await !store.consumeJoinToken(id: "tok-1", nodeID: "n1", at: usedAt))
            #expect(try await !store.consumeJoinToken(id: "missing", nodeID: "n1", at: usedAt))
            let used = try #require(try await store.apiToken(secretHash: "hj"))
            #expect(used.usedAt == usedAt && used.nodeID == "n1" && used.kind == .join)
            #expect(!used.isValid(at: usedAt))
            #expect(try await store.apiToken(secretHash: "ha")?.kind == .api)
        }
    }

    @Test("audit entries are numbered in order and paged after a sequence", arguments: Backend.allCases)
    func audit(backend: Backend) async throws {
        try await backend.withStore { store in
            let first = try await store.appendAudit(AuditEntry(at: Fixtures.epoch, principal: .admin, method: "POST", path: "/api/v1/tenants", status: 201))
            let second = try await store.appendAudit(AuditEntry(
                at: Fixtures.epoch, principal: Principal(role: .tenant, tenant: "alpha", subject: "tok-1"),
                method: "DELETE", path: "/api/v1/cluster/agents/a1", status: 404
            ))
            #expect(first.sequence >= 1)
            #expect(second.sequence > first.sequence)
            #expect(try await store.audit(after: 0, limit: 10) == [first, second])
            #expect(try await store.audit(after: first.sequence, limit: 10) == [second])
            #expect(try await store.audit(after: 0, limit: 1) == [first])
            // A batch is stored in one write, numbered in its order, after what came before.
            let paths = (0..<50).map { "/api/v1/cluster/agents/a\($0)" }
            let batch = try await store.appendAudit(paths.map { AuditEntry(at: Fixtures.epoch, principal: .admin, method: "DELETE", path: $0, status: 202) })
            #expect(batch.map(\.path) == paths)
            #expect(batch.map(\.sequence) == batch.map(\.sequence).sorted() && batch[0].sequence > second.sequence)
            #expect(try await store.audit(after: second.sequence, limit: 100) == batch)
            #expect(try await store.appendAudit([]).isEmpty)
        }
    }
}
