import DroverCore
import Foundation
import SQLiteNIO

/// Tenants, tenant API tokens and the audit log in SQLite (schema version 3).
extension SQLiteStore {
    // MARK: Tenants

    public func insertTenant(_ tenant: TenantRecord) async throws {
        let inserted = try await run(
            "INSERT INTO tenants (name, data) VALUES (?, ?) ON CONFLICT(name) DO NOTHING RETURNING name",
            [.text(tenant.name), .text(try Self.encode(tenant))]
        )
        guard !inserted.isEmpty else { throw StoreError.duplicate(tenant.name) }
    }

    public func tenant(name: String) async throws -> TenantRecord? {
        try await decodeRecords(TenantRecord.self, "SELECT name AS id, data FROM tenants WHERE name = ?", [.text(name)]).first
    }

    public func tenants() async throws -> [TenantRecord] {
        try await decodeRecords(TenantRecord.self, "SELECT name AS id, data FROM tenants ORDER BY name", [])
    }

    // MARK: API tokens

    public func insertAPIToken(_ token: APITokenRecord) async throws {
        let inserted = try await run(
            """
            INSERT INTO api_tokens (id, tenant, secret_hash, created_at, data) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT DO NOTHING RETURNING id
            """,
            [.text(token.id), .text(token.tenant), .text(token.secretHash), .float(token.createdAt.timeIntervalSince1970), .text(try Self.encode(token))]
        )
        guard !inserted.isEmpty else { throw StoreError.duplicate(token.id) }
    }

    public func apiToken(secretHash: String) async throws -> APITokenRecord? {
        try await decodeRecords(APITokenRecord.self, "SELECT id, data FROM api_tokens WHERE secret_hash = ?", [.text(secretHash)]).first
    }

    public func apiTokens(tenant: String) async throws -> [APITokenRecord] {
        try await decodeRecords(APITokenRecord.self, "SELECT id, data FROM api_tokens WHERE tenant = ? ORDER BY created_at, id", [.text(tenant)])
    }

    @discardableResult public func revokeAPIToken(id: String, tenant: String, at: Date) async throws -> Bool {
        guard var token = try await decodeRecords(
            APITokenRecord.self, "SELECT id, data FROM api_tokens WHERE id = ? AND tenant = ?", [.text(id), .text(tenant)]
        ).first else { return false }
        guard token.revokedAt == nil else { return true }
        token.revokedAt = at
        _ = try await run("UPDATE api_tokens SET data = ? WHERE id = ?", [.text(try Self.encode(token)), .text(id)])
        return true
    }

    public func consumeJoinToken(id: String, nodeID: String, at: Date) async throws -> Bool {
        guard var token = try await decodeRecords(APITokenRecord.self, "SELECT id, data FROM api_tokens WHERE id = ?", [.text(id)]).first,
              token.kind == .join, token.usedAt == nil, token.revokedAt == nil
        else { return false }
        token.usedAt = at
        token.nodeID = nodeID
        // Compare-and-set on the stored JSON: only the caller that still sees it unused writes.
        let updated = try await run(
            """
            UPDATE api_tokens SET data = ? WHERE id = ? AND json_extract(data, '$.used_at') IS NULL
                AND json_extract(data, '$.revoked_at') IS NULL RETURNING id
            """,
            [.text(try Self.encode(token)), .text(id)]
        )
        return !updated.isEmpty
    }

    // MARK: Audit

    @discardableResult public func appendAudit(_ entries: [AuditEntry]) async throws -> [AuditEntry] {
        guard !entries.isEmpty else { return [] }
        // One statement for the batch; json_each gives the rows in order, so the numbers follow it.
        var rows = JSONTextWriter(capacity: entries.count * 256)
        rows.raw("[")
        for (index, entry) in entries.enumerated() {
            rows.raw(index == 0 ? "[" : ",[")
            try rows.double(entry.at.timeIntervalSince1970)
            rows.raw(",")
            rows.string(try Self.encode(entry))
            rows.raw("]")
        }
        rows.raw("]")
        let stored = try await run(
            "INSERT INTO audit (at, data) SELECT value ->> 0, value ->> 1 FROM json_each(?) WHERE true ORDER BY key RETURNING sequence",
            [.text(rows.text)]
        )
        let sequences = stored.compactMap { $0.column("sequence")?.integer.map { Int($0) } }.sorted()
        // Written but not all numbered back: not an outage (the batch must not be written again).
        guard sequences.count == entries.count else { throw StoreError.corrupt("\(entries.count) audit entries written, \(sequences.count) numbered") }
        return zip(entries, sequences).map { entry, sequence in
            var numbered = entry
            numbered.sequence = sequence
            return numbered
        }
    }

    public func audit(after: Int, limit: Int) async throws -> [AuditEntry] {
        let rows = try await run(
            "SELECT sequence, data FROM audit WHERE sequence > ? ORDER BY sequence LIMIT ?", [.integer(after), .integer(max(0, limit))]
        )
        let decoder = JSONCoding.decoder()
        return try rows.map { row in
            let sequence = row.column("sequence")?.integer.map { Int($0) } ?? 0
            guard let text = row.column("data")?.string, var entry = try? decoder.decode(AuditEntry.self, from: Data(text.utf8)) else {
                throw StoreError.corrupt("audit entry \(sequence) could not be read")
            }
            entry.sequence = sequence
            return entry
        }
    }
}
