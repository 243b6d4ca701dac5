import ArgumentParser
import DroverClient
import DroverCore
import Foundation

/// `drover task AGENT_ID --input JSON [--wait]`: send one task.
struct TaskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "task", abstract: "Send a task to an agent.")
    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "Agent id.")
    var agentID: String

    @Option(help: "Task input as JSON (any JSON value).")
    var input: String = "{}"

    @Flag(help: "Wait for the result.")
    var wait = false

    @Option(help: "Seconds the task may take.")
    var timeout: Double?

    func run() async throws {
        let value = try parseJSONFlag(input, flag: "--input")
        if let timeout, timeout <= 0 { throw ValidationError("--timeout must be positive") }
        try await connection.perform {
            let task = try await connection.client.submitTask(agentID: agentID, input: value, timeoutSeconds: timeout, wait: wait)
            try printTask(task, connection: connection)
            if task.status == .failed || task.status == .timedOut { throw ExitCode(2) }
        }
    }
}

/// `drover task-status TASK_ID [--wait]`.
struct TaskStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "task-status", abstract: "Show a task and its result.")
    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "Task id.")
    var taskID: String

    @Flag(help: "Wait until the task is final.")
    var wait = false

    func run() async throws {
        try await connection.perform {
            try printTask(try await connection.client.task(id: taskID, wait: wait), connection: connection)
        }
    }
}

private func printTask(_ task: TaskRecord, connection: ConnectionOptions) throws {
    if connection.json { return try connection.printJSON(task) }
    print("task \(task.id): \(task.status.rawValue) (agent \(task.agentID), attempt \(task.attempt))")
    if let output = task.output { print(String(decoding: try JSONCoding.encoder().encode(output), as: UTF8.self)) }
    if let error = task.error { print("error: \(error)") }
}
