import DroverCore
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs any program as an agent: `/bin/sh -c "WATCHDOG; exec COMMAND"`, JSON Lines on
/// stdin/stdout (docs/agent-protocol.md), stderr lines into the node's log.
///
/// The agent inherits only its stdin, stdout and stderr. It must not outlive its node
/// unsupervised: when the node dies, the kernel closes the agent's stdin (the agent should
/// exit) and the node's end of a lifeline pipe; a watchdog in the agent's process group,
/// waiting for end of file on that pipe, then kills the whole group after `orphanGraceSeconds`.
struct ProcessDriver: AgentDriver {
    /// Environment variables of the node that agents never see.
    static let hiddenEnvironment: Set = ["DROVER_TOKEN", "DROVER_ADMIN_TOKEN"]
    /// Longest line read from an agent.
    static let maxLineBytes = 4 << 20
    /// How long an agent may outlive its node (or, for what is left of its process group,
    /// its own exit) before its process group is killed.
    static let orphanGraceSeconds = 5

    /// The `/bin/sh -c` script that runs `command` as an agent.
    ///
    /// Descriptor 3 is the lifeline's read end. A watchdog, started twice removed (so that it
    /// is no child of the agent, which never sees it in `wait`) and with 0, 1 and 2 on
    /// /dev/null (so that it never holds the agent's pipes open), blocks until end of file
    /// on 3, waits the grace, and sends SIGKILL to the agent's process group: the shell's
    /// pid (`$$`) is the group id and, after `exec`, the agent's pid. It ignores SIGTERM and
    /// the like, which the node sends to the group to stop the agent. The shell closes 3
    /// before it becomes the agent.
    static func script(command: String, graceSeconds: Int = orphanGraceSeconds) -> String {
        let watchdog = "trap '' HUP INT TERM; exec </dev/null >/dev/null 2>&1; while read -r _ <&3; do :; done; exec 3<&-; "
            + "sleep \(graceSeconds); kill -s KILL -- -$$"
        return "( ( \(watchdog) ) & ); exec 3<&-; exec \(command)"
    }

    init() {
        // A write to the stdin of an agent that has exited must fail with EPIPE, not kill the node.
        signal(SIGPIPE, SIG_IGN)
    }

    func start(_ launch: AgentLaunch, entry: AgentTypeEntry, logger: Logger) async throws -> any AgentInstance {
        guard let command = entry.command, !command.isEmpty else {
            throw AgentStartError("agent type '\(entry.name)' has no command")
        }
        var environment = ProcessInfo.processInfo.environment.filter { !Self.hiddenEnvironment.contains($0.key) }
        if environment["PYTHONUNBUFFERED"] == nil { environment["PYTHONUNBUFFERED"] = "1" }
        environment.merge(entry.env) { _, new in new }
        environment["DROVER_AGENT_ID"] = launch.agentID
        environment["DROVER_AGENT_TYPE"] = launch.agentType
        environment["DROVER_AGENT_GENERATION"] = String(launch.generation)
        return try ProcessAgentInstance.launch(command: command, environment: environment, launch: launch, logger: logger)
    }
}

