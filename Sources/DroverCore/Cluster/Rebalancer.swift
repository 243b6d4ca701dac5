import Foundation

/// Plans moves that even out the number of agents per node, under the same constraints as
/// placement, with a bound on how many agents move in one run. Pure: snapshot in, plan out.
public struct Rebalancer: Sendable {
    /// One agent to move.
    public struct Move: Sendable, Hashable, Codable {
        public var agentID: String
        public var from: String
        public var to: String

        public init(agentID: String, from: String, to: String) {
            self.agentID = agentID
            self.from = from
            self.to = to
        }

        enum CodingKeys: String, CodingKey {
            case from, to
            case agentID = "agent_id"
        }
    }

    /// CPU overcommit the targets are checked with (see `Scheduler.cpuOvercommit`).
    public var cpuOvercommit: Double

    public init(cpuOvercommit: Double = 1) {
        self.cpuOvercommit = cpuOvercommit
    }

    /// Moves from the fullest node to the emptiest, one agent at a time, until no move makes
    /// the spread smaller or `maxMoves` is reached. Agents pinned to a node never move.
    public func plan(_ snapshot: Reconciler.Snapshot, maxMoves: Int) -> [Move] {
        var candidates = Dictionary(uniqueKeysWithValues: Reconciler.candidates(snapshot).map { ($0.nodeID, $0) })
        var onNode: [String: [AgentRecord]] = [:]
        for agent in snapshot.agents where agent.desiredState == .running && agent.status != .failed {
            guard let nodeID = agent.nodeID, candidates[nodeID] != nil else { continue }
            onNode[nodeID, default: []].append(agent)
        }
        var moves: [Move] = []
        var moved: Set<String> = []
        while moves.count < maxMoves {
            let live = candidates.values.filter { $0.connected && $0.status.acceptsAgents }
            guard let fullest = live.max(by: { ($0.agentCount, $1.nodeID) < ($1.agentCount, $0.nodeID) }) else { break }
            let targets = live.filter { $0.agentCount + 1 < fullest.agentCount }.sorted { ($0.agentCount, $0.nodeID) < ($1.agentCount, $1.nodeID) }
            var found: Move?
            search: for agent in (onNode[fullest.nodeID] ?? []).sorted(by: { $0.id < $1.id }) where agent.preferredNode == nil && !moved.contains(agent.id) {
                for target in targets {
                    var request = PlacementRequest(agent: agent)
                    request.preferredNode = nil
                    if Scheduler.rejection(of: target, for: request, cpuOvercommit: cpuOvercommit) == nil {
                        found = Move(agentID: agent.id, from: fullest.nodeID, to: target.nodeID)
                        break search
                    }
                }
            }
            guard let move = found, let agent = onNode[move.from]?.first(where: { $0.id == move.agentID }) else { break }
            moves.append(move)
            moved.insert(move.agentID)
            onNode[move.from]?.removeAll { $0.id == move.agentID }
            onNode[move.to, default: []].append(agent)
            if var source = candidates[move.from], var target = candidates[move.to] {
                source.agentCount -= 1
                source.allocated = source.allocated - agent.resources
                target.agentCount += 1
                target.allocated = target.allocated + agent.resources
                candidates[move.from] = source
                candidates[move.to] = target
            }
        }
        return moves
    }
}
