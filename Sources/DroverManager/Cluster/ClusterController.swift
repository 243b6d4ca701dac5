import DroverCore
import DroverStore
import Foundation
import Logging
import Crypto
import Synchronization

/// The shell around the pure cluster core: it takes snapshots from the in-memory
/// `ClusterModel` and the live sessions, asks `Reconciler`, `Scheduler` and `NodeLiveness`
/// what to do, and does it — store first, then the model, then the wire.
///
/// Placement decisions and their commits run under one lock, so two decisions made at once
/// never both take the same room.
public final class ClusterController: Sendable {
    let store: any Store
    let configuration: ManagerConfiguration
    let logger: Logger
    let sessions = NodeSessions()
    let waiters = TaskWaiters()
    let metrics = ManagerMetrics()
    let startedAt: Date
    let planLock = AsyncSerialLock()
    /// Every node and agent, in memory (see `ClusterModel`); written through `updateAgent`, `storePlaced` and friends (ClusterController+Records).
    let model: ClusterModel
    /// Serialises the read-modify-writes of each agent record (see `updateAgent`).
    let agentWrites = StripedLocks()
    /// Status reports from nodes, applied in batches (see `AgentStatusQueue`).
    let statusQueue = AgentStatusQueue()
    /// When each node's heartbeat time was last written to the store.
    let heartbeatsPersisted = Mutex<[String: Date]>([:])
    /// A heartbeat that changes nothing placement weighs is written at most this often.
    static let heartbeatPersistInterval: TimeInterval = 30
    /// When the last full reconciliation pass ran, and the agents to look at again.
    private let reconcileState = Mutex(ReconcileState())
    let reconciler: Mutex<Reconciler>
    /// The placement index single deploys use from one call to the next (see `KeptPlacementIndex`).
    let keptIndex: KeptPlacementIndex
    /// When each `agent.start` / `agent.stop` was last sent, so a tick does not repeat it at once.
    private let sentCommands = Mutex(RecentCommands(window: 5))
    /// Tasks sent to nodes and not answered yet, as stored when sent (by `dispatchKey`), so a
    /// result needs no read of the store. Only a cache: the store's compare-and-set decides.
    let dispatchedTasks = Mutex<[String: TaskRecord]>([:])
    /// Starts the cluster loop's next pass early (see `PassTrigger`).
    let passTrigger = PassTrigger()
    /// Told of every workflow task that becomes final (the workflow engine's inbox).
    let workflowTaskObserver = Mutex<TaskObserver?>(nil)

    /// Seals agent secrets for the store and opens them for `agent.start`.
    let secrets: SecretBox
    /// Whether the store takes writes (for `/health`, the metric and the loops' backoff).
    let storeHealth: StoreHealth
    /// The audit log's writer (entries the store refused wait there).
    let auditLog: AuditLog

    init(
        store: any Store, model: ClusterModel = ClusterModel(), configuration: ManagerConfiguration, logger: Logger,
        secrets: SecretBox = SecretBox(key: .init(size: .bits256)), now: Date = Date()
    ) {
        self.model = model
        self.secrets = secrets
        self.store = store
        self.configuration = configuration
        self.logger = logger
        self.startedAt = now
        self.storeHealth = (store as? any StoreHealthReporting)?.health ?? StoreHealth()
        self.auditLog = AuditLog(store: store, logger: logger)
        let failures = metrics.storeWriteFailures
        storeHealth.onFailure { failures.increment() }
        self.reconciler = Mutex(Reconciler(scheduler: Scheduler(cpuOvercommit: configuration.cpuOvercommit), maxFailovers: configuration.maxFailovers))
        self.keptIndex = KeptPlacementIndex(cpuOvercommit: configuration.cpuOvercommit)
        self.heartbeatPace = Mutex(HeartbeatPace(
            base: NodeLiveness(interval: configuration.heartbeatInterval, grace: configuration.heartbeatGrace),
            maxPerSecond: configuration.maxHeartbeatsPerSecond
        ))
        metrics.heartbeatInterval.record(NodeLiveness.seconds(configuration.heartbeatInterval))
    }

