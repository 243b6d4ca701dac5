import DroverCore
import Foundation

/// Where the manager keeps desired state and history: nodes, agents, tasks and settings.
///
/// One protocol, one implementation per backend (`SQLiteStore`, `InMemoryStore`; PostgreSQL
/// next), and one conformance suite every backend passes (`StoreConformance` in the tests).
/// Every method is atomic on its own; `updateOpenTask` is a compare-and-set.
public protocol Store: Sendable {
    /// Creates or upgrades the schema. Safe to call on every start.
    func migrate() async throws

    // MARK: Settings

    /// A stored setting (such as the generated admin token), or `nil`.
    func metaValue(_ key: String) async throws -> String?
    /// Stores a setting, replacing any earlier value.
    func setMetaValue(_ key: String, _ value: String) async throws

    // MARK: Nodes

    /// Creates the node, or replaces the one with the same id.
    func upsertNode(_ node: NodeRecord) async throws
    /// The node with this id, or `nil`.
    func node(id: String) async throws -> NodeRecord?
    /// All nodes, ordered by id.
    func nodes() async throws -> [NodeRecord]
    /// Removes a node; `false` when there was none.
    @discardableResult func deleteNode(id: String) async throws -> Bool

    // MARK: Agents

    /// Creates the agent, or replaces the one with the same id.
    func upsertAgent(_ agent: AgentRecord) async throws
    /// Creates or replaces several agents in one transaction: all are stored, or none.
    func upsertAgents(_ agents: [AgentRecord]) async throws
    /// Records what nodes report of agents (status, restarts, the error if any) without
    /// rewriting the rest of their records, in one transaction; answers the ids that exist
    /// (an update for an unknown agent changes nothing).
    func updateAgentStatuses(_ updates: [AgentStatusUpdate]) async throws -> Set<String>
    /// The agent with this id, or `nil`.
    func agent(id: String) async throws -> AgentRecord?
    /// All agents, ordered by creation time then id.
    func agents() async throws -> [AgentRecord]
    /// Removes an agent; `false` when there was none.
    @discardableResult func deleteAgent(id: String) async throws -> Bool

    // MARK: Events

    /// Appends an event; the store numbers it. Returns the stored event.
    @discardableResult func appendEvent(_ event: ClusterEvent) async throws -> ClusterEvent
    /// Events with a sequence above `after`, oldest first, at most `limit`; with `tenant`,
    /// only that tenant's.
    func events(after: Int, limit: Int, tenant: String?) async throws -> [ClusterEvent]

    // MARK: Tasks

    /// Stores a new task; throws `StoreError.duplicate` if its tenant has a task with that id.
    ///
    /// Task ids, like run ids and workflow names, are per tenant: two tenants may each have a
    /// task `t1`. A record is addressed by its `tenant` and `id` together.
    func insertTask(_ task: TaskRecord) async throws
    /// Overwrites a task (its tenant's, with its id) that is not final yet; returns `false` (and writes nothing) if it is final.
    /// The first result wins: of several callers writing a final status to one open task, exactly one gets `true`.
    @discardableResult func updateOpenTask(_ task: TaskRecord) async throws -> Bool
    /// The tenant's task with this id, or `nil`.
    func task(tenant: String, id: String) async throws -> TaskRecord?
    /// Every tenant's task with this id, ordered by tenant (what an admin naming no tenant finds).
    func tasks(id: String) async throws -> [TaskRecord]
    /// Tasks that are `queued` or `dispatched`, oldest first.
    func openTasks() async throws -> [TaskRecord]
    /// The open tasks of these agents, oldest first.
    func openTasks(agentIDs: [String]) async throws -> [TaskRecord]
    /// How many tasks are open, in one tenant or (`nil`) in all.
    func openTaskCount(tenant: String?) async throws -> Int
    /// One agent's tasks, newest first, at most `limit`: with `status`, only those in it; with
    /// `before` (the id of one of its tasks), only those listed after that one (a page's cursor).
    func tasks(agentID: String, status: TaskStatus?, before: String?, limit: Int) async throws -> [TaskRecord]

    // MARK: Workflows

    /// Stores a version of a definition; throws `StoreError.duplicate` if its tenant has that name and version.
    func insertWorkflow(_ workflow: WorkflowRecord) async throws
    /// One version of a tenant's definition (the newest when `version` is `nil`), or `nil`.
    func workflow(tenant: String, name: String, version: Int?) async throws -> WorkflowRecord?
    /// The newest version of every definition of every tenant, by name then tenant.
    func workflows() async throws -> [WorkflowRecord]

    /// Stores a new run; throws `StoreError.duplicate` if its tenant has a run with that id.
    func insertRun(_ run: WorkflowRunRecord) async throws
    /// Overwrites a run's record (its tenant's, with its id).
    func updateRun(_ run: WorkflowRunRecord) async throws
    /// The tenant's run with this id, or `nil`.
    func run(tenant: String, id: String) async throws -> WorkflowRunRecord?
    /// Every tenant's run with this id, ordered by tenant (what an admin naming no tenant finds).
    func runs(id: String) async throws -> [WorkflowRunRecord]
    /// Only the status of a tenant's run (cheap: no input or output is read), or `nil`.
    func runStatus(tenant: String, id: String) async throws -> WorkflowRunStatus?
    /// Runs matching the filter, newest first.
    func runs(_ filter: WorkflowRunFilter) async throws -> [WorkflowRunRecord]
    /// Runs still `running`, oldest first: what a starting manager resumes.
    func openRuns() async throws -> [WorkflowRunRecord]

