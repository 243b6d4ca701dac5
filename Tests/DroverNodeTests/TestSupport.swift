import DroverCore
import Foundation
import Logging
import Testing

@testable import DroverNode

/// A logger that prints nothing.
let quietLogger = Logger(label: "drover.node.tests", factory: { _ in SwiftLogNoOpLogHandler() })

/// A restart policy with tiny delays so crash tests run fast.
func quickPolicy(maxRestarts: Int) -> RestartPolicy {
    RestartPolicy(backoff: Backoff(base: .milliseconds(10), factor: 2, cap: .milliseconds(50), jitter: .none), maxRestarts: maxRestarts)
}

struct TimedOut: Error, CustomStringConvertible {
    var description: String
}

/// Collects what the supervisor emits; tests wait for the frame they expect.
final class EventRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [NodeMessage] = []

    func append(_ message: NodeMessage) {
        lock.withLock { messages.append(message) }
    }

    var all: [NodeMessage] { lock.withLock { messages } }

    var results: [NodeProtocol.TaskResult] {
        all.compactMap { if case .taskResult(let result) = $0 { return result } else { return nil } }
    }

    var statuses: [NodeProtocol.AgentStatusReport] {
        all.compactMap { if case .agentStatus(let report) = $0 { return report } else { return nil } }
    }

    var checkpoints: [NodeProtocol.AgentCheckpoint] {
        all.compactMap { if case .agentCheckpoint(let checkpoint) = $0 { return checkpoint } else { return nil } }
    }

    /// Waits until `condition` holds over everything recorded, or fails after `timeout`.
    func wait(_ what: String, timeout: Duration = .seconds(10), until condition: (EventRecorder) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition(self) {
            guard ContinuousClock.now < deadline else { throw TimedOut(description: "timed out waiting for \(what); saw \(all)") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Waits for the result of task `taskID` (the `occurrence`-th one).
    @discardableResult
    func result(_ taskID: String, occurrence: Int = 1, timeout: Duration = .seconds(10)) async throws -> NodeProtocol.TaskResult {
        try await wait("result of \(taskID)", timeout: timeout) { $0.results.filter { $0.taskID == taskID }.count >= occurrence }
        return results.filter { $0.taskID == taskID }[occurrence - 1]
    }

    /// Waits for a status report of `agentID` at `generation`.
    @discardableResult
    func status(
        _ agentID: String, generation: Int, _ status: AgentStatus, restarts: Int? = nil, timeout: Duration = .seconds(10)
    ) async throws -> NodeProtocol.AgentStatusReport {
        func matches(_ report: NodeProtocol.AgentStatusReport) -> Bool {
            report.agentID == agentID && report.generation == generation && report.status == status && (restarts == nil || report.restarts == restarts)
        }
        try await wait("\(agentID)@\(generation) \(status)", timeout: timeout) { $0.statuses.contains(where: matches) }
        return statuses.first(where: matches)!
    }
}

/// Runs a supervisor (and a recorder of its events) for the duration of `body`.
func withSupervisor(
    catalog: AgentCatalog = AgentCatalog(), policy: RestartPolicy = quickPolicy(maxRestarts: 2), maxAgents: Int = 50,
    drivers: AgentDrivers = AgentDrivers(),
    _ body: (AgentSupervisor, EventRecorder) async throws -> Void
) async throws {
    let supervisor = AgentSupervisor(catalog: catalog, restartPolicy: policy, maxAgents: maxAgents, drivers: drivers, logger: quietLogger)
    let recorder = EventRecorder()
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await supervisor.run() }
        group.addTask { for await event in supervisor.events { recorder.append(event) } }
        do {
            try await body(supervisor, recorder)
        } catch {
            group.cancelAll()
            throw error
        }
        group.cancelAll()
    }
}

func startMessage(_ agentID: String, type: String, generation: Int, config: JSONValue = [:], state: JSONValue? = nil) -> NodeProtocol.AgentStart {
    .init(agentID: agentID, agentType: type, generation: generation, config: config, state: state)
}

func taskMessage(_ taskID: String, agent: String, generation: Int, input: JSONValue = [:], timeout: Double = 10) -> NodeProtocol.TaskRun {
    .init(taskID: taskID, agentID: agent, generation: generation, input: input, attempt: 1, timeoutSeconds: timeout)
}

/// Writes an executable script to a temporary file and returns its path.
func writeScript(_ text: String, name: String = "agent") throws -> String {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("drover-node-tests-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let path = directory.appendingPathComponent(name).path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
    return path
}

/// The repository root (tests find the example agents there).
let repositoryRoot: String = {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
}()
