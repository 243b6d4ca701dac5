import DroverCore
import Foundation

/// Where the manager keeps desired state and history: nodes, agents, tasks and settings.
///
/// One protocol, one implementation per backend (`SQLiteStore`, `InMemoryStore`; PostgreSQL
/// next), and one conformance suite every backend passes (`StoreConformance` in the tests).
/// Every method is atomic on its own; `completeTask` is a compare-and-set.
public protocol Store: Sendable {
    /// Creates or upgrades the schema. Safe to call on every start.
    func migrate() async throws

    // MARK: Settings

    /// A stored setting (such as the generated admin token), or `nil`.
    func metaValue(_ key: String) async throws -> String?
    func setMetaValue(_ key: String, _ value: String) async throws

    // MARK: Nodes

    func upsertNode(_ node: NodeRecord) async throws
    func node(id: String) async throws -> NodeRecord?
    /// All nodes, ordered by id.
    func nodes() async throws -> [NodeRecord]
    /// Removes a node; `false` when there was none.
    @discardableResult func deleteNode(id: String) async throws -> Bool

    // MARK: Agents

    func upsertAgent(_ agent: AgentRecord) async throws
    func agent(id: String) async throws -> AgentRecord?
    /// All agents, ordered by creation time then id.
    func agents() async throws -> [AgentRecord]
    @discardableResult func deleteAgent(id: String) async throws -> Bool

    // MARK: Tasks

    /// Stores a new task; throws `StoreError.duplicate` if the id exists.
    func insertTask(_ task: TaskRecord) async throws
    /// Overwrites a task that is not final yet; returns `false` (and writes nothing) if it is final.
    @discardableResult func updateOpenTask(_ task: TaskRecord) async throws -> Bool
    func task(id: String) async throws -> TaskRecord?
    /// Tasks that are `queued` or `dispatched`, oldest first.
    func openTasks() async throws -> [TaskRecord]
    /// The newest `limit` tasks of one agent, newest first.
    func tasks(agentID: String, limit: Int) async throws -> [TaskRecord]
}

/// Errors a store reports.
public enum StoreError: Error, Equatable, CustomStringConvertible {
    case duplicate(String)
    case corrupt(String)
    case unavailable(String)

    public var description: String {
        switch self {
        case .duplicate(let id): return "a record with id '\(id)' already exists"
        case .corrupt(let detail): return "stored record could not be read: \(detail)"
        case .unavailable(let detail): return "store unavailable: \(detail)"
        }
    }
}
