import DroverCore
import Foundation
import SQLiteNIO

/// Workflow definitions, runs and run histories in SQLite.
extension SQLiteStore {
    public func insertWorkflow(_ workflow: WorkflowRecord) async throws {
        let inserted = try await query(
            """
            INSERT INTO workflows (name, version, tenant, created_at, data) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT(tenant, name, version) DO NOTHING RETURNING name
            """,
            [
                .text(workflow.name), .integer(workflow.version), .text(workflow.tenant),
                .float(workflow.createdAt.timeIntervalSince1970), .text(try Self.encode(workflow)),
            ]
        )
        guard !inserted.isEmpty else { throw StoreError.duplicate("\(workflow.name) v\(workflow.version)") }
    }

    public func workflow(tenant: String, name: String, version: Int?) async throws -> WorkflowRecord? {
        if let version {
            return try await decodeRows(
                WorkflowRecord.self, "SELECT name AS id, data FROM workflows WHERE tenant = ? AND name = ? AND version = ?",
                [.text(tenant), .text(name), .integer(version)]
            ).first
        }
        return try await decodeRows(
            WorkflowRecord.self, "SELECT name AS id, data FROM workflows WHERE tenant = ? AND name = ? ORDER BY version DESC LIMIT 1",
            [.text(tenant), .text(name)]
        ).first
    }

    public func workflows() async throws -> [WorkflowRecord] {
        try await decodeRows(
            WorkflowRecord.self,
            """
            SELECT w.name AS id, w.data FROM workflows w
            JOIN (SELECT tenant, name, MAX(version) AS version FROM workflows GROUP BY tenant, name) newest
              ON newest.tenant = w.tenant AND newest.name = w.name AND newest.version = w.version
            ORDER BY w.name, w.tenant
            """,
            []
        )
    }

    public func insertRun(_ run: WorkflowRunRecord) async throws {
        let inserted = try await query(
            """
            INSERT INTO workflow_runs (id, workflow, tenant, status, created_at, data) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT(tenant, id) DO NOTHING RETURNING id
            """,
            [
                .text(run.id), .text(run.workflow), .text(run.tenant), .text(run.status.rawValue),
                .float(run.createdAt.timeIntervalSince1970), .text(try Self.encode(run)),
            ]
        )
        guard !inserted.isEmpty else { throw StoreError.duplicate(run.id) }
    }

    public func updateRun(_ run: WorkflowRunRecord) async throws {
        _ = try await query(
            "UPDATE workflow_runs SET status = ?, data = ? WHERE tenant = ? AND id = ?",
            [.text(run.status.rawValue), .text(try Self.encode(run)), .text(run.tenant), .text(run.id)]
        )
    }

    public func run(tenant: String, id: String) async throws -> WorkflowRunRecord? {
        try await decodeRows(WorkflowRunRecord.self, "SELECT id, data FROM workflow_runs WHERE tenant = ? AND id = ?", [.text(tenant), .text(id)]).first
    }

    public func runs(id: String) async throws -> [WorkflowRunRecord] {
        try await decodeRows(WorkflowRunRecord.self, "SELECT id, data FROM workflow_runs WHERE id = ? ORDER BY tenant", [.text(id)])
    }

    public func runStatus(tenant: String, id: String) async throws -> WorkflowRunStatus? {
        try await query("SELECT status FROM workflow_runs WHERE tenant = ? AND id = ?", [.text(tenant), .text(id)]).first?.column("status")?.string
            .flatMap(WorkflowRunStatus.init(rawValue:))
    }

    public func runs(_ filter: WorkflowRunFilter) async throws -> [WorkflowRunRecord] {
        var conditions: [String] = []
        var binds: [SQLiteData] = []
        if let workflow = filter.workflow {
            conditions.append("workflow = ?")
            binds.append(.text(workflow))
        }
        if let status = filter.status {
            conditions.append("status = ?")
            binds.append(.text(status.rawValue))
        }
        if let tenant = filter.tenant {
            conditions.append("tenant = ?")
            binds.append(.text(tenant))
        }
        if let before = filter.before {
            // The cursor is the filter's tenant's run; without a tenant, the first by tenant with that id.
            conditions.append("(created_at, id) < (SELECT created_at, id FROM workflow_runs WHERE id = ? AND (? IS NULL OR tenant = ?) ORDER BY tenant LIMIT 1)")
            binds += [.text(before), filter.tenant.map(SQLiteData.text) ?? .null, filter.tenant.map(SQLiteData.text) ?? .null]
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        binds.append(.integer(max(0, filter.limit)))
        return try await decodeRows(
            WorkflowRunRecord.self, "SELECT id, data FROM workflow_runs \(whereClause) ORDER BY created_at DESC, id DESC LIMIT ?", binds
        )
    }

    public func openRuns() async throws -> [WorkflowRunRecord] {
        try await decodeRows(WorkflowRunRecord.self, "SELECT id, data FROM workflow_runs WHERE status = 'running' ORDER BY created_at, id, tenant", [])
    }

    public func appendHistory(tenant: String, runID: String, _ events: [WorkflowEvent]) async throws {
        guard !events.isEmpty else { return }
        // A multi-row INSERT is atomic on its own. Chunks keep the bind count under SQLite's
        // limit; a batch that spans chunks is written chunk by chunk, each whole or not at all
        // (the engine reloads a run from its stored history when an append fails).
        let chunkSize = 5_000
        for start in stride(from: 0, to: events.count, by: chunkSize) {
            try await insertHistoryRows(tenant: tenant, runID: runID, Array(events[start..<min(start + chunkSize, events.count)]))
        }
    }

    private func insertHistoryRows(tenant: String, runID: String, _ events: [WorkflowEvent]) async throws {
        var binds: [SQLiteData] = []
        binds.reserveCapacity(events.count * 5)
        for event in events {
            binds.append(.text(tenant))
            binds.append(.text(runID))
            binds.append(.integer(event.sequence))
            binds.append(.text(event.kind.rawValue))
            binds.append(.text(try Self.encode(event)))
        }
        let values = Array(repeating: "(?, ?, ?, ?, ?)", count: events.count).joined(separator: ", ")
        do {
            _ = try await query("INSERT INTO workflow_history (tenant, run_id, sequence, kind, data) VALUES \(values)", binds)
        } catch let error as SQLiteError where error.reason == .constraint || error.reason == .constraintPrimaryKeyFailed {
            throw StoreError.duplicate("history of \(runID) from sequence \(events.first?.sequence ?? 0)")
        }
    }

    public func history(tenant: String, runID: String, after: Int, limit: Int) async throws -> [WorkflowEvent] {
        try await decodeRows(
            WorkflowEvent.self,
            "SELECT sequence AS id, data FROM workflow_history WHERE tenant = ? AND run_id = ? AND sequence > ? ORDER BY sequence LIMIT ?",
            [.text(tenant), .text(runID), .integer(after), .integer(max(0, limit))]
        )
    }
}
