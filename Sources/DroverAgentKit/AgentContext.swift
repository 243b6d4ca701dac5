import Foundation

/// Who the agent is and how it talks back to its node. Safe to use from any task.
public final class AgentContext: @unchecked Sendable {
    /// The agent's id in the cluster.
    public let agentID: String
    /// Its agent type (the catalog name).
    public let agentType: String
    /// The placement generation this copy runs at.
    public let generation: Int
    /// The config given at deploy time (`null` when none).
    public let config: AgentJSON

    private let lock = NSLock()
    private var currentState: AgentJSON?
    private let output: LineOutput

    init(agentID: String, agentType: String, generation: Int, config: AgentJSON, state: AgentJSON?, output: LineOutput) {
        self.agentID = agentID
        self.agentType = agentType
        self.generation = generation
        self.config = config
        self.currentState = state
        self.output = output
    }

    /// The last state checkpointed: restored from the node at start, then what `checkpoint` set.
    public var state: AgentJSON? {
        lock.withLock { currentState }
    }

    /// Asks the node to keep `state`; it is given back when the agent starts again, on this
    /// node or another. Checkpoint whenever the state changes.
    public func checkpoint(_ state: AgentJSON) {
        lock.withLock { currentState = state }
        output.send(["type": "checkpoint", "state": state])
    }

    /// Writes to the node's log (levels: trace, debug, info, notice, warning, error, critical).
    public func log(_ message: String, level: AgentLogLevel = .info) {
        output.send(["type": "log", "level": .string(level.rawValue), "message": .string(message)])
    }

    /// Sends a free-form message to the manager.
    public func send(_ payload: AgentJSON) {
        output.send(["type": "message", "payload": payload])
    }
}

/// Log levels of `AgentContext.log`.
public enum AgentLogLevel: String, Sendable, CaseIterable {
    case trace, debug, info, notice, warning, error, critical
}

/// One task as the handler sees it.
public struct AgentTask: Sendable, Hashable {
    /// The task id: the idempotency key. The same id may come again after a failure.
    public let id: String
    public let input: AgentJSON
    /// 1 on the first delivery, higher on redeliveries.
    public let attempt: Int
    /// Seconds the node waits for the answer, when it says.
    public let timeoutSeconds: Double?

    public init(id: String, input: AgentJSON, attempt: Int = 1, timeoutSeconds: Double? = nil) {
        self.id = id
        self.input = input
        self.attempt = attempt
        self.timeoutSeconds = timeoutSeconds
    }
}

/// Throw this from a handler to answer a task with an error message of your own.
public struct AgentTaskError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Writes protocol lines to stdout, one `write` per line, from any thread.
final class LineOutput: @unchecked Sendable {
    private let lock = NSLock()
    private let handle: FileHandle

    init(handle: FileHandle = .standardOutput) {
        self.handle = handle
    }

    func send(_ line: AgentJSON) {
        let data = Data((line.jsonText + "\n").utf8)
        lock.withLock {
            // A node that went away closes the pipe; there is no one left to tell.
            try? handle.write(contentsOf: data)
        }
    }
}
