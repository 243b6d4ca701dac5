import DroverCore
import DroverStore
import Foundation
import Logging
import Crypto
import Synchronization

/// The shell around the pure cluster core: it takes snapshots from the store and the live
/// sessions, asks `Reconciler`, `Scheduler` and `NodeLiveness` what to do, and does it —
/// store first, then the wire.
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
    let reconciler: Mutex<Reconciler>
    /// When each `agent.start` / `agent.stop` was last sent, so a tick does not repeat it at once.
    private let sentCommands = Mutex<[String: Date]>([:])
    /// Tasks sent to nodes and not answered yet, as stored when sent (by `dispatchKey`), so a
    /// result needs no read of the store. Only a cache: the store's compare-and-set decides.
    let dispatchedTasks = Mutex<[String: TaskRecord]>([:])
    /// Told of every workflow task that becomes final (the workflow engine's inbox).
    let workflowTaskObserver = Mutex<TaskObserver?>(nil)

    /// Seals agent secrets for the store and opens them for `agent.start`.
    let secrets: SecretBox
    /// Whether the store takes writes (for `/health`, the metric and the loops' backoff).
    let storeHealth: StoreHealth
    /// The audit log's writer (entries the store refused wait there).
    let auditLog: AuditLog

    public init(
        store: any Store, configuration: ManagerConfiguration, logger: Logger, secrets: SecretBox = SecretBox(key: .init(size: .bits256)),
        now: Date = Date()
    ) {
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
    }

    var liveness: NodeLiveness {
        NodeLiveness(interval: configuration.heartbeatInterval, grace: configuration.heartbeatGrace)
    }

    /// Keeps an event in the store for `GET /api/v1/events`; a failure to write it is logged, not thrown.
    /// It belongs to the agent's tenant, or else to the node's (none for a shared node: admins only).
    func recordEvent(_ kind: String, node: String? = nil, agent: String? = nil, _ message: String) async {
        do {
            var tenant: String?
            if let agent, let record = try await store.agent(id: agent) {
                tenant = record.tenant
            } else if let node, let record = try await store.node(id: node), !record.isShared {
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
        let nodes = try await store.nodes()
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
                guard var node = try await store.node(id: transition.nodeID), node.status == transition.from else { return false }
                // A heartbeat that arrived since the evaluation keeps the node as it is.
                if let recent = await sessions.lastSeen[transition.nodeID], recent > evaluatedFrom { return false }
                node.status = transition.to
                try await store.upsertNode(node)
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

    /// Converges agents toward their desired state.
    func reconcile() async throws {
        let connected = await sessions.connected
        let reported = await sessions.reported
        try await planLock.withLock {
            let snapshot = Reconciler.Snapshot(
                agents: try await store.agents(), nodes: try await store.nodes(), connected: connected, reported: reported
            )
            let actions = reconciler.withLock { $0.reconcile(snapshot) }
            let agents = Dictionary(snapshot.agents.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            for action in actions {
                try await apply(action, agents: agents)
            }
            metrics.record(agents: snapshot.agents, nodes: snapshot.nodes)
        }
    }

    private func apply(_ action: Reconciler.Action, agents: [String: AgentRecord]) async throws {
        let now = Date()
        switch action {
        case .assign(let agentID, let nodeID, let generation):
            guard var agent = try await store.agent(id: agentID) else { return }
            let previous = agent.nodeID
            if agent.status == .failed, let previous {
                agent.failedNodes = (agent.failedNodes ?? []) + [previous]
                agent.restarts = 0
            }
            agent.nodeID = nodeID
            agent.generation = generation
            agent.status = .pending
            agent.lastError = nil
            agent.updatedAt = now
            try await store.upsertAgent(agent)
            if let previous, previous != nodeID {
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
            guard var agent = agents[agentID] else { return }
            let message = failure.description
            guard agent.nodeID != nil || agent.lastError != message || agent.status != .pending else { return }
            agent.nodeID = nil
            agent.status = .pending
            agent.lastError = message
            agent.updatedAt = now
            try await store.upsertAgent(agent)
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
            guard var agent = agents[agentID] else { return }
            agent.status = status
            agent.restarts = restarts
            agent.updatedAt = now
            try await store.upsertAgent(agent)
        case .remove(let agentID):
            try await store.deleteAgent(id: agentID)
            logger.info("agent removed", metadata: ["agent": "\(agentID)"])
        }
    }

    /// Whether a command keyed `key` may go out now (not sent in the last few seconds).
    func shouldSend(_ key: String, now: Date) -> Bool {
        sentCommands.withLock { sent in
            if let last = sent[key], now.timeIntervalSince(last) < 5 { return false }
            sent[key] = now
            if sent.count > 50_000 { sent = sent.filter { now.timeIntervalSince($0.value) < 5 } }
            return true
        }
    }

    // MARK: Placement

    /// Places a new agent now, or explains why no node can take it. With `dryRun` nothing is
    /// stored or sent: the answer says where the agent would go. With `queueIfBusy`, an agent
    /// that cannot be placed only for now (nodes away or full, see `PlacementFailure.isTransient`)
    /// is stored `pending` instead, and the reconciler places it when a node can take it.
    func place(_ agent: AgentRecord, dryRun: Bool = false, queueIfBusy: Bool = false) async throws -> AgentRecord {
        let connected = await sessions.connected
        let reported = await sessions.reported
        let placed: AgentRecord = try await planLock.withLock {
            let snapshot = Reconciler.Snapshot(
                agents: try await store.agents(), nodes: try await store.nodes(), connected: connected, reported: reported
            )
            // Only nodes the agent's tenant may use are weighed, so a refusal never counts other tenants' nodes.
            let candidates = Reconciler.candidates(snapshot).filter { $0.tenant == agent.tenant || $0.shared }
            let decision = reconciler.withLock { $0.scheduler.place(PlacementRequest(agent: agent), on: candidates) }
            switch decision {
            case .unplaceable(let failure):
                guard queueIfBusy, !dryRun, failure.isTransient else {
                    throw APIError(.unprocessableContent, code: "unplaceable", failure.description)
                }
                var pending = agent
                pending.nodeID = nil
                pending.status = .pending
                pending.lastError = failure.description
                try await store.upsertAgent(pending)
                return pending
            case .placed(let nodeID):
                var placed = agent
                placed.nodeID = nodeID
                placed.generation = 1
                if !dryRun { try await store.upsertAgent(placed) }
                return placed
            }
        }
        if dryRun { return placed }
        if let nodeID = placed.nodeID {
            let start = NodeProtocol.AgentStart(agentID: placed.id, agentType: placed.agentType, generation: placed.generation, config: placed.config, state: placed.state)
            if shouldSend("start:\(nodeID):\(placed.id):\(placed.generation)", now: Date()) {
                await sendStart(start, to: nodeID)
            }
        }
        metrics.agentsDeployed.increment()
        logger.info("agent deployed", metadata: ["agent": "\(placed.id)", "type": "\(placed.agentType)", "node": "\(placed.nodeID ?? "-")"])
        return placed
    }

    /// Marks an agent undeployed and asks its node to stop it; returns the updated record.
    func undeploy(agentID: String) async throws -> AgentRecord? {
        let updated: AgentRecord? = try await planLock.withLock {
            guard var agent = try await store.agent(id: agentID) else { return nil }
            agent.desiredState = .stopped
            agent.updatedAt = Date()
            try await store.upsertAgent(agent)
            return agent
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
