import DroverCore
import Foundation
import Synchronization

/// A `Store` that keeps everything in memory: for unit tests and `memory:` runs.
///
/// Every record is passed through its JSON form (`JSONCoding`) on the way in, exactly as
/// `SQLiteStore` stores it, so a record reads back the same from both backends (dates at
/// millisecond precision, whole-number doubles as integers). Tests written against this
/// store therefore see what production sees.
public final class InMemoryStore: Store {
    /// Tasks, runs, histories and workflows are keyed by tenant and id (or name) together.
    private struct Key: Hashable {
        var tenant: String
        var id: String
    }

    private struct State {
        var meta: [String: String] = [:]
        var nodes: [String: NodeRecord] = [:]
        var agents: [String: AgentRecord] = [:]
        var tasks: [Key: TaskRecord] = [:]
        var events: [ClusterEvent] = []
        var workflows: [Key: [WorkflowRecord]] = [:]
        var runs: [Key: WorkflowRunRecord] = [:]
        var history: [Key: [WorkflowEvent]] = [:]
        var tenants: [String: TenantRecord] = [:]
        var apiTokens: [String: APITokenRecord] = [:]
        var audit: [AuditEntry] = []
    }

    private let state = Mutex(State())

    public init() {}

    /// Nothing to do: there is no schema in memory.
    public func migrate() async throws {}

    // MARK: Settings

    public func metaValue(_ key: String) async throws -> String? { state.withLock { $0.meta[key] } }

    public func setMetaValue(_ key: String, _ value: String) async throws { state.withLock { $0.meta[key] = value } }

    // MARK: Nodes

    public func upsertNode(_ node: NodeRecord) async throws {
        let stored = try Self.persisted(node)
        state.withLock { $0.nodes[stored.id] = stored }
    }

    public func node(id: String) async throws -> NodeRecord? { state.withLock { $0.nodes[id] } }

    public func nodes() async throws -> [NodeRecord] { state.withLock { $0.nodes.values.sorted { $0.id < $1.id } } }

    public func deleteNode(id: String) async throws -> Bool { state.withLock { $0.nodes.removeValue(forKey: id) != nil } }

    // MARK: Agents

    public func upsertAgent(_ agent: AgentRecord) async throws {
        let stored = try Self.persisted(agent)
        state.withLock { $0.agents[stored.id] = stored }
    }

    public func upsertAgents(_ agents: [AgentRecord]) async throws {
        let stored = try agents.map(Self.persisted)
        state.withLock { state in for agent in stored { state.agents[agent.id] = agent } }
    }

    public func updateAgentStatuses(_ updates: [AgentStatusUpdate]) async throws -> Set<String> {
        var changed: [String: AgentRecord] = [:]
        for update in updates {
            guard var agent = changed[update.id] ?? state.withLock({ $0.agents[update.id] }) else { continue }
            agent.status = update.status
            agent.restarts = update.restarts
            if let lastError = update.lastError { agent.lastError = lastError }
            agent.updatedAt = update.updatedAt
            changed[update.id] = try Self.persisted(agent)
        }
        state.withLock { state in for (id, agent) in changed { state.agents[id] = agent } }
        return Set(changed.keys)
    }

    public func agent(id: String) async throws -> AgentRecord? { state.withLock { $0.agents[id] } }

