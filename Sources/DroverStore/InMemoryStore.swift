import DroverCore
import Foundation
import Synchronization

/// A `Store` that keeps everything in memory: for unit tests and `memory:` runs.
public final class InMemoryStore: Store {
    private struct State {
        var meta: [String: String] = [:]
        var nodes: [String: NodeRecord] = [:]
        var agents: [String: AgentRecord] = [:]
        var tasks: [String: TaskRecord] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    public func migrate() async throws {}

    public func metaValue(_ key: String) async throws -> String? { state.withLock { $0.meta[key] } }

    public func setMetaValue(_ key: String, _ value: String) async throws { state.withLock { $0.meta[key] = value } }

    public func upsertNode(_ node: NodeRecord) async throws { state.withLock { $0.nodes[node.id] = node } }

    public func node(id: String) async throws -> NodeRecord? { state.withLock { $0.nodes[id] } }

    public func nodes() async throws -> [NodeRecord] { state.withLock { $0.nodes.values.sorted { $0.id < $1.id } } }

    public func deleteNode(id: String) async throws -> Bool { state.withLock { $0.nodes.removeValue(forKey: id) != nil } }

    public func upsertAgent(_ agent: AgentRecord) async throws { state.withLock { $0.agents[agent.id] = agent } }

    public func agent(id: String) async throws -> AgentRecord? { state.withLock { $0.agents[id] } }

    public func agents() async throws -> [AgentRecord] {
        state.withLock { $0.agents.values.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) } }
    }

    public func deleteAgent(id: String) async throws -> Bool { state.withLock { $0.agents.removeValue(forKey: id) != nil } }

    public func insertTask(_ task: TaskRecord) async throws {
        try state.withLock { state in
            guard state.tasks[task.id] == nil else { throw StoreError.duplicate(task.id) }
            state.tasks[task.id] = task
        }
    }

    public func updateOpenTask(_ task: TaskRecord) async throws -> Bool {
        state.withLock { state in
            guard let current = state.tasks[task.id], !current.status.isFinal else { return false }
            state.tasks[task.id] = task
            return true
        }
    }

    public func task(id: String) async throws -> TaskRecord? { state.withLock { $0.tasks[id] } }

    public func openTasks() async throws -> [TaskRecord] {
        state.withLock { $0.tasks.values.filter { !$0.status.isFinal }.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) } }
    }

    public func tasks(agentID: String, limit: Int) async throws -> [TaskRecord] {
        state.withLock { state in
            Array(state.tasks.values.filter { $0.agentID == agentID }.sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }.prefix(limit))
        }
    }
}
