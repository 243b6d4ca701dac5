import Foundation

/// Compares desired state (agents in the store) with actual state (what connected nodes
/// report) and returns the actions that converge the one toward the other.
///
/// Pure: the caller takes a snapshot, applies the actions (store first, then the wire) and
/// calls again. Actual state never changes desired state, except for reporting status.
public struct Reconciler: Sendable {
    public var scheduler: Scheduler
    /// How many nodes an agent that crashed past its restart limit is tried on after the first.
    public var maxFailovers: Int

    public init(scheduler: Scheduler = Scheduler(), maxFailovers: Int = 1) {
        self.scheduler = scheduler
        self.maxFailovers = maxFailovers
    }

    /// Everything the reconciler looks at.
    public struct Snapshot: Sendable {
        public var agents: [AgentRecord]
        public var nodes: [NodeRecord]
        /// Nodes with a live gateway session.
        public var connected: Set<String>
        /// What each connected node last said it runs.
        public var reported: [String: [NodeProtocol.RunningAgent]]
        /// The nodes as placement candidates with the room their agents take, when the caller
        /// keeps them up to date itself; otherwise they are computed from `agents`.
        public var candidates: [PlacementCandidate]?

        public init(
            agents: [AgentRecord], nodes: [NodeRecord], connected: Set<String>, reported: [String: [NodeProtocol.RunningAgent]],
            candidates: [PlacementCandidate]? = nil
        ) {
            self.agents = agents
            self.nodes = nodes
            self.connected = connected
            self.reported = reported
            self.candidates = candidates
        }
    }

    public enum Action: Sendable, Hashable {
        /// Record the agent on `nodeID` at `generation` (store first), then start it there.
        case assign(agentID: String, nodeID: String, generation: Int)
        /// No node fits; the agent waits, unplaced.
        case unplaceable(agentID: String, failure: PlacementFailure)
        /// Ask a node to run an agent it should run but does not report.
        case start(nodeID: String, NodeProtocol.AgentStart)
        /// Ask a node to stop an agent it should not run (or not at that generation).
        case stop(nodeID: String, NodeProtocol.AgentStop)
        /// Record the status a node reports for the current generation.
        case recordStatus(agentID: String, status: AgentStatus, restarts: Int)
        /// The agent is undeployed and no node runs it any more: forget it.
        case remove(agentID: String)
    }

