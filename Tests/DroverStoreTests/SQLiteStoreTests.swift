import DroverCore
import Foundation
import Testing
@testable import DroverStore

/// What only the SQLite backend promises: a durable file, WAL, migrations, and no crash on bad rows.
@Suite("SQLite store")
struct SQLiteStoreTests {
    @Test("data survives closing and reopening the file, in WAL mode")
    func durability() async throws {
        try await TemporaryFolder.with { folder in
            let path = folder.appendingPathComponent("drover.db").path
            let store = try await SQLiteStore.open(path: path, logger: .test)
            #expect(try await store.journalMode() == "wal")
            try await store.upsertNode(Fixtures.node("n1"))
            try await store.upsertAgent(Fixtures.agent("a1"))
            try await store.insertTask(Fixtures.task("t1"))
            try await store.setMetaValue("admin_token", "secret")
            try await store.close()
            #expect(FileManager.default.fileExists(atPath: path))

            let reopened = try await SQLiteStore.open(path: path, logger: .test)
            #expect(try await reopened.journalMode() == "wal")
            #expect(try await reopened.node(id: "n1") == Fixtures.node("n1"))
            #expect(try await reopened.agent(id: "a1") == Fixtures.agent("a1"))
            #expect(try await reopened.task(tenant: "t1", id: "t1") == Fixtures.task("t1"))
            #expect(try await reopened.metaValue("admin_token") == "secret")
            await #expect(throws: StoreError.duplicate("t1")) { try await reopened.insertTask(Fixtures.task("t1")) }
            try await reopened.close()
        }
    }

    @Test("migrations are recorded once and not run again")
    func migrations() async throws {
        try await TemporaryFolder.with { folder in
            let path = folder.appendingPathComponent("drover.db").path
            let expected = SQLiteMigrations.all.map(\.version)
            #expect(expected == Array(1...expected.count), "migration versions are 1, 2, 3, … in order")
            let store = try await SQLiteStore.open(path: path, logger: .test)
            #expect(try await store.schemaVersions() == expected)
            try await store.migrate()
            #expect(try await store.schemaVersions() == expected)
            try await store.close()
            let reopened = try await SQLiteStore.open(path: path, logger: .test)
            #expect(try await reopened.schemaVersions() == expected)
            try await reopened.close()
        }
    }