    /// The heartbeat interval and grace nodes are told and judged by, stretched with the fleet
    /// (see `HeartbeatPace`); followed by `checkLiveness`.
    let heartbeatPace: Mutex<HeartbeatPace>

    /// What nodes are told to heartbeat at now (in `welcome`).
    var announcedLiveness: NodeLiveness { heartbeatPace.withLock { $0.announced } }

    /// Keeps an event in the store for `GET /api/v1/events`; a failure to write it is logged, not thrown.
    /// It belongs to the agent's tenant, or else to the node's (none for a shared node: admins only).
    func recordEvent(_ kind: String, node: String? = nil, agent: String? = nil, _ message: String) async {
        do {
            var tenant: String?
            if let agent, let record = model.agent(id: agent) {
                tenant = record.tenant
            } else if let node, let record = model.node(id: node), !record.isShared {
                tenant = record.tenant
            }
            try await store.appendEvent(ClusterEvent(at: Date(), kind: kind, nodeID: node, agentID: agent, tenant: tenant, message: message))
        } catch {
            logger.error("could not record an event", metadata: ["kind": "\(kind)", "error": "\(error)"])
        }
    }

    // MARK: Periodic work

    /// One pass of everything periodic: liveness, reconciliation, task dispatch and timeouts.
    /// Throws what stopped the pass (the loop backs off while the store is unavailable).
    func tick() async throws {
        try await checkLiveness()
        try await reconcile()
        try await dispatchOpenTasks()
    }

    /// Marks late nodes `suspect` and silent ones `down`.
    ///
    /// Silence is measured from the newer of the heartbeat stored for the node and the last frame
    /// heard on its session (in memory, so a store that refuses writes never makes a live node
    /// look silent). A node not heard from since this manager started is measured from the end
    /// of the reconnect window instead (`reconnectGrace` after the start), so nodes backing off
    /// while the manager was away are not declared down for the manager's own absence.
    func checkLiveness(now: Date = Date()) async throws {
        let nodes = model.unorderedNodes()
        let liveness = await paceHeartbeats(liveNodes: nodes.count { $0.status != .down }, now: now)
        let heard = await sessions.lastSeen
        let reconnectDeadline = startedAt.addingTimeInterval(NodeLiveness.seconds(configuration.reconnectGrace))
        var lastSeen: [String: Date] = [:]
        let observations = nodes.filter { $0.status != .down }.map { node in
            let seen: Date
            if let recent = heard[node.id] {
                seen = max(node.lastHeartbeat, recent)
            } else if node.lastHeartbeat < startedAt {
                seen = reconnectDeadline  // not heard from since this manager started
            } else {
                seen = node.lastHeartbeat
            }
            lastSeen[node.id] = seen
            return NodeLiveness.Observation(nodeID: node.id, status: node.status, lastSeen: seen)
        }
        for transition in liveness.evaluate(observations, now: now) {
            let evaluatedFrom = lastSeen[transition.nodeID] ?? .distantPast
            let changed: Bool = try await planLock.withLock {
                guard var node = model.node(id: transition.nodeID), node.status == transition.from else { return false }
                // A heartbeat that arrived since the evaluation keeps the node as it is.
                if let recent = await sessions.lastSeen[transition.nodeID], recent > evaluatedFrom { return false }
                node.status = transition.to
                try await saveNode(node)
                return true
            }
            guard changed else { continue }
            let silence = String(format: "%.1f", now.timeIntervalSince(lastSeen[transition.nodeID] ?? now))
            if transition.to == .down {
                logger.warning("node is down", metadata: ["node": "\(transition.nodeID)", "silence_s": "\(silence)"])
                await sessions.disconnect(nodeID: transition.nodeID)
                metrics.nodesMarkedDown.increment()
                await recordEvent("node.down", node: transition.nodeID, "no heartbeat for \(silence) s; its agents are placed elsewhere")
            } else {
                logger.info("node is \(transition.to.rawValue)", metadata: ["node": "\(transition.nodeID)", "silence_s": "\(silence)"])
                await recordEvent("node.\(transition.to.rawValue)", node: transition.nodeID, "no heartbeat for \(silence) s")
            }
        }
    }

