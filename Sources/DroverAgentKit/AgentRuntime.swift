import Foundation

/// Runs a Drover process agent: reads the node's JSON Lines on stdin, calls your handler
/// for every task and writes the answers to stdout (docs/agent-protocol.md).
///
/// ```swift
/// import DroverAgentKit
///
/// await AgentRuntime.run { context, task in
///     let count = (context.state?["count"]?.intValue ?? 0) + 1
///     context.checkpoint(["count": .int(count)])
///     return ["echo": task.input, "count": .int(count)]
/// }
/// ```
///
/// The handler's return value is the task's output; a thrown error answers the task with
/// an error (`AgentTaskError` carries a message of your own). Write nothing else to stdout
/// (use `context.log`); stderr goes to the node's log.
public enum AgentRuntime {
    /// Handles one task.
    public typealias Handler = @Sendable (AgentContext, AgentTask) async throws -> AgentJSON

    /// Runs until the node sends `shutdown` or closes stdin; then waits for the tasks still
    /// running, calls `onShutdown` and returns (end the program then).
    ///
    /// - Parameters:
    ///   - maxConcurrentTasks: tasks handled at once (1: one after the other, in order).
    ///   - onShutdown: last words, e.g. a final checkpoint.
    ///   - handler: answers one task.
    public static func run(
        maxConcurrentTasks: Int = 1,
        onShutdown: (@Sendable (AgentContext) async -> Void)? = nil,
        _ handler: @escaping Handler
    ) async {
        let output = LineOutput()
        var context = AgentContext(agentID: "unknown", agentType: "unknown", generation: 0, config: .null, state: nil, output: output)
        let limit = max(1, maxConcurrentTasks)
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            reading: for await line in standardInputLines() {
                guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
                guard let message = try? AgentJSON(parsing: line), let type = message["type"]?.stringValue else {
                    context.log("ignored a line that is not a protocol message: \(line.prefix(200))", level: .warning)
                    continue
                }
                switch type {
                case "init":
                    context = AgentContext(
                        agentID: message["agent_id"]?.stringValue ?? "unknown",
                        agentType: message["agent_type"]?.stringValue ?? "unknown",
                        generation: message["generation"]?.intValue ?? 0,
                        config: message["config"] ?? .null,
                        state: message["state"] == .null ? nil : message["state"],
                        output: output
                    )
                case "task":
                    guard let id = message["task_id"]?.stringValue else {
                        context.log("ignored a task line without task_id", level: .warning)
                        continue
                    }
                    let task = AgentTask(
                        id: id, input: message["input"] ?? .null, attempt: message["attempt"]?.intValue ?? 1,
                        timeoutSeconds: message["timeout_s"]?.doubleValue
                    )
                    if running >= limit {
                        await group.next()
                        running -= 1
                    }
                    running += 1
                    let taskContext = context
                    group.addTask { await perform(task, context: taskContext, handler: handler, output: output) }
                case "shutdown":
                    break reading
                default:
                    context.log("ignored a line of unknown type '\(type.prefix(40))'", level: .debug)
                }
            }
            await group.waitForAll()
        }
        if let onShutdown { await onShutdown(context) }
    }

    private static func perform(_ task: AgentTask, context: AgentContext, handler: Handler, output: LineOutput) async {
        do {
            let result = try await handler(context, task)
            output.send(["type": "result", "task_id": .string(task.id), "output": result])
        } catch {
            output.send(["type": "error", "task_id": .string(task.id), "error": .string(String(describing: error))])
        }
    }

    /// Lines of stdin, read on a thread of their own (reading blocks).
    private static func standardInputLines() -> AsyncStream<String> {
        let (lines, continuation) = AsyncStream.makeStream(of: String.self)
        let reader = Thread {
            while let line = readLine(strippingNewline: true) {
                continuation.yield(line)
            }
            continuation.finish()
        }
        reader.name = "drover-agent-stdin"
        reader.start()
        return lines
    }
}
