import DroverCore
import DroverStore
import Foundation
import Logging

/// Frames that arrive from nodes on the gateway.
extension ClusterController {
    /// Registers (or re-registers) a node from its `hello` and opens its session.
    ///
    /// `principal` is whoever opened the WebSocket: an admin may register any node for any
    /// tenant; a tenant only nodes of its own tenant, and never over another tenant's node id;
    /// a node credential only its own node.
    /// `issuedCredential`, when the node joined with a join token, goes back in `welcome`.
    func hello(
        _ hello: NodeProtocol.Hello, principal: Principal = .admin, issuedCredential: String? = nil, sessionID: UUID,
        outbound: AsyncStream<NodeMessage>.Continuation
    ) async throws {
        try NodeIdentity.validate(hello)
        let now = Date()
        // Read and written under the plan lock, like every change to a node record.
        let existing: NodeRecord? = try await planLock.withLock {
            let existing = model.node(id: hello.nodeID)
            try Self.authorize(hello, principal: principal, existing: existing)
            let record = NodeRecord(
                id: hello.nodeID, tenant: hello.tenant, name: hello.name, hostAddress: hello.hostAddress, apiPort: hello.apiPort,
                capabilities: hello.capabilities, labels: hello.labels, agentTypes: hello.agentTypes, resources: hello.resources,
                maxAgents: hello.maxAgents, status: existing?.status == .draining ? .draining : .active, connection: .websocket,
                healthScore: existing?.healthScore, metadata: existing?.metadata ?? [:], registeredAt: existing?.registeredAt ?? now,
                lastHeartbeat: now, incarnation: hello.incarnation, shared: existing?.shared
            )
            do {
                try await saveNode(record)
                heartbeatsPersisted.withLock { $0[hello.nodeID] = now }
            } catch where isStoreUnavailable(error) && existing != nil {
                // A known node comes back while the store refuses writes: it is let in (liveness is
                // judged in memory), and its record catches up with its next heartbeat once writes go through.
                logger.warning("node reconnected while the store refuses writes; its record is updated later", metadata: ["node": "\(hello.nodeID)", "error": "\(error)"])
                unpersistedNode(record)
            }
            return existing
        }
        await sessions.open(
            nodeID: hello.nodeID, sessionID: sessionID, outbound: outbound, reported: hello.agents, now: now, credential: principal.credential
        )
        let pace = announcedLiveness
        let welcome = NodeProtocol.Welcome(
            nodeID: hello.nodeID,
            heartbeatIntervalSeconds: NodeLiveness.seconds(pace.interval),
            heartbeatGraceSeconds: NodeLiveness.seconds(pace.grace),
            nodeCredential: issuedCredential
        )
        outbound.yield(.welcome(welcome))
        let event = existing == nil ? "node registered" : (existing?.incarnation == hello.incarnation ? "node reconnected" : "node restarted")
        logger.info("\(event)", metadata: [
            "node": "\(hello.nodeID)", "tenant": "\(hello.tenant)", "agents": "\(hello.agents.count)",
            "types": "\(hello.agentTypes.map(\.name).joined(separator: ","))",
        ])
        metrics.nodeSessions.increment()
        await recordEvent("node.\(event.replacingOccurrences(of: "node ", with: ""))", node: hello.nodeID, "\(event) with \(hello.agents.count) agents")
        // The session is open: the cluster loop's next pass (started now, or right after the one
        // running) sends what the node is owed. Passes, not one per hello: a thousand nodes
        // reconnecting after a restart share a few passes and keep the plan lock free for deploys.
        passTrigger.request()
    }

    /// A live node whose record the store refused: the model takes it anyway (liveness and
    /// status are judged in memory, so an unwritable store never keeps a live node suspect), and
    /// each of its heartbeats tries the write again until the store takes it.
    private func unpersistedNode(_ node: NodeRecord) {
        model.put(node)
        heartbeatsPersisted.withLock { $0[node.id] = nil }
    }