    /// Follows the fleet's size with the heartbeat interval: when it changes, every connected
    /// node is told in a new `welcome`. Returns the liveness to judge nodes by now.
    private func paceHeartbeats(liveNodes: Int, now: Date) async -> NodeLiveness {
        let (changed, judging) = heartbeatPace.withLock { pace in (pace.update(nodes: liveNodes, now: now), pace.judging(at: now)) }
        guard let changed else { return judging }
        let interval = NodeLiveness.seconds(changed.interval), grace = NodeLiveness.seconds(changed.grace)
        logger.info("heartbeat interval changed with the fleet's size", metadata: [
            "nodes": "\(liveNodes)", "interval_s": "\(String(format: "%.2f", interval))", "grace_s": "\(String(format: "%.2f", grace))",
        ])
        metrics.heartbeatInterval.record(interval)
        await sessions.sendEach { nodeID in
            .welcome(NodeProtocol.Welcome(nodeID: nodeID, heartbeatIntervalSeconds: interval, heartbeatGraceSeconds: grace))
        }
        return judging
    }

    /// Converges agents toward their desired state.
    ///
    /// A pass looks only at what changed since the last one (Nomad's habit of evaluating what an
    /// event touched): agents written or removed, agents whose reported copies changed, agents of
    /// nodes that changed, agents still waiting for a node, and agents the last pass acted on and
    /// has not seen settle (a start not yet confirmed, a copy not yet stopped). A full pass over
    /// the fleet runs at start, when `force`d, and every `ReconcileState.fullPassInterval`, as a
    /// safety net; it is spaced so that it takes at most 2% of the time.
    func reconcile(force: Bool = false) async throws {
        try await planLock.withLock {
            let started = ContinuousClock.now
            // Connected nodes are read with the changes: a session that opens later marks its agents for the next pass.
            let (reportedChanged, connected) = await sessions.takeChanged()
            var ids = model.takeChanged().union(reportedChanged)
            let fullPassDue = reconcileState.withLock { state in
                ids.formUnion(state.unsettled)
                state.unsettled = []
                return state.fullPassDue(at: started)
            }
            let full = force || fullPassDue
            if !full, ids.isEmpty { return }
            let snapshot: Reconciler.Snapshot
            if full {
                snapshot = Reconciler.Snapshot(
                    agents: model.agents(), nodes: model.nodes(), connected: connected, reported: await sessions.reported,
                    candidates: model.candidates(connected: connected)
                )
            } else {
                snapshot = Reconciler.Snapshot(
                    agents: model.agents(ids: ids), nodes: model.nodes(), connected: connected, reported: await sessions.reported(about: ids),
                    candidates: model.candidates(connected: connected)
                )
            }
            let actions = reconciler.withLock { $0.reconcile(snapshot) }
            do {
                try await applyConcurrently(actions)
            } catch {
                // Looked at again next pass, whatever was left undone.
                reconcileState.withLock { $0.unsettled.formUnion(ids) }
                throw error
            }
            let unsettled = Set(actions.compactMap(\.unsettledAgent))
            reconcileState.withLock { state in
                state.unsettled.formUnion(unsettled)
                if full {
                    state.lastFullPass = started
                    state.lastFullPassDuration = ContinuousClock.now - started
                }
            }
            metrics.record(agentsByStatus: model.agentTotals { _ in true }.byStatus, nodes: snapshot.nodes)
        }
    }

