import DroverCore
import Foundation
import Logging
import SQLiteNIO
import ServiceLifecycle
import Synchronization

/// The embedded default store: one SQLite file in WAL mode.
///
/// Each method is one statement, so each is atomic; the task compare-and-set is a single
/// `UPDATE … WHERE status IN (open) RETURNING id`. As a `Service` it closes the file on shutdown.
public final class SQLiteStore: Store, Service, StoreHealthReporting {
    private let connection: SQLiteConnection
    private let logger: Logger
    private let closed = Atomic<Bool>(false)
    public let path: String
    /// Whether writes go through now (see `query`).
    public let health = StoreHealth()

    /// Writes that arrive together are committed together (see `SQLiteGroupCommit`).
    private let writes: SQLiteGroupCommit
    /// Checkpoints the WAL in the background while the store is open.
    private let checkpointer = Mutex<SQLiteCheckpointer?>(nil)

    private init(connection: SQLiteConnection, path: String, logger: Logger) {
        self.connection = connection
        self.writes = SQLiteGroupCommit(connection: connection) { error in
            guard let error = error as? SQLiteError else { return false }
            return SQLiteStore.meansUnavailable(error.reason)
        }
        self.path = path
        self.logger = logger
    }

    /// Opens (creating it and its folder if needed) and migrates the database at `path`.
    public static func open(path: String, logger: Logger) async throws -> SQLiteStore {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw StoreError.unavailable("cannot create the folder \(directory): \(error.localizedDescription)")
        }
        let connection: SQLiteConnection
        do {
            connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        } catch {
            throw StoreError.unavailable("cannot open SQLite database \(path): \(error)")
        }
        let store = SQLiteStore(connection: connection, path: path, logger: logger)
        do {
            _ = try await connection.query("PRAGMA busy_timeout=5000")
            let mode = try await connection.query("PRAGMA journal_mode=WAL").first?.column("journal_mode")?.string ?? "unknown"
            if mode.lowercased() != "wal" {
                logger.warning("SQLite could not switch to WAL journaling; writes are slower and less concurrent", metadata: ["path": "\(path)", "journal_mode": "\(mode)"])
            }
            // With WAL, NORMAL keeps every committed transaction across a process crash (kill -9);
            // only a power loss or OS crash can drop the last few.
            _ = try await connection.query("PRAGMA synchronous=NORMAL")
            // Checkpoints run in the background (`SQLiteCheckpointer`), never inside a commit.
            _ = try await connection.query("PRAGMA wal_autocheckpoint=0")
            try await store.migrate()
            let checkpointer = try await SQLiteCheckpointer.start(path: path, logger: logger)
            store.checkpointer.withLock { $0 = checkpointer }
        } catch {
            try? await connection.close().get()
            throw StoreError.unavailable("cannot prepare SQLite database \(path): \(error)")
        }
        return store
    }

    /// Waits for graceful shutdown (or cancellation), then closes the database file.
    public func run() async throws {
        try? await gracefulShutdown()
        try await close()
        logger.debug("store closed", metadata: ["path": "\(path)"])
    }

    /// Closes the database file; later calls throw `StoreError.unavailable`. Closing twice is harmless.
    ///
    /// Works in a cancelled task too (as `run()` is when its service group is cancelled): the
    /// future-based close is used because the async one is skipped once the task is cancelled,
    /// which would leave the file open.
    public func close() async throws {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        if let checkpointer = checkpointer.withLock({ $0.take() }) { await checkpointer.stop() }
        do {
            try await connection.close().get()
        } catch {
            closed.store(false, ordering: .releasing)
            throw StoreError.unavailable("cannot close SQLite database \(path): \(error)")
        }
    }

    /// Runs one statement, refusing once the store is closed (for the extensions in other files).
    func run(_ sql: String, _ binds: [SQLiteData] = []) async throws -> [SQLiteRow] {
        try await query(sql, binds)
    }

    /// Runs one statement, refusing once the store is closed.
    ///
    /// A statement SQLite cannot carry out for reasons outside the record (disk full, I/O error,
    /// database locked or read-only) throws `StoreError.unavailable` and marks `health` failing;
    /// a write that succeeds marks it healthy again. Constraint and other errors pass unchanged.
    func query(_ sql: String, _ binds: [SQLiteData] = []) async throws -> [SQLiteRow] {
        guard !closed.load(ordering: .acquiring) else { throw StoreError.unavailable("the store at \(path) is closed") }
        let verb = sql.drop { $0 == " " || $0 == "\n" }.prefix(6).uppercased()
        let isWrite = verb != "SELECT" && !verb.hasPrefix("PRAGMA")
        // Transaction control (the migrations) runs as it is; every other write is group-committed.
        // Reads run at once on the same connection: one that runs while a batch's transaction is
        // open sees that batch's writes before their commit (a commit that then fails, on a full
        // disk, leaves such a reader with a write that was not stored).
        let isControl = ["BEGIN ", "COMMIT", "ROLLBA", "SAVEPO", "RELEAS"].contains(verb)
        do {
            let rows = isWrite && !isControl ? try await writes.write(sql, binds) : try await connection.query(sql, binds)
            if isWrite, health.isFailing, sql != "ROLLBACK" { health.writeSucceeded() }
            return rows
        } catch let error as SQLiteError where Self.meansUnavailable(error.reason) {
            let detail = "\(error.message) (SQLite \(error.reason))"
            if isWrite { health.writeFailed(detail) }
            throw StoreError.unavailable(detail)
        }
    }

    /// SQLite results that say the database cannot be used now, whatever the statement.
    static func meansUnavailable(_ reason: SQLiteError.Reason) -> Bool {
        switch reason {
        case .full, .ioError, .cantOpen, .readOnly, .busy, .locked, .noMemory, .proto, .busyTimeout, .busyInRecovery, .busyInSnapshot,
            .readonlyCantLock, .readonlyDirectory, .readonlyInRecovery, .readonlyInRollback, .readonlyBackingMoved, .cantOpenDirectory,
            .ioErrorFailedRead, .ioErrorIncompleteRead, .ioErrorFailedWrite, .ioErrorFailedSync, .ioErrorFailedDirSync,
            .ioErrorFailedTruncate, .ioErrorFailedStat, .ioErrorFailedUnlock, .ioErrorFailedReadLock, .ioErrorFailedDelete,
            .ioErrorNoMemory, .ioErrorFailedAccess, .ioErrorFailedLockCheck, .ioErrorFailedAdvisoryLock, .ioErrorFailedClose,
            .ioErrorFailedSharedMemOpen, .ioErrorFailedSharedMemSize, .ioErrorFailedSharedMemMap, .ioErrorFailedMemoryMap,
            .ioErrorCantFindTempdir:
            return true
        default:
            return false
        }
    }

    /// Applies every migration in `SQLiteMigrations.all` not yet recorded in `schema_migrations`,
    /// each in its own transaction.
    ///
    /// `open(path:logger:)` calls this before the store is shared, so no other statement can
    /// interleave with a migration's transaction; later calls find nothing to do and only read.
    public func migrate() async throws {
        _ = try await query("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)")
        let applied = Set(try await query("SELECT version FROM schema_migrations").compactMap { $0.column("version")?.integer })
        for migration in SQLiteMigrations.all where !applied.contains(migration.version) {
            _ = try await query("BEGIN IMMEDIATE")
            do {
                for statement in migration.statements { _ = try await query(statement) }
                _ = try await query(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                    [.integer(migration.version), .float(Date().timeIntervalSince1970)]
                )
                _ = try await query("COMMIT")
            } catch {
                _ = try? await connection.query("ROLLBACK")
                throw error
            }
        }
    }

    /// The migration versions recorded in `schema_migrations`, in ascending order.
    public func schemaVersions() async throws -> [Int] {
        try await query("SELECT version FROM schema_migrations ORDER BY version").compactMap { $0.column("version")?.integer }
    }

    /// The journal mode SQLite reports (`wal` once opened).
    public func journalMode() async throws -> String {
        try await query("PRAGMA journal_mode").first?.column("journal_mode")?.string ?? ""
    }

    // MARK: Settings

    public func metaValue(_ key: String) async throws -> String? {
        try await query("SELECT value FROM meta WHERE key = ?", [.text(key)]).first?.column("value")?.string
    }

    public func setMetaValue(_ key: String, _ value: String) async throws {
        _ = try await query(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [.text(key), .text(value)]
        )
    }

    // MARK: Nodes

    public func upsertNode(_ node: NodeRecord) async throws {
        _ = try await query(
            """
            INSERT INTO nodes (id, tenant, status, data) VALUES (?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET tenant = excluded.tenant, status = excluded.status, data = excluded.data
            """,
            [.text(node.id), .text(node.tenant), .text(node.status.rawValue), .text(try Self.encode(node))]
        )
    }

    public func node(id: String) async throws -> NodeRecord? {
        try await decodeRows(NodeRecord.self, "SELECT id, data FROM nodes WHERE id = ?", [.text(id)]).first
    }

    public func nodes() async throws -> [NodeRecord] {
        try await decodeRows(NodeRecord.self, "SELECT id, data FROM nodes ORDER BY id", [])
    }

    public func deleteNode(id: String) async throws -> Bool {
        !(try await query("DELETE FROM nodes WHERE id = ? RETURNING id", [.text(id)])).isEmpty
    }

    // MARK: Agents

    public func upsertAgent(_ agent: AgentRecord) async throws {
        try await insertAgentRow(agent, text: try Self.encode(agent))
    }

    private func insertAgentRow(_ agent: AgentRecord, text: String) async throws {
        _ = try await query(
            """
            INSERT INTO agents (id, tenant, node_id, status, created_at, data) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET tenant = excluded.tenant, node_id = excluded.node_id, status = excluded.status,
                created_at = excluded.created_at, data = excluded.data
            """,
            [
                .text(agent.id), .text(agent.tenant), agent.nodeID.map { .text($0) } ?? .null, .text(agent.status.rawValue),
                .float(agent.createdAt.timeIntervalSince1970), .text(text),
            ]
        )
    }

    public func upsertAgents(_ agents: [AgentRecord]) async throws {
        guard !agents.isEmpty else { return }
        // One statement over a JSON array of rows: atomic, and free of SQLite's limit on bound
        // values. Each record is encoded once, as an object inside its row; SQLite stores its text.
        _ = try await query(
            """
            INSERT INTO agents (id, tenant, node_id, status, created_at, data)
            SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value -> 5 FROM json_each(?)
            WHERE true
            ON CONFLICT(id) DO UPDATE SET tenant = excluded.tenant, node_id = excluded.node_id, status = excluded.status,
                created_at = excluded.created_at, data = excluded.data
            """,
            [.text(try Self.rowsText(agents))]
        )
    }

    public func updateAgentStatuses(_ updates: [AgentStatusUpdate]) async throws -> Set<String> {
        guard !updates.isEmpty else { return [] }
        // One statement over a JSON array of rows; each document is changed in place by SQLite,
        // so no record is encoded again here. Of several updates of one agent the last counts
        // (with the last error any of them carried).
        var latest: [String: Int] = [:]
        var errors: [String: String] = [:]
        for (index, update) in updates.enumerated() {
            latest[update.id] = index
            if let error = update.lastError { errors[update.id] = error }
        }
        // Rows of [id, status, restarts, updated_at, error or null], written straight to text.
        var rows = JSONTextWriter(capacity: latest.count * 112)
        rows.raw("[")
        for (position, index) in latest.values.sorted().enumerated() {
            let update = updates[index]
            rows.raw(position == 0 ? "[" : ",[")
            rows.string(update.id)
            rows.raw(",")
            rows.string(update.status.rawValue)
            rows.raw(",")
            rows.int(update.restarts)
            rows.raw(",")
            rows.string(JSONCoding.formatDate(update.updatedAt))
            rows.raw(",")
            if let error = errors[update.id] { rows.string(error) } else { rows.null() }
            rows.raw("]")
        }
        rows.raw("]")
        let changed = try await query(
            """
            UPDATE agents SET status = u.value ->> 1,
                data = CASE WHEN u.value ->> 4 IS NULL
                    THEN json_set(data, '$.status', u.value ->> 1, '$.restarts', u.value ->> 2, '$.updated_at', u.value ->> 3)
                    ELSE json_set(data, '$.status', u.value ->> 1, '$.restarts', u.value ->> 2, '$.updated_at', u.value ->> 3, '$.last_error', u.value ->> 4)
                END
            FROM json_each(?) AS u WHERE agents.id = u.value ->> 0
            RETURNING agents.id
            """,
            [.text(rows.text)]
        )
        return Set(changed.compactMap { $0.column("id")?.string })
    }

    public func agent(id: String) async throws -> AgentRecord? {
        try await decodeRows(AgentRecord.self, "SELECT id, data FROM agents WHERE id = ?", [.text(id)]).first
    }

    public func agents() async throws -> [AgentRecord] {
        try await decodeRowsInParallel(AgentRecord.self, "SELECT id, data FROM agents ORDER BY created_at, id", [])
    }

    public func deleteAgent(id: String) async throws -> Bool {
        !(try await query("DELETE FROM agents WHERE id = ? RETURNING id", [.text(id)])).isEmpty
    }

    // MARK: Tasks

    public func insertTask(_ task: TaskRecord) async throws {
        let inserted = try await query(
            """
            INSERT INTO tasks (tenant, id, agent_id, status, created_at, data) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT(tenant, id) DO NOTHING RETURNING id
            """,
            [.text(task.tenant), .text(task.id), .text(task.agentID), .text(task.status.rawValue), .float(task.createdAt.timeIntervalSince1970), .text(try Self.encode(task))]
        )
        guard !inserted.isEmpty else { throw StoreError.duplicate(task.id) }
    }

    public func updateOpenTask(_ task: TaskRecord) async throws -> Bool {
        let updated = try await query(
            """
            UPDATE tasks SET agent_id = ?, status = ?, created_at = ?, data = ?
            WHERE tenant = ? AND id = ? AND status IN ('queued', 'dispatched') RETURNING id
            """,
            [
                .text(task.agentID), .text(task.status.rawValue), .float(task.createdAt.timeIntervalSince1970),
                .text(try Self.encode(task)), .text(task.tenant), .text(task.id),
            ]
        )
        return !updated.isEmpty
    }

    // MARK: Events

    public func appendEvent(_ event: ClusterEvent) async throws -> ClusterEvent {
        let rows = try await query(
            "INSERT INTO events (at, kind, tenant, data) VALUES (?, ?, ?, ?) RETURNING sequence",
            [.float(event.at.timeIntervalSince1970), .text(event.kind), event.tenant.map(SQLiteData.text) ?? .null, .text(try Self.encode(event))]
        )
        var stored = event
        stored.sequence = rows.first?.column("sequence")?.integer.map { Int($0) } ?? 0
        return stored
    }

    public func events(after: Int, limit: Int, tenant: String?) async throws -> [ClusterEvent] {
        let rows: [SQLiteRow]
        if let tenant {
            rows = try await query(
                "SELECT sequence, data FROM events WHERE tenant = ? AND sequence > ? ORDER BY sequence LIMIT ?",
                [.text(tenant), .integer(after), .integer(max(0, limit))]
            )
        } else {
            rows = try await query(
                "SELECT sequence, data FROM events WHERE sequence > ? ORDER BY sequence LIMIT ?", [.integer(after), .integer(max(0, limit))]
            )
        }
        let decoder = JSONCoding.decoder()
        return try rows.map { row in
            let sequence = row.column("sequence")?.integer.map { Int($0) } ?? 0
            guard let text = row.column("data")?.string, var event = try? decoder.decode(ClusterEvent.self, from: Data(text.utf8)) else {
                throw StoreError.corrupt("event \(sequence) could not be read")
            }
            event.sequence = sequence
            return event
        }
    }

    public func task(tenant: String, id: String) async throws -> TaskRecord? {
        try await decodeRows(TaskRecord.self, "SELECT id, data FROM tasks WHERE tenant = ? AND id = ?", [.text(tenant), .text(id)]).first
    }

    public func tasks(id: String) async throws -> [TaskRecord] {
        try await decodeRows(TaskRecord.self, "SELECT id, data FROM tasks WHERE id = ? ORDER BY tenant", [.text(id)])
    }

    public func openTasks() async throws -> [TaskRecord] {
        try await decodeRows(
            TaskRecord.self, "SELECT id, data FROM tasks WHERE status IN ('queued', 'dispatched') ORDER BY created_at, id, tenant", []
        )
    }

    public func openTasks(agentIDs: [String]) async throws -> [TaskRecord] {
        guard !agentIDs.isEmpty else { return [] }
        return try await decodeRows(
            TaskRecord.self,
            """
            SELECT id, data FROM tasks WHERE agent_id IN (SELECT value FROM json_each(?)) AND status IN ('queued', 'dispatched')
            ORDER BY created_at, id, tenant
            """,
            [.text(Self.textArray(agentIDs))]
        )
    }

    public func openTaskCount(tenant: String?) async throws -> Int {
        let rows = try await query(
            "SELECT count(*) AS open FROM tasks WHERE status IN ('queued', 'dispatched') AND (?1 IS NULL OR tenant = ?1)",
            [tenant.map { .text($0) } ?? .null]
        )
        return rows.first?.column("open")?.integer ?? 0
    }

    public func tasks(agentID: String, status: TaskStatus?, before: String?, limit: Int) async throws -> [TaskRecord] {
        // An unknown `before` compares as NULL: no tasks, as in the memory store.
        try await decodeRows(
            TaskRecord.self,
            """
            SELECT id, data FROM tasks WHERE agent_id = ?1 AND (?2 IS NULL OR status = ?2)
                AND (?3 IS NULL OR (created_at, id) < (SELECT created_at, id FROM tasks WHERE agent_id = ?1 AND id = ?3))
            ORDER BY created_at DESC, id DESC LIMIT ?4
            """,
            [.text(agentID), status.map { .text($0.rawValue) } ?? .null, before.map { .text($0) } ?? .null, .integer(max(limit, 0))]
        )
    }

    // MARK: Coding

    /// The rows of `agents` for `upsertAgents`: the indexed columns, then the record as an object.
    private static func rowsText(_ agents: [AgentRecord]) throws -> String {
        var writer = JSONTextWriter(capacity: agents.count * 640)
        writer.raw("[")
        for (index, agent) in agents.enumerated() {
            writer.raw(index == 0 ? "[" : ",[")
            writer.string(agent.id)
            writer.raw(",")
            writer.string(agent.tenant)
            writer.raw(",")
            if let nodeID = agent.nodeID { writer.string(nodeID) } else { writer.null() }
            writer.raw(",")
            writer.string(agent.status.rawValue)
            writer.raw(",")
            try writer.double(agent.createdAt.timeIntervalSince1970)
            writer.raw(",")
            try agent.writeJSON(to: &writer)
            writer.raw("]")
        }
        writer.raw("]")
        return writer.text
    }

    /// A JSON array of strings (for `json_each(?)`), without JSONEncoder.
    static func textArray(_ strings: [String]) -> String {
        var writer = JSONTextWriter(capacity: strings.count * 40 + 2)
        writer.strings(strings)
        return writer.text
    }

    static func encode(_ value: some Encodable) throws -> String {
        try JSONCoding.string(value)
    }

    func decodeRecords<T: Decodable>(_ type: T.Type, _ sql: String, _ binds: [SQLiteData]) async throws -> [T] {
        try await decodeRows(type, sql, binds)
    }

    func decodeRows<T: Decodable>(_ type: T.Type, _ sql: String, _ binds: [SQLiteData]) async throws -> [T] {
        try Self.decode(T.self, try await query(sql, binds)[...])
    }

    /// Like `decodeRows`, with large results decoded on every core (the manager loads every
    /// agent at start).
    func decodeRowsInParallel<T: Decodable & Sendable>(_ type: T.Type, _ sql: String, _ binds: [SQLiteData]) async throws -> [T] {
        let rows = try await query(sql, binds)
        let chunkSize = 4_096
        guard rows.count > chunkSize else { return try Self.decode(T.self, rows[...]) }
        return try await withThrowingTaskGroup(of: (Int, [T]).self) { group in
            for start in stride(from: 0, to: rows.count, by: chunkSize) {
                let chunk = rows[start..<min(start + chunkSize, rows.count)]
                group.addTask { (start, try Self.decode(T.self, chunk)) }
            }
            var parts: [(Int, [T])] = []
            for try await part in group { parts.append(part) }
            return parts.sorted { $0.0 < $1.0 }.flatMap(\.1)
        }
    }

    private static func decode<T: Decodable>(_ type: T.Type, _ rows: ArraySlice<SQLiteRow>) throws -> [T] {
        let decoder = JSONCoding.decoder()
        return try rows.map { row in
            let id = row.column("id")?.string ?? "?"
            guard let text = row.column("data")?.string else { throw StoreError.corrupt("\(T.self) '\(id)' has no data") }
            do {
                return try JSONCoding.decode(T.self, from: Data(text.utf8), using: decoder)
            } catch {
                throw StoreError.corrupt("\(T.self) '\(id)': \(describeDecodingError(error))")
            }
        }
    }

    /// Runs raw SQL; for tests that need to damage a row on purpose.
    func execute(_ sql: String, _ binds: [SQLiteData] = []) async throws {
        _ = try await query(sql, binds)
    }

    /// The first column of each row of `sql` as text; for tests that look at the indexed columns.
    func firstColumn(_ sql: String, _ binds: [SQLiteData] = []) async throws -> [String?] {
        try await query(sql, binds).map { $0.columns.first?.data.string }
    }
}