    public func agents() async throws -> [AgentRecord] {
        state.withLock { $0.agents.values.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) } }
    }

    public func deleteAgent(id: String) async throws -> Bool { state.withLock { $0.agents.removeValue(forKey: id) != nil } }

    // MARK: Tasks

    public func insertTask(_ task: TaskRecord) async throws {
        let stored = try Self.persisted(task)
        let key = Key(tenant: stored.tenant, id: stored.id)
        try state.withLock { state in
            guard state.tasks[key] == nil else { throw StoreError.duplicate(stored.id) }
            state.tasks[key] = stored
        }
    }

    public func updateOpenTask(_ task: TaskRecord) async throws -> Bool {
        let stored = try Self.persisted(task)
        let key = Key(tenant: stored.tenant, id: stored.id)
        return state.withLock { state in
            guard let current = state.tasks[key], !current.status.isFinal else { return false }
            state.tasks[key] = stored
            return true
        }
    }

    public func appendEvent(_ event: ClusterEvent) async throws -> ClusterEvent {
        state.withLock { state in
            var stored = event
            stored.sequence = (state.events.last?.sequence ?? 0) + 1
            state.events.append(stored)
            return stored
        }
    }

    public func events(after: Int, limit: Int, tenant: String?) async throws -> [ClusterEvent] {
        state.withLock { Array($0.events.filter { $0.sequence > after && (tenant == nil || $0.tenant == tenant) }.prefix(max(0, limit))) }
    }

    public func task(tenant: String, id: String) async throws -> TaskRecord? { state.withLock { $0.tasks[Key(tenant: tenant, id: id)] } }

    public func tasks(id: String) async throws -> [TaskRecord] {
        state.withLock { $0.tasks.values.filter { $0.id == id }.sorted { $0.tenant < $1.tenant } }
    }

    public func openTasks() async throws -> [TaskRecord] {
        state.withLock {
            $0.tasks.values.filter { !$0.status.isFinal }.sorted { ($0.createdAt, $0.id, $0.tenant) < ($1.createdAt, $1.id, $1.tenant) }
        }
    }

    public func openTasks(agentIDs: [String]) async throws -> [TaskRecord] {
        let wanted = Set(agentIDs)
        return try await openTasks().filter { wanted.contains($0.agentID) }
    }

    public func openTaskCount(tenant: String?) async throws -> Int {
        state.withLock { state in state.tasks.values.filter { !$0.status.isFinal && (tenant == nil || $0.tenant == tenant) }.count }
    }

    public func tasks(agentID: String, status: TaskStatus?, before: String?, limit: Int) async throws -> [TaskRecord] {
        state.withLock { state in
            var newestFirst = state.tasks.values.filter { $0.agentID == agentID }.sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }
            if let before {
                // An unknown cursor pages from nowhere: no tasks (as in SQLite).
                guard let index = newestFirst.firstIndex(where: { $0.id == before }) else { return [] }
                newestFirst = Array(newestFirst[(index + 1)...])
            }
            return Array(newestFirst.filter { status == nil || $0.status == status }.prefix(max(limit, 0)))
        }
    }

    // MARK: Workflows

    public func insertWorkflow(_ workflow: WorkflowRecord) async throws {
        let stored = try Self.persisted(workflow)
        let key = Key(tenant: stored.tenant, id: stored.name)
        try state.withLock { state in
            guard !(state.workflows[key] ?? []).contains(where: { $0.version == stored.version }) else {
                throw StoreError.duplicate("\(stored.name) v\(stored.version)")
            }
            state.workflows[key, default: []].append(stored)
            state.workflows[key]?.sort { $0.version < $1.version }
        }
    }

    public func workflow(tenant: String, name: String, version: Int?) async throws -> WorkflowRecord? {
        state.withLock { state in
            let versions = state.workflows[Key(tenant: tenant, id: name)] ?? []
            guard let version else { return versions.last }
            return versions.first { $0.version == version }
        }
    }

    public func workflows() async throws -> [WorkflowRecord] {
        state.withLock { $0.workflows.values.compactMap(\.last).sorted { ($0.name, $0.tenant) < ($1.name, $1.tenant) } }
    }

    public func insertRun(_ run: WorkflowRunRecord) async throws {
        let stored = try Self.persisted(run)
        let key = Key(tenant: stored.tenant, id: stored.id)
        try state.withLock { state in
            guard state.runs[key] == nil else { throw StoreError.duplicate(stored.id) }
            state.runs[key] = stored
        }
    }

    public func updateRun(_ run: WorkflowRunRecord) async throws {
        let stored = try Self.persisted(run)
        let key = Key(tenant: stored.tenant, id: stored.id)
        state.withLock { state in
            if state.runs[key] != nil { state.runs[key] = stored }
        }
    }

    public func run(tenant: String, id: String) async throws -> WorkflowRunRecord? { state.withLock { $0.runs[Key(tenant: tenant, id: id)] } }

    public func runs(id: String) async throws -> [WorkflowRunRecord] {
        state.withLock { $0.runs.values.filter { $0.id == id }.sorted { $0.tenant < $1.tenant } }
    }

    public func runStatus(tenant: String, id: String) async throws -> WorkflowRunStatus? {
        state.withLock { $0.runs[Key(tenant: tenant, id: id)]?.status }
    }

    public func runs(_ filter: WorkflowRunFilter) async throws -> [WorkflowRunRecord] {
        state.withLock { state in
            var runs = state.runs.values.filter { run in
                (filter.workflow == nil || run.workflow == filter.workflow) && (filter.status == nil || run.status == filter.status)
                    && (filter.tenant == nil || run.tenant == filter.tenant)
            }
            if let before = filter.before {
                // An unknown cursor pages from nowhere: no runs (as in SQLite).
                let cursor = filter.tenant.map { state.runs[Key(tenant: $0, id: before)] }
                    ?? state.runs.values.filter { $0.id == before }.min { $0.tenant < $1.tenant }
                guard let cursor else { return [] }
                runs = runs.filter { ($0.createdAt, $0.id) < (cursor.createdAt, cursor.id) }
            }
            runs.sort { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }
            return Array(runs.prefix(max(0, filter.limit)))
        }
    }

    public func openRuns() async throws -> [WorkflowRunRecord] {
        state.withLock {
            $0.runs.values.filter { $0.status == .running }.sorted { ($0.createdAt, $0.id, $0.tenant) < ($1.createdAt, $1.id, $1.tenant) }
        }
    }

    public func appendHistory(tenant: String, runID: String, _ events: [WorkflowEvent]) async throws {
        let stored = try events.map { try Self.persisted($0) }
        let key = Key(tenant: tenant, id: runID)
        try state.withLock { state in
            var last = state.history[key]?.last?.sequence ?? 0
            for event in stored {
                // Sequences only grow, so one that is not above the last was used already.
                guard event.sequence > last else { throw StoreError.duplicate("history of \(runID) sequence \(event.sequence)") }
                last = event.sequence
            }
            state.history[key, default: []].append(contentsOf: stored)
        }
    }

    public func history(tenant: String, runID: String, after: Int, limit: Int) async throws -> [WorkflowEvent] {
        state.withLock { Array(($0.history[Key(tenant: tenant, id: runID)] ?? []).filter { $0.sequence > after }.prefix(max(0, limit))) }
    }

    // MARK: Tenants and API tokens

    public func insertTenant(_ tenant: TenantRecord) async throws {
        let stored = try Self.persisted(tenant)
        try state.withLock { state in
            guard state.tenants[stored.name] == nil else { throw StoreError.duplicate(stored.name) }
            state.tenants[stored.name] = stored
        }
    }

    public func tenant(name: String) async throws -> TenantRecord? { state.withLock { $0.tenants[name] } }

    public func tenants() async throws -> [TenantRecord] { state.withLock { $0.tenants.values.sorted { $0.name < $1.name } } }

    public func insertAPIToken(_ token: APITokenRecord) async throws {
        let stored = try Self.persisted(token)
        try state.withLock { state in
            guard state.apiTokens[stored.id] == nil, !state.apiTokens.values.contains(where: { $0.secretHash == stored.secretHash }) else {
                throw StoreError.duplicate(stored.id)
            }
            state.apiTokens[stored.id] = stored
        }
    }

    public func apiToken(secretHash: String) async throws -> APITokenRecord? {
        state.withLock { $0.apiTokens.values.first { $0.secretHash == secretHash } }
    }

    public func apiTokens(tenant: String) async throws -> [APITokenRecord] {
        state.withLock { $0.apiTokens.values.filter { $0.tenant == tenant }.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) } }
    }

    @discardableResult public func revokeAPIToken(id: String, tenant: String, at: Date) async throws -> Bool {
        guard var token = state.withLock({ $0.apiTokens[id] }), token.tenant == tenant else { return false }
        guard token.revokedAt == nil else { return true }
        token.revokedAt = at
        let stored = try Self.persisted(token)
        state.withLock { state in
            if state.apiTokens[id]?.revokedAt == nil { state.apiTokens[id] = stored }
        }
        return true
    }

    public func consumeJoinToken(id: String, nodeID: String, at: Date) async throws -> Bool {
        guard var token = state.withLock({ $0.apiTokens[id] }), token.kind == .join else { return false }
        token.usedAt = at
        token.nodeID = nodeID
        let stored = try Self.persisted(token)
        return state.withLock { state in
            guard let current = state.apiTokens[id], current.usedAt == nil, current.revokedAt == nil else { return false }
            state.apiTokens[id] = stored
            return true
        }
    }

    // MARK: Audit

    @discardableResult public func appendAudit(_ entries: [AuditEntry]) async throws -> [AuditEntry] {
        let persisted = try entries.map(Self.persisted)
        return state.withLock { state in
            persisted.map { entry in
                var stored = entry
                stored.sequence = (state.audit.last?.sequence ?? 0) + 1
                state.audit.append(stored)
                return stored
            }
        }
    }

    public func audit(after: Int, limit: Int) async throws -> [AuditEntry] {
        state.withLock { Array($0.audit.filter { $0.sequence > after }.prefix(max(0, limit))) }
    }

    // MARK: Coding

    /// `value` as it reads back from its stored JSON.
    private static func persisted<T: Codable>(_ value: T) throws -> T {
        let data = try JSONCoding.encoder().encode(value)
        do {
            return try JSONCoding.decoder().decode(T.self, from: data)
        } catch {
            throw StoreError.corrupt("\(T.self) does not read back from its JSON: \(describeDecodingError(error))")
        }
    }
}