    /// Refuses a `hello` the credential may not send.
    static func authorize(_ hello: NodeProtocol.Hello, principal: Principal, existing: NodeRecord?) throws {
        guard !principal.isAdmin else { return }
        guard let tenant = principal.tenant, hello.tenant == tenant else {
            throw HelloRefusal("this credential belongs to tenant '\(principal.tenant ?? "-")', but hello names tenant '\(hello.tenant.prefix(64))'")
        }
        if principal.role == .node, principal.subject != hello.nodeID {
            throw HelloRefusal("this node credential is for node '\(principal.subject)', not '\(hello.nodeID.prefix(64))'")
        }
        if let existing, existing.tenant != tenant {
            throw HelloRefusal("node id '\(hello.nodeID)' is taken; choose another --id")
        }
    }

    /// The gateway session ended (the node went away or was replaced).
    func sessionClosed(nodeID: String, sessionID: UUID) async {
        if await sessions.close(nodeID: nodeID, sessionID: sessionID) {
            logger.info("node disconnected", metadata: ["node": "\(nodeID)"])
        }
    }

    /// Handles every frame after `hello`.
    func handle(_ message: NodeMessage, from nodeID: String, sessionID: UUID) async throws {
        guard await sessions.isCurrent(nodeID: nodeID, sessionID: sessionID) else { return }
        switch message {
        case .heartbeat(let heartbeat):
            try await heartbeatReceived(heartbeat, from: nodeID)
        case .agentStatus(let report):
            await agentStatusReceived(report, from: nodeID)
        case .agentCheckpoint(let checkpoint):
            try await checkpointReceived(checkpoint, from: nodeID)
        case .taskResult(let result):
            try await taskResultReceived(result, from: nodeID)
        case .message(let message):
            logger.info("agent message", metadata: ["node": "\(nodeID)", "agent": "\(message.agentID)", "payload": "\(message.payload)"])
        case .error(let error):
            logger.warning("node reported an error", metadata: ["node": "\(nodeID)", "code": "\(error.code)", "message": "\(error.message)"])
        case .hello, .welcome, .agentStart, .agentStop, .taskRun, .drain, .agentList, .agentListRequest:
            await sessions.send(.error(.init(code: "unexpected_message", message: "a node may not send '\(message.type)' here")), to: nodeID)
        }
    }

    private func heartbeatReceived(_ heartbeat: NodeProtocol.Heartbeat, from nodeID: String) async throws {
        let now = Date()
        let digestMatches = await sessions.heard(from: nodeID, reported: heartbeat.agents, digest: heartbeat.agentsDigest, now: now)
        if !digestMatches {
            // What the node runs is not what this session holds (a frame lost, or a manager bug): the whole list, please.
            logger.info("a node's agent digest does not match; asking for its list", metadata: ["node": "\(nodeID)"])
            await sessions.send(.agentListRequest(.init(reason: "agents_digest does not match the agents this manager holds for the node")), to: nodeID)
        }
        // A heartbeat that changes nothing placement weighs refreshes the node in memory only; its
        // time is written at most every `heartbeatPersistInterval` (liveness is judged in memory).
        let resources = heartbeat.resources.isWithinLimits ? heartbeat.resources : nil
        let lastWritten = heartbeatsPersisted.withLock { $0[nodeID] }
        if let lastWritten, now.timeIntervalSince(lastWritten) < Self.heartbeatPersistInterval,
            model.refreshNode(id: nodeID, heardAt: now, resources: resources)
        {
            return
        }
        // Read and written under the plan lock, like every other change to a node record, so a
        // heartbeat never writes back a copy older than a concurrent change (`shared`, a drain).
        try await planLock.withLock {
            guard var node = model.node(id: nodeID) else { return }
            let status = NodeLiveness.statusOnHeartbeat(node.status)
            if status != node.status {
                logger.info("node is \(status.rawValue) again", metadata: ["node": "\(nodeID)"])
            }
            node.status = status
            // A heartbeat with impossible figures keeps the last good ones.
            if let resources { node.resources = resources }
            node.lastHeartbeat = now
            do {
                try await saveNode(node)
                heartbeatsPersisted.withLock { $0[nodeID] = now }
            } catch where isStoreUnavailable(error) {
                // Liveness reads heartbeats from memory (`NodeSessions`); the record catches up once the store takes writes.
                logger.debug("heartbeat not recorded: the store refuses writes", metadata: ["node": "\(nodeID)", "error": "\(error)"])
                unpersistedNode(node)
            }
        }
    }