    @Test("migration 6 keeps every task, workflow, run and history of a version 5 database in its tenant, then ids are per tenant")
    func perTenantMigration() async throws {
        try await TemporaryFolder.with { folder in
            let path = folder.appendingPathComponent("drover.db").path
            // A database as version 5 left it: the four tables with their old, global keys.
            let old = try await SQLiteStore.open(path: path, logger: .test)
            for table in ["tasks", "workflows", "workflow_runs", "workflow_history"] { try await old.execute("DROP TABLE \(table)") }
            for statement in SQLiteMigrations.all.filter({ $0.version == 1 || $0.version == 4 }).flatMap(\.statements)
            where statement.contains("tasks") || statement.contains("workflow") {
                try await old.execute(statement)
            }
            try await old.execute("DELETE FROM schema_migrations WHERE version >= 6")
            func quoted(_ value: some Encodable) throws -> String { "'" + (try SQLiteStore.encode(value)).replacingOccurrences(of: "'", with: "''") + "'" }
            var task = Fixtures.task("t1")
            task.tenant = "acme"
            let workflow = WorkflowRecord(
                name: "etl", version: 1, tenant: "acme", definition: WorkflowDefinition(name: "etl", steps: [StepDefinition(id: "s", type: .task, agentType: "echo")]),
                createdAt: Fixtures.epoch
            )
            let run = WorkflowRunRecord(id: "r1", workflow: "etl", version: 1, tenant: "acme", input: ["n": 1], createdAt: Fixtures.epoch, updatedAt: Fixtures.epoch)
            let event = WorkflowEvent(kind: .runStarted, at: Fixtures.epoch, sequence: 1)
            try await old.execute("INSERT INTO tasks (id, agent_id, status, created_at, data) VALUES ('t1', 'a1', 'queued', 0, \(try quoted(task)))")
            try await old.execute("INSERT INTO workflows (name, version, tenant, created_at, data) VALUES ('etl', 1, 'acme', 0, \(try quoted(workflow)))")
            try await old.execute("INSERT INTO workflow_runs (id, workflow, tenant, status, created_at, data) VALUES ('r1', 'etl', 'acme', 'running', 0, \(try quoted(run)))")
            try await old.execute("INSERT INTO workflow_history (run_id, sequence, kind, data) VALUES ('r1', 1, 'run_started', \(try quoted(event)))")
            #expect(try await old.schemaVersions() == [1, 2, 3, 4, 5])
            try await old.close()

            let store = try await SQLiteStore.open(path: path, logger: .test)
            #expect(try await store.schemaVersions() == SQLiteMigrations.all.map(\.version))
            #expect(try await store.task(tenant: "acme", id: "t1") == Fixtures.persisted(task))
            #expect(try await store.workflow(tenant: "acme", name: "etl", version: nil) == Fixtures.persisted(workflow))
            #expect(try await store.run(tenant: "acme", id: "r1") == Fixtures.persisted(run))
            #expect(try await store.history(tenant: "acme", runID: "r1", after: 0, limit: 10).map(\.kind) == [.runStarted])
            #expect(try await store.openTasks().map(\.id) == ["t1"])
            #expect(try await store.openRuns().map(\.id) == ["r1"])
            let indexes = try await store.firstColumn("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name")
            #expect(Set(["tasks_status", "tasks_agent", "workflow_runs_status", "workflow_runs_workflow"]).isSubset(of: Set(indexes.compactMap { $0 })))
            #expect(try await store.firstColumn("SELECT name FROM sqlite_master WHERE name LIKE '%_v6'").isEmpty)

            // Now another tenant may use the same ids; the first tenant still may not twice.
            var theirs = Fixtures.task("t1")
            theirs.tenant = "globex"
            try await store.insertTask(theirs)
            await #expect(throws: StoreError.duplicate("t1")) { try await store.insertTask(task) }
            var theirRun = run
            theirRun.tenant = "globex"
            try await store.insertRun(theirRun)
            var theirWorkflow = workflow
            theirWorkflow.tenant = "globex"
            try await store.insertWorkflow(theirWorkflow)
            #expect(try await store.tasks(id: "t1").map(\.tenant) == ["acme", "globex"])
            #expect(try await store.runs(id: "r1").map(\.tenant) == ["acme", "globex"])
            try await store.close()
        }
    }

    @Test("a status written in place leaves the document in the encoder's own form (no null error added)")
    func statusInPlaceKeepsTheDocumentsForm() async throws {
        try await TemporaryFolder.with { folder in
            let store = try await SQLiteStore.open(path: folder.appendingPathComponent("drover.db").path, logger: .test)
            try await store.upsertAgent(Fixtures.agent("a1"))
            #expect(try await store.updateAgentStatus(id: "a1", status: .running, restarts: 0, lastError: nil, updatedAt: Fixtures.epoch))
            let stored = try #require(try await store.agent(id: "a1"))
            #expect(try await store.firstColumn("SELECT data FROM agents WHERE id = 'a1'") == [try stored.jsonText()])
            try await store.close()
        }
    }