    /// Applies a pass's actions: stops first, in order (they only send a frame); then each
    /// agent's actions in order, up to 64 agents at a time, so that their writes are committed
    /// together (a failover of 10,000 agents is not 10,000 writes one after the other).
    private func applyConcurrently(_ actions: [Reconciler.Action]) async throws {
        var perAgent: [String: [Reconciler.Action]] = [:]
        var agentOrder: [String] = []
        // Statuses the nodes reported and the records do not show yet (often reports still in the
        // status queue): one store write for all of them, each still checked against its record.
        var statuses: [AgentStatusQueue.Item] = []
        let now = Date()
        for action in actions {
            if case .recordStatus(let agentID, let status, let restarts) = action {
                if let item = reportedStatus(agentID: agentID, status: status, restarts: restarts, at: now) { statuses.append(item) }
                continue
            }
            guard let agentID = action.agentID else {
                try await apply(action)
                continue
            }
            if perAgent[agentID] == nil { agentOrder.append(agentID) }
            perAgent[agentID, default: []].append(action)
        }
        if !statuses.isEmpty { _ = try await recordStatuses(statuses) }
        guard !agentOrder.isEmpty else { return }
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            func addNext() {
                guard next < agentOrder.count, let steps = perAgent[agentOrder[next]] else { return }
                next += 1
                group.addTask { for step in steps { try await self.apply(step) } }
            }
            for _ in 0..<min(64, agentOrder.count) { addNext() }
            while try await group.next() != nil { addNext() }
        }
    }

    private func apply(_ action: Reconciler.Action) async throws {
        let now = Date()
        switch action {
        case .assign(let agentID, let nodeID, let generation):
            let assigned = try await updateAgent(id: agentID) { agent in
                if agent.status == .failed, let previous = agent.nodeID {
                    agent.failedNodes = (agent.failedNodes ?? []) + [previous]
                    agent.restarts = 0
                }
                agent.nodeID = nodeID
                agent.generation = generation
                agent.status = .pending
                agent.lastError = nil
                agent.updatedAt = now
                return true
            }
            guard let assigned else { return }
            if let previous = assigned.before.nodeID, previous != nodeID {
                logger.warning("agent placed again", metadata: ["agent": "\(agentID)", "from": "\(previous)", "to": "\(nodeID)", "generation": "\(generation)"])
                metrics.agentsRescheduled.increment()
                await recordEvent(
                    "agent.rescheduled", node: nodeID, agent: agentID,
                    "moved from \(previous) to \(nodeID) at generation \(generation) with its last checkpoint"
                )
            } else {
                logger.info("agent placed", metadata: ["agent": "\(agentID)", "node": "\(nodeID)", "generation": "\(generation)"])
            }
        case .unplaceable(let agentID, let failure):
            let message = failure.description
            let change = try await updateAgent(id: agentID) { agent in
                guard agent.nodeID != nil || agent.lastError != message || agent.status != .pending else { return false }
                agent.nodeID = nil
                agent.status = .pending
                agent.lastError = message
                agent.updatedAt = now
                return true
            }
            guard change?.changed == true else { return }
            logger.warning("agent cannot be placed", metadata: ["agent": "\(agentID)", "reason": "\(message)"])
            await recordEvent("agent.unplaceable", agent: agentID, message)
        case .start(let nodeID, let start):
            if shouldSend("start:\(nodeID):\(start.agentID):\(start.generation)", now: now) {
                await sendStart(start, to: nodeID)
            }
        case .stop(let nodeID, let stop):
            if shouldSend("stop:\(nodeID):\(stop.agentID):\(stop.generation)", now: now) {
                logger.info("stopping agent copy", metadata: ["agent": "\(stop.agentID)", "node": "\(nodeID)", "generation": "\(stop.generation)", "reason": "\(stop.reason)"])
                await sessions.send(.agentStop(stop), to: nodeID)
            }
        case .recordStatus(let agentID, let status, let restarts):
            guard let item = reportedStatus(agentID: agentID, status: status, restarts: restarts, at: now) else { return }
            _ = try await recordStatuses([item])
        case .remove(let agentID):
            try await deleteAgent(id: agentID)
            logger.info("agent removed", metadata: ["agent": "\(agentID)"])
        }
    }

    /// A status the reconciler found reported for an agent's current copy, as a node's report.
    private func reportedStatus(agentID: String, status: AgentStatus, restarts: Int, at now: Date) -> AgentStatusQueue.Item? {
        guard let agent = model.agent(id: agentID), let nodeID = agent.nodeID else { return nil }
        let report = NodeProtocol.AgentStatusReport(agentID: agentID, generation: agent.generation, status: status, restarts: restarts)
        return AgentStatusQueue.Item(nodeID: nodeID, report: report, at: now)
    }

    /// Whether a command keyed `key` may go out now (not sent in the last few seconds).
    func shouldSend(_ key: String, now: Date) -> Bool {
        sentCommands.withLock { $0.shouldSend(key, now: now) }
    }

    // MARK: Placement

    /// Places a new agent now, or explains why no node can take it. With `dryRun` nothing is
    /// stored or sent: the answer says where the agent would go. With `queueIfBusy`, an agent
    /// that cannot be placed only for now (nodes away or full, see `PlacementFailure.isTransient`)
    /// is stored `pending` instead, and the reconciler places it when a node can take it.
    ///
    /// The decision is made under the plan lock on the in-memory model, and the room it takes is
    /// reserved there; the record is written after the lock is let go, so deploys arriving
    /// together are committed together (group commit), and answered once stored.
    func place(_ agent: AgentRecord, dryRun: Bool = false, queueIfBusy: Bool = false) async throws -> AgentRecord {
        let connected = await sessions.connectedSnapshot
        let decided: AgentRecord = try await planLock.withLock {
            let request = PlacementRequest(agent: agent)
            // The kept index answers most deploys in a few heap operations. Round-robin keeps its
            // cursor in the scheduler; a dry run must not count its answer; spread counts agents
            // on every node the index holds, other tenants' too, so it weighs the tenant's nodes only.
            if !dryRun, request.strategy != .roundRobin, request.strategy != .spread, let nodeID = keptIndex.place(request, model: model, connected: connected) {
                var placed = agent
                placed.nodeID = nodeID
                placed.generation = 1
                model.reserve([placed], countedByIndex: true)
                return placed
            }
            // Only nodes the agent's tenant may use are weighed, so a refusal never counts other tenants' nodes.
            let candidates = model.candidates(connected: connected.nodes).filter { $0.tenant == agent.tenant || $0.shared }
            let decision = reconciler.withLock { $0.scheduler.place(request, on: candidates) }
            switch decision {
            case .unplaceable(let failure):
                guard queueIfBusy, !dryRun, failure.isTransient else {
                    throw APIError(.unprocessableContent, code: "unplaceable", failure.description)
                }
                var pending = agent
                pending.nodeID = nil
                pending.status = .pending
                pending.lastError = failure.description
                return pending
            case .placed(let nodeID):
                var placed = agent
                placed.nodeID = nodeID
                placed.generation = 1
                if !dryRun { model.reserve([placed]) }
                return placed
            }
        }
        if dryRun { return decided }
        try await storePlaced([decided])
        await started([decided])
        return decided
    }

    /// Places `count` agents like `template` in one decision: all of them, or none (a 422 that
    /// says how many would fit and why the rest do not). Stored in one transaction.
    func placeReplicas(_ template: AgentRecord, count: Int, dryRun: Bool, makeID: @Sendable () -> String) async throws -> [AgentRecord] {
        let connected = await sessions.connected
        let decided: [AgentRecord] = try await planLock.withLock {
            var candidates = model.candidates(connected: connected).filter { $0.tenant == template.tenant || $0.shared }
            let request = PlacementRequest(agent: template)
            var agents: [AgentRecord] = []
            agents.reserveCapacity(count)
            // Round-robin keeps its cursor in the scheduler from call to call; the rest use the index.
            var index = request.strategy == .roundRobin ? nil : PlacementIndex(candidates: candidates, cpuOvercommit: configuration.cpuOvercommit)
            for _ in 0..<count {
                let decision = if index != nil { index!.place(request) } else { reconciler.withLock { $0.scheduler.place(request, on: candidates) } }
                guard case .placed(let nodeID) = decision else {
                    throw Self.shortfall(count: count, placed: agents.count, decision)
                }
                var agent = template
                agent.id = agents.isEmpty ? template.id : makeID()
                agent.nodeID = nodeID
                agent.generation = 1
                if index == nil { Reconciler.take(agent, on: nodeID, in: &candidates) }
                agents.append(agent)
            }
            if !dryRun { model.reserve(agents) }
            return agents
        }
        if dryRun { return decided }
        try await storePlaced(decided)
        await started(decided)
        return decided
    }

    private static func shortfall(count: Int, placed: Int, _ decision: PlacementDecision) -> APIError {
        let reason: String
        if case .unplaceable(let failure) = decision { reason = failure.description } else { reason = "no node fits" }
        return APIError(
            .unprocessableContent, code: "unplaceable",
            "only \(placed) of \(count) replicas fit; none were placed. For the next one: \(reason)"
        )
    }

    /// Sends `agent.start` for agents just stored on their nodes.
    private func started(_ agents: [AgentRecord]) async {
        let now = Date()
        var starts: [String: [NodeProtocol.AgentStart]] = [:]
        for agent in agents {
            guard let nodeID = agent.nodeID, shouldSend("start:\(nodeID):\(agent.id):\(agent.generation)", now: now) else { continue }
            starts[nodeID, default: []].append(Reconciler.startMessage(agent, generation: agent.generation))
        }
        metrics.agentsDeployed.increment(by: agents.count)
        if agents.count == 1, let agent = agents.first {
            logger.info("agent deployed", metadata: ["agent": "\(agent.id)", "type": "\(agent.agentType)", "node": "\(agent.nodeID ?? "-")"])
        } else if let agent = agents.first {
            logger.info("agents deployed", metadata: ["count": "\(agents.count)", "type": "\(agent.agentType)", "nodes": "\(starts.count)"])
        }
        await sendStarts(starts)
    }

    /// Marks an agent undeployed and asks its node to stop it; returns the updated record.
    func undeploy(agentID: String) async throws -> AgentRecord? {
        let updated: AgentRecord? = try await planLock.withLock {
            try await updateAgent(id: agentID) { agent in
                agent.desiredState = .stopped
                agent.updatedAt = Date()
                return true
            }?.after
        }
        if let updated, let nodeID = updated.nodeID {
            await sessions.send(.agentStop(.init(agentID: updated.id, generation: updated.generation, reason: "undeployed")), to: nodeID)
        }
        return updated
    }
}