    private func agentStatusReceived(_ report: NodeProtocol.AgentStatusReport, from nodeID: String) async {
        let now = Date()
        await sessions.updateReported(
            nodeID: nodeID, agent: .init(agentID: report.agentID, generation: report.generation, status: report.status, restarts: report.restarts), now: now
        )
        await statusQueue.submit(.init(nodeID: nodeID, report: report, at: now)) { [self] batch in await applyStatuses(batch) }
    }

    /// Applies a batch of status reports in one store write, then sends the open tasks of the
    /// agents that now run. A batch the store refused is repaired by the next reconciliation
    /// pass, which records the status nodes report.
    private func applyStatuses(_ batch: [AgentStatusQueue.Item]) async {
        let recorded: RecordedStatuses
        do {
            recorded = try await recordStatuses(batch)
        } catch {
            logger.warning("agent statuses not recorded; the next cluster pass records them", metadata: ["reports": "\(batch.count)", "error": "\(error)"])
            return
        }
        for item in recorded.failures {
            let error = item.report.error ?? "no detail"
            logger.error("agent failed", metadata: ["agent": "\(item.report.agentID)", "node": "\(item.nodeID)", "error": "\(error)"])
            await recordEvent("agent.failed", node: item.nodeID, agent: item.report.agentID, "crashed past its restart limit: \(error)")
        }
        let running = recorded.agents.filter { $0.status == .running }.map(\.id)
        guard !running.isEmpty else { return }
        do {
            try await dispatchOpenTasks(agentIDs: running)
        } catch {
            logger.warning("open tasks not sent; the next cluster pass sends them", metadata: ["agents": "\(running.count)", "error": "\(error)"])
        }
    }

    private func checkpointReceived(_ checkpoint: NodeProtocol.AgentCheckpoint, from nodeID: String) async throws {
        let change = try await updateAgent(id: checkpoint.agentID) { agent in
            guard agent.nodeID == nodeID, agent.generation == checkpoint.generation else { return false }
            agent.state = checkpoint.state
            agent.updatedAt = Date()
            return true
        }
        guard change?.changed == true else {
            logger.warning("checkpoint from a stale copy rejected", metadata: ["agent": "\(checkpoint.agentID)", "node": "\(nodeID)", "generation": "\(checkpoint.generation)"])
            metrics.fencedFrames.increment()
            return
        }
    }
}

/// Rules for what a node may call itself.
enum NodeIdentity {
    static func validate(_ hello: NodeProtocol.Hello) throws {
        guard hello.protocolVersion == NodeProtocol.version else {
            throw ProtocolViolation("protocol version \(hello.protocolVersion) is not supported; this manager speaks \(NodeProtocol.version)")
        }
        try validateName(hello.nodeID, what: "node id")
        try validateName(hello.tenant, what: "tenant")
        guard hello.maxAgents >= 0, hello.agentTypes.count <= 1_000, hello.capabilities.count <= 1_000, hello.labels.count <= 1_000 else {
            throw ProtocolViolation("hello lists too many agent types, capabilities or labels")
        }
        guard hello.resources.isWithinLimits, hello.agentTypes.allSatisfy({ $0.resources.isWithinLimits }) else {
            throw ProtocolViolation("hello reports resources out of range (each amount 0 to \(Int(ResourceSpec.maxAmount)))")
        }
    }

    /// Ids: 1 to 128 characters of letters, digits, `.`, `_` and `-`.
    static func validateName(_ name: String, what: String) throws {
        guard isValidName(name) else {
            throw ProtocolViolation("\(what) '\(name.prefix(64))' is invalid: use 1 to 128 letters, digits, '.', '_' or '-'")
        }
    }

    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 128
            && name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0)) }
    }
}

/// A node broke the protocol; the session is refused or the frame answered with `error`.
struct ProtocolViolation: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Why a `hello` was refused; its text goes back to the node in the `hello_refused` error frame.
struct HelloRefusal: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
