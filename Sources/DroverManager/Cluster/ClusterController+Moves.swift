import DroverCore
import DroverStore
import Foundation
import Logging

/// Moving agents: migrate one, drain a node, rebalance the cluster.
extension ClusterController {
    /// The snapshot every move decision is made over.
    func snapshot() async throws -> Reconciler.Snapshot {
        let connected = await sessions.connected
        let reported = await sessions.reported
        return Reconciler.Snapshot(
            agents: model.agents(), nodes: model.nodes(), connected: connected, reported: reported, candidates: model.candidates(connected: connected)
        )
    }

    /// Moves an agent to `target` (or wherever the scheduler says, never where it is): the
    /// target starts it at a new generation with its last checkpoint, then the source stops.
    func migrate(agentID: String, request: MigrateRequest) async throws -> MigrateResponse {
        let connected = await sessions.connected
        let (moved, from): (AgentRecord, String?) = try await planLock.withLock {
            guard let agent = model.agent(id: agentID) else { throw APIError.notFound("agent", agentID) }
            guard agent.desiredState == .running else {
                throw APIError(.conflict, code: "agent_undeployed", "agent '\(agentID)' is undeployed and cannot move")
            }
            var requestForMove = PlacementRequest(agent: agent)
            requestForMove.preferredNode = request.targetContainerID
            let candidates = model.candidates(connected: connected).filter { $0.nodeID != agent.nodeID && ($0.tenant == agent.tenant || $0.shared) }
            if let target = request.targetContainerID {
                guard model.node(id: target) != nil else { throw APIError.notFound("node", target) }
                if target == agent.nodeID {
                    throw APIError(.conflict, code: "already_there", "agent '\(agentID)' already runs on '\(target)'")
                }
            }
            let decision = reconciler.withLock { $0.scheduler.place(requestForMove, on: candidates) }
            guard case .placed(let target) = decision else {
                if case .unplaceable(let failure) = decision {
                    throw APIError(.unprocessableContent, code: "unplaceable", "cannot move agent '\(agentID)': \(failure.description)")
                }
                throw APIError(.unprocessableContent, code: "unplaceable", "cannot move agent '\(agentID)'")
            }
            let from = agent.nodeID
            let change = try await updateAgent(id: agentID) { current in
                current.nodeID = target
                current.generation += 1
                current.status = .pending
                current.lastError = nil
                if request.preserveState == false { current.state = nil }
                current.updatedAt = Date()
                return true
            }
            guard let moved = change?.after else { throw APIError.notFound("agent", agentID) }
            return (moved, from)
        }
        let to = moved.nodeID ?? "-"
        logger.info("agent migrating", metadata: [
            "agent": "\(agentID)", "from": "\(from ?? "-")", "to": "\(to)", "generation": "\(moved.generation)", "reason": "\(request.reason ?? "-")",
        ])
        metrics.agentsMigrated.increment()
        await recordEvent("agent.migrated", node: to, agent: agentID, "migrating from \(from ?? "-") to \(to) (\(request.reason ?? "no reason given"))")
        _ = shouldSend("start:\(to):\(moved.id):\(moved.generation)", now: Date())
        await sendStart(Reconciler.startMessage(moved, generation: moved.generation), to: to)
        return MigrateResponse(agent: moved.redacted, from: from, to: to)
    }

    /// Marks a node `draining`: it takes no new agents, and the reconciler moves its agents away.
    func drain(nodeID: String) async throws -> NodeRecord {
        let node: NodeRecord = try await planLock.withLock {
            guard var node = model.node(id: nodeID) else { throw APIError.notFound("node", nodeID) }
            guard node.status != .down else {
                throw APIError(.conflict, code: "node_down", "node '\(nodeID)' is down; its agents are already being placed elsewhere")
            }
            node.status = .draining
            try await saveNode(node)
            return node
        }
        logger.info("node draining", metadata: ["node": "\(nodeID)"])
        await recordEvent("node.draining", node: nodeID, "drained: no new agents; its agents move away")
        await sessions.send(.drain(.init(reason: "drained through the API")), to: nodeID)
        try await reconcile()
        return node
    }

    /// The rebalance `--rebalance-interval` asks for; failures are logged, not thrown.
    func periodicRebalance() async {
        do {
            let moves = try await rebalance(dryRun: false, maxMoves: configuration.rebalanceMaxMoves)
            if !moves.isEmpty { logger.info("periodic rebalance moved agents", metadata: ["moves": "\(moves.count)"]) }
        } catch {
            logger.error("periodic rebalance failed", metadata: ["error": "\(error)"])
        }
    }

    /// Plans (and unless `dryRun`, makes) moves that even out agents per node.
    func rebalance(dryRun: Bool, maxMoves: Int) async throws -> [Rebalancer.Move] {
        let moves = Rebalancer(cpuOvercommit: configuration.cpuOvercommit).plan(try await snapshot(), maxMoves: maxMoves)
        guard !dryRun else { return moves }
        var made: [Rebalancer.Move] = []
        for move in moves {
            do {
                _ = try await migrate(agentID: move.agentID, request: MigrateRequest(targetContainerID: move.to, reason: "rebalance"))
                made.append(move)
            } catch {
                logger.warning("rebalance move skipped", metadata: ["agent": "\(move.agentID)", "to": "\(move.to)", "error": "\(error)"])
            }
        }
        return made
    }
}