extension ClusterController {
    /// `GET /health`: `degraded` while the store refuses writes (the manager still serves reads,
    /// heartbeats and running agents; calls that must write answer 503).
    var health: HealthResponse {
        let status = storeHealth.status
        let store = StoreHealthView(
            status: status.isFailing ? "failing" : "ok", failingSince: status.failingSince, error: status.lastError, failedWrites: status.failedWrites
        )
        return HealthResponse(status: status.isFailing ? "degraded" : "ok", role: "manager", store: store)
    }
}

/// What reconciliation carries from pass to pass (see `ClusterController.reconcile`).
struct ReconcileState: Sendable {
    /// A full pass over the fleet runs at least this often. It is only a safety net (every
    /// change marks what it touched for the next incremental pass), and over 200,000 agents it
    /// costs seconds of CPU: an idle manager must not spend them every half minute.
    static let fullPassInterval: Duration = .seconds(300)

    var lastFullPass: ContinuousClock.Instant?
    var lastFullPassDuration: Duration = .zero
    /// Agents the last pass acted on (or could not finish): looked at again by the next.
    var unsettled: Set<String> = []

    /// Whether a full pass is due: never ran, or `fullPassInterval` passed (and at least fifty
    /// times as long as the last one took, so that full passes take at most 2% of the time).
    func fullPassDue(at now: ContinuousClock.Instant) -> Bool {
        guard let last = lastFullPass else { return true }
        return now - last >= max(Self.fullPassInterval, lastFullPassDuration * 50)
    }
}

extension Reconciler.Action {
    /// The agent whose record the action writes (`nil` for a stop, which only sends a frame).
    var agentID: String? {
        switch self {
        case .assign(let agentID, _, _), .unplaceable(let agentID, _), .recordStatus(let agentID, _, _), .remove(let agentID): agentID
        case .start(_, let start): start.agentID
        case .stop: nil
        }
    }

    /// The agent a pass must look at again after this action (all but an unplaceable one,
    /// which is looked at whenever its node set or room may have changed: it stays unplaced).
    var unsettledAgent: String? {
        switch self {
        case .assign(let agentID, _, _), .recordStatus(let agentID, _, _), .remove(let agentID): agentID
        case .start(_, let start): start.agentID
        case .stop(_, let stop): stop.agentID
        case .unplaceable: nil
        }
    }
}