    @Test("indexed columns follow the stored document")
    func indexedColumns() async throws {
        try await TemporaryFolder.with { folder in
            let store = try await SQLiteStore.open(path: folder.appendingPathComponent("drover.db").path, logger: .test)
            try await store.insertTask(Fixtures.task("t1"))
            #expect(try await store.updateOpenTask(Fixtures.task("t1", status: .timedOut)))
            #expect(try await store.firstColumn("SELECT status FROM tasks WHERE id = 't1'") == ["timed_out"])
            var agent = Fixtures.agent("a1")
            try await store.upsertAgent(agent)
            agent.nodeID = nil
            agent.status = .pending
            try await store.upsertAgent(agent)
            #expect(try await store.firstColumn("SELECT node_id FROM agents WHERE id = 'a1'") == [nil])
            #expect(try await store.firstColumn("SELECT status FROM agents WHERE id = 'a1'") == ["pending"])
            let indexes = try await store.firstColumn("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tasks' ORDER BY name")
            #expect(indexes.contains("tasks_status") && indexes.contains("tasks_agent"))
            try await store.close()
        }
    }

    @Test("a damaged row is reported as corrupt with its id, not a crash")
    func corruptRows() async throws {
        try await TemporaryFolder.with { folder in
            let store = try await SQLiteStore.open(path: folder.appendingPathComponent("drover.db").path, logger: .test)
            try await store.upsertAgent(Fixtures.agent("a1"))
            try await store.insertTask(Fixtures.task("t1"))
            try await store.upsertNode(Fixtures.node("n1"))
            try await store.execute("UPDATE agents SET data = '{\"id\": 5}' WHERE id = 'a1'")
            try await store.execute("UPDATE tasks SET data = 'not json at all' WHERE id = 't1'")
            try await store.execute("UPDATE nodes SET data = x'00ff' WHERE id = 'n1'")

            try await expectCorrupt(naming: "a1") { _ = try await store.agent(id: "a1") }
            try await expectCorrupt(naming: "a1") { _ = try await store.agents() }
            try await expectCorrupt(naming: "t1") { _ = try await store.task(tenant: "t1", id: "t1") }
            try await expectCorrupt(naming: "t1") { _ = try await store.openTasks() }
            try await expectCorrupt(naming: "t1") { _ = try await store.tasks(agentID: "a1", limit: 5) }
            try await expectCorrupt(naming: "n1") { _ = try await store.nodes() }

            // The store keeps working, and a good write repairs the row.
            try await store.upsertAgent(Fixtures.agent("a1"))
            #expect(try await store.agent(id: "a1") == Fixtures.agent("a1"))
            try await store.close()
        }
    }

    @Test("run() closes the file when cancelled; a closed store refuses calls clearly")
    func serviceClosesOnShutdown() async throws {
        try await TemporaryFolder.with { folder in
            let store = try await SQLiteStore.open(path: folder.appendingPathComponent("drover.db").path, logger: .test)
            try await store.setMetaValue("k", "v")
            let running = Task { try await store.run() }
            running.cancel()
            try await running.value
            await #expect(throws: StoreError.self) { try await store.metaValue("k") }
            try await store.close()
            let reopened = try await SQLiteStore.open(path: folder.appendingPathComponent("drover.db").path, logger: .test)
            #expect(try await reopened.metaValue("k") == "v")
            try await reopened.close()
        }
    }

    @Test("a file that is not a database is refused with its path")
    func notADatabase() async throws {
        try await TemporaryFolder.with { folder in
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let path = folder.appendingPathComponent("junk.db").path
            try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: path))
            do {
                let store = try await SQLiteStore.open(path: path, logger: .test)
                try await store.close()
                Issue.record("opened a file that is not a database")
            } catch let error as StoreError {
                guard case .unavailable(let detail) = error else { Issue.record("unexpected \(error)"); return }
                #expect(detail.contains(path))
            }
        }
    }

    private func expectCorrupt(naming id: String, _ body: () async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        do {
            try await body()
            Issue.record("read a damaged row", sourceLocation: sourceLocation)
        } catch let error as StoreError {
            guard case .corrupt(let detail) = error else {
                Issue.record("expected .corrupt, got \(error)", sourceLocation: sourceLocation)
                return
            }
            #expect(detail.contains("'\(id)'"), sourceLocation: sourceLocation)
        }
    }
}