    /// The actions that converge `snapshot`.
    public mutating func reconcile(_ snapshot: Snapshot) -> [Action] {
        var actions: [Action] = []
        let agentsByID = Dictionary(snapshot.agents.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let nodesByID = Dictionary(snapshot.nodes.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var reportedByAgent: [String: [(node: String, agent: NodeProtocol.RunningAgent)]] = [:]
        for (nodeID, running) in snapshot.reported where snapshot.connected.contains(nodeID) {
            for agent in running { reportedByAgent[agent.agentID, default: []].append((nodeID, agent)) }
        }

        // Stale copies first: a node stops what it should not run before it starts anything.
        for nodeID in snapshot.reported.keys.sorted() where snapshot.connected.contains(nodeID) {
            for running in snapshot.reported[nodeID] ?? [] {
                guard let reason = Self.staleReason(running, on: nodeID, agent: agentsByID[running.agentID]) else { continue }
                actions.append(.stop(nodeID: nodeID, .init(agentID: running.agentID, generation: running.generation, reason: reason)))
            }
        }

        var candidates = Self.candidates(snapshot)
        // Built on first need: a failed node can leave thousands of agents to place in one pass.
        var index: PlacementIndex?
        for agent in snapshot.agents.sorted(by: { $0.createdAt < $1.createdAt || ($0.createdAt == $1.createdAt && $0.id < $1.id) }) {
            switch agent.desiredState {
            case .stopped:
                if reportedByAgent[agent.id, default: []].isEmpty {
                    actions.append(.remove(agentID: agent.id))
                }
            case .running:
                if let nodeID = agent.nodeID, let node = nodesByID[nodeID], node.status != .down {
                    if agent.status == .failed || node.status == .draining {
                        // Crashed past its restart limit here, or the node is draining: move it if some
                        // other node can take it (a failed agent a bounded number of times).
                        let excluded = Set((agent.failedNodes ?? []) + [nodeID])
                        if agent.status == .failed, excluded.count > maxFailovers { continue }
                        if case .placed(let target) = scheduler.place(PlacementRequest(agent: agent), on: candidates.filter { !excluded.contains($0.nodeID) }) {
                            actions.append(.assign(agentID: agent.id, nodeID: target, generation: agent.generation + 1))
                            actions.append(.start(nodeID: target, Self.startMessage(agent, generation: agent.generation + 1)))
                            Self.take(agent, on: target, in: &candidates)
                            index?.reserve(PlacementRequest(agent: agent), onNode: target)
                            continue
                        }
                        if agent.status == .failed { continue }
                    }
                    guard snapshot.connected.contains(nodeID) else { continue }
                    let current = reportedByAgent[agent.id, default: []].first { $0.node == nodeID && $0.agent.generation == agent.generation }
                    if let current {
                        if current.agent.status != agent.status || current.agent.restarts != agent.restarts {
                            actions.append(.recordStatus(agentID: agent.id, status: current.agent.status, restarts: current.agent.restarts))
                        }
                    } else if agent.status != .failed {
                        actions.append(.start(nodeID: nodeID, Self.startMessage(agent, generation: agent.generation)))
                    }
                    continue
                }
                let request = PlacementRequest(agent: agent)
                let decision: PlacementDecision
                if request.strategy == .roundRobin {
                    // The scheduler keeps the round-robin cursor from pass to pass.
                    decision = scheduler.place(request, on: candidates)
                    if case .placed(let nodeID) = decision { index?.reserve(request, onNode: nodeID) }
                } else {
                    if index == nil { index = PlacementIndex(candidates: candidates, cpuOvercommit: scheduler.cpuOvercommit) }
                    decision = index!.place(request)
                }
                switch decision {
                case .placed(let nodeID):
                    let generation = agent.generation + 1
                    actions.append(.assign(agentID: agent.id, nodeID: nodeID, generation: generation))
                    actions.append(.start(nodeID: nodeID, Self.startMessage(agent, generation: generation)))
                    Self.take(agent, on: nodeID, in: &candidates)
                case .unplaceable(let failure):
                    actions.append(.unplaceable(agentID: agent.id, failure: failure))
                }
            }
        }
        return actions
    }

    /// Counts `agent` against the room of `nodeID` for the rest of the pass.
    public static func take(_ agent: AgentRecord, on nodeID: String, in candidates: inout [PlacementCandidate]) {
        guard let index = candidates.firstIndex(where: { $0.nodeID == nodeID }) else { return }
        candidates[index].allocated = candidates[index].allocated + agent.resources
        candidates[index].agentCount += 1
        candidates[index].agentLabels.append(agent.labels)
    }

    /// Why a copy a node reports must stop, or `nil` if it is the current one.
    static func staleReason(_ running: NodeProtocol.RunningAgent, on nodeID: String, agent: AgentRecord?) -> String? {
        guard let agent else { return "unknown agent" }
        if agent.desiredState == .stopped { return "undeployed" }
        if agent.nodeID != nodeID { return "agent was placed on another node" }
        if running.generation != agent.generation { return "generation \(running.generation) is stale; current is \(agent.generation)" }
        return nil
    }

    /// The `agent.start` that runs `agent` at `generation` with its last checkpoint.
    public static func startMessage(_ agent: AgentRecord, generation: Int) -> NodeProtocol.AgentStart {
        .init(agentID: agent.id, agentType: agent.agentType, generation: generation, config: agent.config, state: agent.state)
    }

    /// Placement candidates with the resources of the agents already placed on them.
    public static func candidates(_ snapshot: Snapshot) -> [PlacementCandidate] {
        if let candidates = snapshot.candidates { return candidates }
        var byNode: [String: PlacementCandidate] = [:]
        for node in snapshot.nodes {
            byNode[node.id] = PlacementCandidate(
                nodeID: node.id, tenant: node.tenant, status: node.status,
                connected: snapshot.connected.contains(node.id) && node.connection == .websocket,
                agentTypes: Set(node.agentTypes.map(\.name)), capabilities: Set(node.capabilities), labels: node.labels,
                capacity: node.resources.capacity, maxAgents: node.maxAgents, shared: node.isShared
            )
        }
        for agent in snapshot.agents where agent.desiredState == .running {
            guard let nodeID = agent.nodeID, var candidate = byNode[nodeID] else { continue }
            candidate.allocated = candidate.allocated + agent.resources
            candidate.agentCount += 1
            candidate.agentLabels.append(agent.labels)
            byNode[nodeID] = candidate
        }
        return Array(byNode.values)
    }
}
