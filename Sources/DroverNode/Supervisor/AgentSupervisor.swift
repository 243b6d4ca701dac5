import DroverCore
import Foundation
import Logging
import ServiceLifecycle

/// Runs the agents the manager places on this node, fenced by generation (DESIGN.md,
/// contract 2):
///
/// - `agent.start` with a newer generation replaces the running copy (stopping it first);
///   the same generation of a starting or running copy is a no-op; an older one is ignored.
/// - `agent.stop` stops and forgets a copy of the same or an older generation.
/// - `task.run` runs only on the current generation; anything else is answered
///   `rejected`. Results are remembered by task id, so a duplicate is answered from the
///   cache; a duplicate of a task still running is ignored.
///
/// Crashed agents restart with backoff and their last checkpoint, up to the policy's limit.
/// Everything the manager must hear comes out of `events`.
///
/// As a `Service`, `run()` hosts all of the supervisor's work (agent monitors, tasks,
/// restart timers); on graceful shutdown it stops every agent.
actor AgentSupervisor: Service {
    /// Frames for the manager: `agent.status`, `agent.checkpoint`, `message`, `task.result`.
    nonisolated let events: AsyncStream<NodeMessage>
    private let eventSink: AsyncStream<NodeMessage>.Continuation
    private let jobs: AsyncStream<@Sendable () async -> Void>
    private let jobSink: AsyncStream<@Sendable () async -> Void>.Continuation

    let catalog: AgentCatalog
    let policy: RestartPolicy
    let maxAgents: Int
    let drivers: AgentDrivers
    let logger: Logger
    let metrics = NodeMetrics()

    var agents: [String: SupervisedAgent] = [:]
    /// Tasks running now, by `NodeProtocol.deliveryKey` (agent and task id).
    var inFlight: Set<String> = []
    var results: ResultCache
    private var waiters: [String: [UUID: CheckedContinuation<Void, Never>]] = [:]
    private var serial = 0
    var shuttingDown = false

    init(
        catalog: AgentCatalog, restartPolicy: RestartPolicy = RestartPolicy(), maxAgents: Int = 50,
        resultCacheSize: Int = 10_000, drivers: AgentDrivers = AgentDrivers(), logger: Logger
    ) {
        self.catalog = catalog
        self.policy = restartPolicy
        self.maxAgents = maxAgents
        self.drivers = drivers
        self.logger = logger
        self.results = ResultCache(capacity: resultCacheSize)
        (events, eventSink) = AsyncStream.makeStream(of: NodeMessage.self)
        (jobs, jobSink) = AsyncStream.makeStream(of: (@Sendable () async -> Void).self)
    }

    // MARK: - Service

    func run() async {
        await withDiscardingTaskGroup { group in
            for await job in jobs.cancelOnGracefulShutdown() {
                group.addTask(operation: job)
            }
            await shutdownAgents()
            group.cancelAll()
        }
        // Nothing more to report: the manager link sends what is left and closes.
        eventSink.finish()
    }

    // MARK: - Reports

    /// What the node runs, for `hello` and heartbeats.
    func runningAgents() -> [NodeProtocol.RunningAgent] {
        agents.values.map(\.running).sorted { $0.agentID < $1.agentID }
    }

    /// Every agent with its counters, for the local API.
    func summaries() -> [AgentSummary] {
        agents.values.map(\.summary).sorted { $0.agentID < $1.agentID }
    }

    // MARK: - agent.start / agent.stop

    func start(_ request: NodeProtocol.AgentStart) {
        let id = request.agentID
        guard !shuttingDown else {
            logger.notice("agent.start ignored: the node is shutting down", metadata: ["agent": "\(id)"])
            return
        }
        let previous = agents[id]
        if let previous {
            if request.generation < previous.generation {
                logger.notice("agent.start for an older generation ignored", metadata: [
                    "agent": "\(id)", "generation": "\(request.generation)", "running": "\(previous.generation)",
                ])
                return
            }
            if request.generation == previous.generation, previous.status == .starting || previous.status == .running {
                emitStatus(previous)
                return
            }
        }
        serial += 1
        let entry = catalog.entry(named: request.agentType)
        var record = SupervisedAgent(
            agentID: id, agentType: request.agentType, driver: entry?.driver, generation: request.generation,
            config: request.config, state: request.state, status: .starting, launchSerial: serial
        )
        let active = agents.values.filter { $0.agentID != id && $0.status != .failed }.count
        if entry == nil {
            record.status = .failed
            let offered = catalog.entries.keys.sorted().joined(separator: ", ")
            record.lastError = "agent type '\(request.agentType)' is not in this node's catalog (it offers: \(offered))"
        } else if previous == nil, active >= maxAgents {
            record.status = .failed
            record.lastError = "this node already runs its limit of \(maxAgents) agents"
        }
        agents[id] = record
        wake(id)
        recordGauges()
        let old = previous?.instance
        if old != nil {
            logger.info("replacing agent with a newer generation", metadata: [
                "agent": "\(id)", "generation": "\(request.generation)", "previous": "\(previous?.generation ?? 0)",
            ])
        }
        if record.status == .failed {
            logger.error("cannot start agent: \(record.lastError ?? "")", metadata: ["agent": "\(id)"])
            emitStatus(record, error: record.lastError)
            if let old { spawn { await old.stop() } }
            return
        }
        logger.info("starting agent", metadata: ["agent": "\(id)", "type": "\(request.agentType)", "generation": "\(request.generation)"])
        emitStatus(record)
        let launchSerial = record.launchSerial
        spawn {
            // The old copy is gone before the new one starts.
            if let old { await old.stop() }
            await self.launch(id, serial: launchSerial)
        }
    }

    func stop(_ request: NodeProtocol.AgentStop) {
        let id = request.agentID
        guard let record = agents[id] else {
            logger.debug("agent.stop for an agent not running here", metadata: ["agent": "\(id)"])
            return
        }
        guard request.generation >= record.generation else {
            logger.notice("agent.stop for an older generation ignored", metadata: [
                "agent": "\(id)", "generation": "\(request.generation)", "running": "\(record.generation)",
            ])
            return
        }
        agents[id] = nil
        wake(id)
        recordGauges()
        logger.info("stopping agent", metadata: ["agent": "\(id)", "generation": "\(record.generation)", "reason": "\(request.reason)"])
        let instance = record.instance
        let stopped = {
            var copy = record
            copy.status = .stopped
            return copy
        }()
        spawn {
            await instance?.stop()
            await self.emitStatus(stopped)
        }
    }

    // MARK: - Launching and crashes

    /// Starts launch `serial` of agent `id`, if it is still the one wanted.
    private func launch(_ id: String, serial launchSerial: Int) async {
        guard !shuttingDown, let record = agents[id], record.launchSerial == launchSerial, record.status == .starting,
            let entry = catalog.entry(named: record.agentType)
        else { return }
        let launch = AgentLaunch(
            agentID: id, agentType: record.agentType, generation: record.generation, config: record.config, state: record.state
        )
        let instance: any AgentInstance
        do {
            instance = try await drivers.driver(for: entry.driver).start(launch, entry: entry, logger: logger)
        } catch {
            instanceEnded(id, serial: launchSerial, reason: "cannot start the agent: \(error)")
            return
        }
        guard !shuttingDown, var current = agents[id], current.launchSerial == launchSerial, current.status == .starting else {
            spawn { await instance.stop() }
            return
        }
        current.instance = instance
        current.status = .running
        current.pid = instance.pid
        current.startedAt = Date()
        current.runningSince = .now
        agents[id] = current
        wake(id)
        recordGauges()
        emitStatus(current)
        spawn {
            let reason = await instance.monitor { event in await self.agentSaid(event, agentID: id, serial: launchSerial) }
            await self.instanceEnded(id, serial: launchSerial, reason: reason)
        }
    }

    /// A checkpoint or message from launch `serial` of agent `id`.
    private func agentSaid(_ event: AgentEvent, agentID id: String, serial launchSerial: Int) {
        guard var record = agents[id], record.launchSerial == launchSerial else { return }
        switch event {
        case .checkpoint(let state):
            record.state = state
            agents[id] = record
            eventSink.yield(.agentCheckpoint(.init(agentID: id, generation: record.generation, state: state)))
        case .message(let payload):
            eventSink.yield(.message(.init(agentID: id, generation: record.generation, payload: payload)))
        }
    }

    /// Launch `serial` of agent `id` ended without being asked to: restart it with backoff, or give up.
    private func instanceEnded(_ id: String, serial launchSerial: Int, reason: String) {
        guard !shuttingDown, var record = agents[id], record.launchSerial == launchSerial,
            record.status == .running || record.status == .starting
        else { return }
        if let since = record.runningSince, since.duration(to: .now) >= policy.resetAfter {
            record.crashesInRow = 0
        }
        record.instance = nil
        record.pid = nil
        record.runningSince = nil
        record.lastError = reason
        if record.crashesInRow >= policy.maxRestarts {
            record.status = .failed
            agents[id] = record
            wake(id)
            recordGauges()
            let error = "\(reason); gave up after \(record.crashesInRow) restarts in a row"
            logger.error("agent failed: \(error)", metadata: ["agent": "\(id)", "generation": "\(record.generation)"])
            emitStatus(record, error: error)
            return
        }
        let delay = policy.backoff.delay(attempt: record.crashesInRow)
        record.crashesInRow += 1
        record.restarts += 1
        record.status = .starting
        serial += 1
        record.launchSerial = serial
        agents[id] = record
        wake(id)
        recordGauges()
        metrics.restarts.increment()
        logger.warning("agent ended; restarting", metadata: [
            "agent": "\(id)", "reason": "\(reason)", "restart": "\(record.crashesInRow)/\(policy.maxRestarts)",
            "delay_s": "\(String(format: "%.2f", delay.seconds))",
        ])
        emitStatus(record, error: reason)
        let next = serial
        spawn {
            try? await Task.sleep(for: delay)
            await self.launch(id, serial: next)
        }
    }

    /// Stops every agent (graceful shutdown); process agents get `shutdown`, then SIGTERM, then SIGKILL.
    private func shutdownAgents() async {
        shuttingDown = true
        for id in waiters.keys { wake(id) }
        let instances = agents.values.compactMap(\.instance)
        if !instances.isEmpty { logger.info("stopping \(instances.count) agents") }
        await withTaskGroup(of: Void.self) { group in
            for instance in instances {
                // Not a child of a cancelled task: each agent gets its full chance to exit.
                group.addTask { await Task { await instance.stop() }.value }
            }
        }
        for (id, var record) in agents where record.status != .failed {
            record.status = .stopped
            record.instance = nil
            record.pid = nil
            agents[id] = record
            emitStatus(record)
        }
        recordGauges()
    }

    // MARK: - Helpers

    /// Runs `job` as a child of `run()`.
    func spawn(_ job: @escaping @Sendable () async -> Void) {
        jobSink.yield(job)
    }

    func emit(_ message: NodeMessage) {
        eventSink.yield(message)
    }

    func emitStatus(_ record: SupervisedAgent, error: String? = nil) {
        eventSink.yield(.agentStatus(.init(
            agentID: record.agentID, generation: record.generation, status: record.status, restarts: record.restarts, error: error
        )))
    }

    func recordGauges() {
        metrics.record(agents: agents.values.map(\.status))
    }

    /// Waits until agent `id` changes (status, generation, or gone), or the task is cancelled.
    func waitForChange(of id: String) async {
        let token = UUID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                if Task.isCancelled || shuttingDown {
                    continuation.resume()
                } else {
                    waiters[id, default: [:]][token] = continuation
                }
            }
        } onCancel: {
            Task { await self.resumeWaiter(id, token: token) }
        }
    }

    private func resumeWaiter(_ id: String, token: UUID) {
        waiters[id]?.removeValue(forKey: token)?.resume()
        if waiters[id]?.isEmpty == true { waiters[id] = nil }
    }

    private func wake(_ id: String) {
        guard let waiting = waiters.removeValue(forKey: id) else { return }
        for continuation in waiting.values { continuation.resume() }
    }
}
