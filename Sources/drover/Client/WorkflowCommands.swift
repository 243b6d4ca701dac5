import ArgumentParser
import DroverClient
import DroverCore
import Foundation

/// `drover workflow ...`: register definitions, start runs, follow, signal and cancel them.
struct WorkflowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workflow", abstract: "Durable workflows: apply, run, status, history, signal, cancel.",
        subcommands: [
            WorkflowApplyCommand.self, WorkflowRunCommand.self, WorkflowStatusCommand.self, WorkflowHistoryCommand.self,
            WorkflowSignalCommand.self, WorkflowCancelCommand.self, WorkflowRunsCommand.self, WorkflowListCommand.self,
        ]
    )
}

/// `drover workflow apply FILE`.
struct WorkflowApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "apply", abstract: "Register or update a workflow from a YAML or JSON file.")
    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "The definition (.yaml, .yml or .json).")
    var file: String

    func run() async throws {
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw ValidationError("cannot read \(file): \(error.localizedDescription)")
        }
        let yaml = !file.lowercased().hasSuffix(".json")
        try await connection.perform {
            let record = try await connection.client.applyWorkflow(text: text, yaml: yaml)
            if connection.json { return try connection.printJSON(record) }
            print("workflow \(record.name) version \(record.version) (\(record.definition.steps.count) steps)")
        }
    }
}

/// `drover workflow run NAME --input JSON [--watch]`.
struct WorkflowRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Start a run; --watch follows its steps until it ends.")
    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "Workflow name.")
    var name: String

    @Option(help: "The run input, a JSON object.")
    var input = "{}"

    @Option(help: "An id for the run (starting the same id twice returns the first run).")
    var runID: String?

    @Flag(help: "Show each step's progress until the run ends; exit 1 unless it completed.")
    var watch = false

    func run() async throws {
        let value = try parseJSONFlag(input, flag: "--input")
        try await connection.perform {
            let run = try await connection.client.startRun(workflow: name, input: value, runID: runID)
            guard watch else {
                if connection.json { return try connection.printJSON(run) }
                return print("run \(run.id) started (workflow \(run.workflow) v\(run.version))")
            }
            if !connection.json { print("run \(run.id) started (workflow \(run.workflow) v\(run.version))") }
            let final = try await RunWatcher(client: connection.client, quiet: connection.json).follow(runID: run.id)
            if connection.json { try connection.printJSON(final) } else { RunPrinter.summary(final) }
            if final.status != .completed { throw ExitCode(1) }
        }
    }
}

/// `drover workflow status RUN_ID [--watch]`.
struct WorkflowStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "A run's status, state and steps.")
    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "Run id.")
    var runID: String

    @Flag(help: "Follow the run until it ends.")
    var watch = false

    @Flag(help: "Draw when each step ran, relative to the run's start.")
    var timeline = false

    func run() async throws {
        try await connection.perform {
            let view = watch
                ? try await RunWatcher(client: connection.client, quiet: connection.json).follow(runID: runID)
                : try await connection.client.run(id: runID)
            if connection.json { return try connection.printJSON(view) }
            RunPrinter.steps(view)
            if timeline { RunPrinter.timeline(view) }
            RunPrinter.summary(view)
        }
    }
}

/// `drover workflow history RUN_ID`.
struct WorkflowHistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "history", abstract: "Every recorded transition of a run, oldest first.")
    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "Run id.")
    var runID: String

    @Option(help: "Only events after this sequence number.")
    var after = 0

    @Option(help: "Most events to show.")
    var limit = 1_000

    func run() async throws {
        try await connection.perform {
            let events = try await connection.client.history(runID: runID, after: after, limit: limit)
            if connection.json { return try connection.printJSON(events) }
            var table = TableFormatter(headers: ["SEQ", "AT", "EVENT", "STEP", "ATTEMPT", "DETAIL"])
            for event in events {
                let step = event.step.map { name in event.item.map { "\(name)[\($0)]" } ?? name } ?? "-"
                let detail = event.error ?? event.next.map { "next: \($0)" } ?? event.signal.map { "signal: \($0)" }
                    ?? event.agentID.map { "agent: \($0)" } ?? event.childRunID ?? ""
                table.append([
                    "\(event.sequence)", JSONCoding.formatDate(event.at), event.kind.rawValue, step, event.attempt.map { "\($0)" } ?? "-",
                    String(detail.prefix(80)),
                ])
            }
            print(table.render())
        }
    }
}

/// `drover workflow signal RUN_ID NAME [--payload JSON]`.
struct WorkflowSignalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "signal", abstract: "Send a named signal (e.g. approve) to a run.")
    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "Run id.")
    var runID: String

    @Argument(help: "Signal name.")
    var name: String

    @Option(help: "The signal's payload, JSON.")
    var payload = "null"

    func run() async throws {
        let value = try parseJSONFlag(payload, flag: "--payload")
        try await connection.perform {
            let view = try await connection.client.signal(runID: runID, name: name, payload: value)
            if connection.json { return try connection.printJSON(view) }
            print("signal \(name) sent to run \(runID) (\(view.status.rawValue))")
        }
    }
}

/// `drover workflow cancel RUN_ID`.
struct WorkflowCancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel a run.")
    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "Run id.")
    var runID: String

    func run() async throws {
        try await connection.perform {
            let view = try await connection.client.cancelRun(id: runID)
            if connection.json { return try connection.printJSON(view) }
            print("run \(runID) is \(view.status.rawValue)")
        }
    }
}

/// `drover workflow runs [--workflow NAME] [--status S] [--limit N] [--before RUN_ID]`.
struct WorkflowRunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runs", abstract: "List runs, newest first.")
    @OptionGroup var connection: ConnectionOptions

    @Option(help: "Only runs of this workflow.")
    var workflow: String?

    @Option(help: "Only runs in this status (running, completed, failed, cancelled).")
    var status: String?

    @Option(help: "Most runs to list.")
    var limit = 50

    @Option(help: "Only runs older than this run (the next page starts after the last run listed).")
    var before: String?

    func run() async throws {
        var parsed: WorkflowRunStatus?
        if let status {
            guard let value = WorkflowRunStatus(rawValue: status) else {
                throw ValidationError("--status must be one of \(WorkflowRunStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            parsed = value
        }
        try await connection.perform {
            let runs = try await connection.client.runs(workflow: workflow, status: parsed, limit: limit, before: before)
            if connection.json { return try connection.printJSON(runs) }
            var table = TableFormatter(headers: ["RUN", "WORKFLOW", "VERSION", "STATUS", "CREATED", "ERROR"])
            for run in runs {
                table.append([run.id, run.workflow, "\(run.version)", run.status.rawValue, JSONCoding.formatDate(run.createdAt), String((run.error ?? "").prefix(60))])
            }
            print(table.render())
            if runs.count == limit, let last = runs.last { print("more: drover workflow runs --before \(last.id)") }
        }
    }
}

/// `drover workflow list`.
struct WorkflowListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List registered workflows.")
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        try await connection.perform {
            let workflows = try await connection.client.workflows()
            if connection.json { return try connection.printJSON(workflows) }
            var table = TableFormatter(headers: ["NAME", "VERSION", "STEPS", "REGISTERED"])
            for workflow in workflows {
                table.append([workflow.name, "\(workflow.version)", "\(workflow.definition.steps.count)", JSONCoding.formatDate(workflow.createdAt)])
            }
            print(table.render())
        }
    }
}