/// One running agent process.
actor ProcessAgentInstance: AgentInstance {
    nonisolated let pid: Int32?
    private let child: ChildProcess
    private let writer: LineWriter
    private let lines: AsyncStream<String>
    private let exitSignal: ExitSignal
    private let logger: Logger
    private var pending: [String: CheckedContinuation<TaskOutcome, Never>] = [:]
    private var stopping = false
    private var endReason: String?

    private init(child: ChildProcess, writer: LineWriter, lines: AsyncStream<String>, exitSignal: ExitSignal, logger: Logger) {
        self.pid = child.pid
        self.child = child
        self.writer = writer
        self.lines = lines
        self.exitSignal = exitSignal
        self.logger = logger
    }

    /// Starts the process and sends it `init`.
    static func launch(command: String, environment: [String: String], launch: AgentLaunch, logger baseLogger: Logger) throws -> ProcessAgentInstance {
        var logger = baseLogger
        logger[metadataKey: "agent"] = "\(launch.agentID)"
        let child: ChildProcess
        do {
            child = try ChildProcess.spawn(
                executable: "/bin/sh", arguments: ["-c", ProcessDriver.script(command: command)], environment: environment, lifeline: true
            )
        } catch {
            throw AgentStartError("cannot start '\(command)': \(error)")
        }
        let exitSignal = ExitSignal()
        child.onExit { exit in
            // The agent is gone: its watchdog kills what is left of its process group after the grace, and ends.
            child.closeLifeline()
            exitSignal.set(exit)
        }
        let pid = child.pid
        let (lines, continuation) = AsyncStream.makeStream(of: String.self)
        let stdoutLogger = logger
        LineReader.start(
            fileDescriptor: child.stdout, name: "agent-\(launch.agentID)-stdout", maxLineBytes: ProcessDriver.maxLineBytes,
            onLine: { continuation.yield($0) },
            onOversized: { size in stdoutLogger.warning("agent wrote a line of \(size) bytes, over the \(ProcessDriver.maxLineBytes)-byte limit; dropped") },
            onEnd: { continuation.finish() }
        )
        let stderrLogger = logger
        LineReader.start(
            fileDescriptor: child.stderr, name: "agent-\(launch.agentID)-stderr", maxLineBytes: 64 * 1024,
            onLine: { line in stderrLogger.info("agent stderr: \(line)", metadata: ["pid": "\(pid)"]) },
            onEnd: {}
        )
        let writer = LineWriter(fileDescriptor: child.stdin, label: "agent-\(launch.agentID)-stdin")
        writer.send(AgentLineCodec.encode(.initialize(
            agentID: launch.agentID, agentType: launch.agentType, generation: launch.generation, config: launch.config, state: launch.state
        )))
        logger.info("agent process started", metadata: ["pid": "\(pid)", "command": "\(command)"])
        return ProcessAgentInstance(child: child, writer: writer, lines: lines, exitSignal: exitSignal, logger: logger)
    }

    nonisolated func monitor(_ onEvent: @escaping @Sendable (AgentEvent) async -> Void) async -> String {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await line in self.lines { await self.handle(line, onEvent: onEvent) }
            }
            group.addTask {
                // A grandchild may hold stdout open after the agent exited: stop reading soon after the exit.
                _ = await self.exitSignal.wait()
                try? await Task.sleep(for: .seconds(1))
            }
            await group.next()
            group.cancelAll()
        }
        let exit = await exitSignal.wait()
        return await finish(exit)
    }

    func perform(_ task: AgentTask) async -> TaskOutcome {
        if let endReason { return .failure(endReason) }
        guard !stopping else { return .failure("agent was stopped") }
        guard pending[task.taskID] == nil else { return .failure("task '\(task.taskID)' is already running on this agent") }
        let taskID = task.taskID
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<TaskOutcome, Never>) in
                guard !Task.isCancelled else {
                    continuation.resume(returning: .failure("task was cancelled"))
                    return
                }
                pending[taskID] = continuation
                writer.send(AgentLineCodec.encode(.task(
                    taskID: taskID, input: task.input, attempt: task.attempt, timeoutSeconds: task.timeoutSeconds, workflow: task.workflow
                )))
            }
        } onCancel: {
            Task { await self.resolve(taskID, with: .failure("task was cancelled")) }
        }
    }

    func stop() async {
        if !stopping {
            stopping = true
            writer.send(AgentLineCodec.encode(.shutdown))
            writer.close()
        }
        if await exitSignal.wait(timeout: .seconds(2)) { return }
        logger.notice("agent did not exit within 2 s of shutdown; sending SIGTERM", metadata: ["pid": "\(child.pid)"])
        child.signal(SIGTERM)
        if await exitSignal.wait(timeout: .seconds(3)) { return }
        logger.warning("agent did not exit within 5 s; sending SIGKILL", metadata: ["pid": "\(child.pid)"])
        child.signal(SIGKILL)
        _ = await exitSignal.wait(timeout: .seconds(2))
    }

    // MARK: - Lines from the agent

    private func handle(_ line: String, onEvent: @Sendable (AgentEvent) async -> Void) async {
        switch AgentLineCodec.decode(line) {
        case .line(.result(let taskID, let output)):
            resolve(taskID, with: .success(output))
        case .line(.error(let taskID, let message)):
            resolve(taskID, with: .failure(message))
        case .line(.checkpoint(let state)):
            await onEvent(.checkpoint(state))
        case .line(.message(let payload)):
            await onEvent(.message(payload))
        case .line(.log(let level, let message)):
            logger.log(level: level, "\(message)")
        case .line(.initialize), .line(.task), .line(.shutdown):
            logger.warning("agent sent a line only the node may send; ignored", metadata: ["line": "\(line.prefix(200))"])
        case .text(let text):
            guard !text.isEmpty else { return }
            logger.info("agent stdout: \(text.prefix(2_000))")
        case .invalid(let reason):
            logger.warning("agent sent a line that breaks the protocol: \(reason)", metadata: ["line": "\(line.prefix(200))"])
        }
    }

    private func resolve(_ taskID: String, with outcome: TaskOutcome) {
        guard let continuation = pending.removeValue(forKey: taskID) else {
            logger.debug("answer for a task that is not running here (late or duplicate); ignored", metadata: ["task": "\(taskID)"])
            return
        }
        continuation.resume(returning: outcome)
    }

    /// Fails every task still waiting and returns why the agent ended.
    private func finish(_ exit: ProcessExit) -> String {
        let reason = stopping ? "agent was stopped" : exit.description
        endReason = reason
        let waiting = pending
        pending.removeAll()
        for continuation in waiting.values { continuation.resume(returning: .failure(reason)) }
        if !stopping {
            logger.warning("\(exit.description)", metadata: ["pid": "\(pid.map(String.init) ?? "-")", "tasks_failed": "\(waiting.count)"])
        } else {
            logger.info("agent process ended", metadata: ["pid": "\(pid.map(String.init) ?? "-")", "exit": "\(exit)"])
        }
        return exit.description
    }
}
