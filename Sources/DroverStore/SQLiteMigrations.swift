/// The SQLite schema, as numbered migrations applied in order and recorded in `schema_migrations`.
///
/// Records are stored as their JSON in `data`, beside the columns that queries filter and sort on.
enum SQLiteMigrations {
    static let all: [(version: Int, statements: [String])] = [
        (1, [
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
            "CREATE TABLE nodes (id TEXT PRIMARY KEY, tenant TEXT NOT NULL, status TEXT NOT NULL, data TEXT NOT NULL)",
            """
            CREATE TABLE agents (id TEXT PRIMARY KEY, tenant TEXT NOT NULL, node_id TEXT, status TEXT NOT NULL,
                created_at REAL NOT NULL, data TEXT NOT NULL)
            """,
            "CREATE INDEX agents_node ON agents (node_id)",
            """
            CREATE TABLE tasks (id TEXT PRIMARY KEY, agent_id TEXT NOT NULL, status TEXT NOT NULL,
                created_at REAL NOT NULL, data TEXT NOT NULL)
            """,
            "CREATE INDEX tasks_status ON tasks (status, created_at)",
            "CREATE INDEX tasks_agent ON tasks (agent_id, created_at)",
        ]),
        (2, [
            "CREATE TABLE events (sequence INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL)",
        ]),
        (3, [
            "CREATE TABLE tenants (name TEXT PRIMARY KEY, data TEXT NOT NULL)",
            """
            CREATE TABLE api_tokens (id TEXT PRIMARY KEY, tenant TEXT NOT NULL, secret_hash TEXT NOT NULL UNIQUE,
                created_at REAL NOT NULL, data TEXT NOT NULL)
            """,
            "CREATE INDEX api_tokens_tenant ON api_tokens (tenant, created_at)",
            "CREATE TABLE audit (sequence INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, data TEXT NOT NULL)",
        ]),
        (4, [
            """
            CREATE TABLE workflows (name TEXT NOT NULL, version INTEGER NOT NULL, tenant TEXT NOT NULL,
                created_at REAL NOT NULL, data TEXT NOT NULL, PRIMARY KEY (name, version))
            """,
            """
            CREATE TABLE workflow_runs (id TEXT PRIMARY KEY, workflow TEXT NOT NULL, tenant TEXT NOT NULL, status TEXT NOT NULL,
                created_at REAL NOT NULL, data TEXT NOT NULL)
            """,
            "CREATE INDEX workflow_runs_status ON workflow_runs (status, created_at)",
            "CREATE INDEX workflow_runs_workflow ON workflow_runs (workflow, created_at)",
            """
            CREATE TABLE workflow_history (run_id TEXT NOT NULL, sequence INTEGER NOT NULL, kind TEXT NOT NULL,
                data TEXT NOT NULL, PRIMARY KEY (run_id, sequence)) WITHOUT ROWID
            """,
        ]),
        (5, [
            // Events a tenant may read: those of its own nodes and agents.
            "ALTER TABLE events ADD COLUMN tenant TEXT",
            "CREATE INDEX events_tenant ON events (tenant, sequence)",
        ]),
        (6, [
            // Task ids, run ids and workflow names are per tenant: each table is rebuilt with the
            // tenant in its primary key. Existing rows keep their tenant (a task's from its
            // document, a history's from its run).
            """
            CREATE TABLE tasks_v6 (tenant TEXT NOT NULL, id TEXT NOT NULL, agent_id TEXT NOT NULL, status TEXT NOT NULL,
                created_at REAL NOT NULL, data TEXT NOT NULL, PRIMARY KEY (tenant, id))
            """,
            """
            INSERT INTO tasks_v6 (tenant, id, agent_id, status, created_at, data)
            SELECT COALESCE(json_extract(data, '$.tenant'), 'default'), id, agent_id, status, created_at, data FROM tasks
            """,
            "DROP TABLE tasks",
            "ALTER TABLE tasks_v6 RENAME TO tasks",
            "CREATE INDEX tasks_status ON tasks (status, created_at)",
            "CREATE INDEX tasks_agent ON tasks (agent_id, created_at)",
            """
            CREATE TABLE workflows_v6 (tenant TEXT NOT NULL, name TEXT NOT NULL, version INTEGER NOT NULL,
                created_at REAL NOT NULL, data TEXT NOT NULL, PRIMARY KEY (tenant, name, version))
            """,
            "INSERT INTO workflows_v6 (tenant, name, version, created_at, data) SELECT tenant, name, version, created_at, data FROM workflows",
            "DROP TABLE workflows",
            "ALTER TABLE workflows_v6 RENAME TO workflows",
            """
            CREATE TABLE workflow_runs_v6 (tenant TEXT NOT NULL, id TEXT NOT NULL, workflow TEXT NOT NULL, status TEXT NOT NULL,
                created_at REAL NOT NULL, data TEXT NOT NULL, PRIMARY KEY (tenant, id))
            """,
            """
            INSERT INTO workflow_runs_v6 (tenant, id, workflow, status, created_at, data)
            SELECT tenant, id, workflow, status, created_at, data FROM workflow_runs
            """,
            """
            CREATE TABLE workflow_history_v6 (tenant TEXT NOT NULL, run_id TEXT NOT NULL, sequence INTEGER NOT NULL, kind TEXT NOT NULL,
                data TEXT NOT NULL, PRIMARY KEY (tenant, run_id, sequence)) WITHOUT ROWID
            """,
            """
            INSERT INTO workflow_history_v6 (tenant, run_id, sequence, kind, data)
            SELECT COALESCE((SELECT r.tenant FROM workflow_runs r WHERE r.id = h.run_id), 'default'), h.run_id, h.sequence, h.kind, h.data
            FROM workflow_history h
            """,
            "DROP TABLE workflow_history",
            "ALTER TABLE workflow_history_v6 RENAME TO workflow_history",
            "DROP TABLE workflow_runs",
            "ALTER TABLE workflow_runs_v6 RENAME TO workflow_runs",
            "CREATE INDEX workflow_runs_status ON workflow_runs (status, created_at)",
            "CREATE INDEX workflow_runs_workflow ON workflow_runs (tenant, workflow, created_at)",
        ]),
        // 7: an agent's open tasks are looked up when it starts running; its finished ones are not scanned.
        (7, ["CREATE INDEX IF NOT EXISTS tasks_open_agent ON tasks (agent_id, created_at) WHERE status IN ('queued', 'dispatched')"]),
        // A tenant's runs, newest first, without sorting them all (the runs listing of a tenant caller).
        (8, ["CREATE INDEX IF NOT EXISTS workflow_runs_tenant ON workflow_runs (tenant, created_at)"]),
    ]
}
