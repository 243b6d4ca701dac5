import DroverCore
import Foundation
import Logging

/// What a driver needs to start one copy of an agent.
struct AgentLaunch: Sendable, Hashable {
    var agentID: String
    var agentType: String
    var generation: Int
    var config: JSONValue
    /// The last checkpointed state, given back to the agent.
    var state: JSONValue?
}

/// One task as an agent sees it.
struct AgentTask: Sendable, Hashable {
    var taskID: String
    var input: JSONValue
    var attempt: Int
    var timeoutSeconds: Double
    /// The workflow run, step and step attempt that sent the task, if any.
    var workflow: WorkflowTaskContext? = nil
}

/// How one task ended.
enum TaskOutcome: Sendable, Hashable {
    case success(JSONValue)
    case failure(String)
}

/// Something an agent says on its own, outside a task's answer.
enum AgentEvent: Sendable, Hashable {
    /// Keep this state; give it back when the agent starts again.
    case checkpoint(JSONValue)
    /// A free-form message for the manager.
    case message(JSONValue)
}

/// A running copy of an agent, made by an `AgentDriver`.
protocol AgentInstance: Sendable {
    /// The operating-system process id, for process agents.
    var pid: Int32? { get }

    /// Runs for as long as the agent lives, passing on what it says; returns why it ended
    /// (for instance "agent process exited with status 1"). Called once, right after start.
    func monitor(_ onEvent: @escaping @Sendable (AgentEvent) async -> Void) async -> String

    /// Runs one task. Cancelling the calling task abandons it with a failure.
    func perform(_ task: AgentTask) async -> TaskOutcome

    /// Stops the agent and waits until it is gone; `monitor` then returns.
    func stop() async
}

/// Starts agents of one driver kind.
protocol AgentDriver: Sendable {
    func start(_ launch: AgentLaunch, entry: AgentTypeEntry, logger: Logger) async throws -> any AgentInstance
}

/// The drivers of a node, by kind.
struct AgentDrivers: Sendable {
    var builtin: any AgentDriver = BuiltinDriver()
    var process: any AgentDriver = ProcessDriver()
    var http: any AgentDriver = HTTPDriver()

    func driver(for kind: AgentDriverKind) -> any AgentDriver {
        switch kind {
        case .builtin: return builtin
        case .process: return process
        case .http: return http
        }
    }
}

/// A driver could not start an agent.
struct AgentStartError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