    /// Appends events to the history of a tenant's run, all or none. Each carries its sequence
    /// number; a number already used throws `StoreError.duplicate`.
    func appendHistory(tenant: String, runID: String, _ events: [WorkflowEvent]) async throws
    /// A tenant's run's events with a sequence above `after`, oldest first, at most `limit`.
    func history(tenant: String, runID: String, after: Int, limit: Int) async throws -> [WorkflowEvent]
    // MARK: Tenants and API tokens

    /// Stores a new tenant; throws `StoreError.duplicate` if the name exists.
    func insertTenant(_ tenant: TenantRecord) async throws
    /// The tenant with this name, or `nil`.
    func tenant(name: String) async throws -> TenantRecord?
    /// All tenants, ordered by name.
    func tenants() async throws -> [TenantRecord]
    /// Stores a new API token; throws `StoreError.duplicate` if the id or the hash exists.
    func insertAPIToken(_ token: APITokenRecord) async throws
    /// The token whose secret hashes to `secretHash`, revoked or not, or `nil`.
    func apiToken(secretHash: String) async throws -> APITokenRecord?
    /// A tenant's tokens, revoked ones included, oldest first.
    func apiTokens(tenant: String) async throws -> [APITokenRecord]
    /// Marks a token of `tenant` revoked at `at`; `false` when there is no such token.
    /// Revoking a revoked token keeps the first time and answers `true`.
    @discardableResult func revokeAPIToken(id: String, tenant: String, at: Date) async throws -> Bool
    /// Marks an unused, unrevoked join token used by `nodeID` at `at`. Of several callers at once,
    /// exactly one gets `true`; the rest (and any later caller) get `false`.
    func consumeJoinToken(id: String, nodeID: String, at: Date) async throws -> Bool

    // MARK: Audit

    /// Appends audit entries in one transaction, in order; the store numbers them. Returns the
    /// stored entries.
    @discardableResult func appendAudit(_ entries: [AuditEntry]) async throws -> [AuditEntry]
    /// Audit entries with a sequence above `after`, oldest first, at most `limit`.
    func audit(after: Int, limit: Int) async throws -> [AuditEntry]
}

/// Errors a store reports.
public enum StoreError: Error, Equatable, CustomStringConvertible {
    /// A record with this id already exists.
    case duplicate(String)
    /// A stored record could not be decoded; the detail names its id.
    case corrupt(String)
    /// The store could not be opened or prepared.
    case unavailable(String)

    public var description: String {
        switch self {
        case .duplicate(let id): return "a record with id '\(id)' already exists"
        case .corrupt(let detail): return "stored record could not be read: \(detail)"
        case .unavailable(let detail): return "store unavailable: \(detail)"
        }
    }
}

/// What a node reported of one agent, as `Store.updateAgentStatuses` records it.
public struct AgentStatusUpdate: Sendable, Equatable {
    public var id: String
    public var status: AgentStatus
    public var restarts: Int
    /// Replaces the stored error when set; `nil` keeps the one stored.
    public var lastError: String?
    public var updatedAt: Date

    public init(id: String, status: AgentStatus, restarts: Int, lastError: String?, updatedAt: Date) {
        self.id = id
        self.status = status
        self.restarts = restarts
        self.lastError = lastError
        self.updatedAt = updatedAt
    }
}

extension Store {
    /// Records what a node reports of one agent; `false` when there is no such agent.
    @discardableResult
    public func updateAgentStatus(id: String, status: AgentStatus, restarts: Int, lastError: String?, updatedAt: Date) async throws -> Bool {
        try await updateAgentStatuses([.init(id: id, status: status, restarts: restarts, lastError: lastError, updatedAt: updatedAt)]).contains(id)
    }

    /// Appends one audit entry; the store numbers it. Returns the stored entry.
    @discardableResult
    public func appendAudit(_ entry: AuditEntry) async throws -> AuditEntry {
        guard let stored = try await appendAudit([entry]).first else { throw StoreError.unavailable("the audit entry was not stored") }
        return stored
    }

    /// The open tasks of one agent, oldest first.
    public func openTasks(agentID: String) async throws -> [TaskRecord] {
        try await openTasks(agentIDs: [agentID])
    }

    /// The newest `limit` tasks of one agent, newest first.
    public func tasks(agentID: String, limit: Int) async throws -> [TaskRecord] {
        try await tasks(agentID: agentID, status: nil, before: nil, limit: limit)
    }

    /// Events of every tenant with a sequence above `after`, oldest first, at most `limit`.
    public func events(after: Int, limit: Int) async throws -> [ClusterEvent] {
        try await events(after: after, limit: limit, tenant: nil)
    }
}
