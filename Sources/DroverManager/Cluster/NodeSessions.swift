import DroverCore
import Foundation

/// The live gateway sessions: one per connected node, with what the node last reported.
///
/// In memory only; after a manager restart nodes reconnect and say again what they run.
actor NodeSessions {
    struct Session {
        let id: UUID
        let outbound: AsyncStream<NodeMessage>.Continuation
        /// The stored credential the session was opened with, if any (revoking it ends the session).
        let credential: String?
        var lastSeen: Date
        /// What the node last said it runs, by agent id.
        var reported: [String: NodeProtocol.RunningAgent]
        /// Tasks sent on this session and not yet answered, by `deliveryKey` (task ids are per
        /// tenant, and a shared node runs agents of several tenants).
        var dispatched: Set<String> = []
        /// `RunningAgent.digest(reported.values)`, kept until `reported` changes.
        var digest: String?
    }

    private var sessions: [String: Session] = [:]
    /// When each node was last heard from in this process, kept after its session ends: liveness
    /// is judged from it, so a store that refuses writes never makes a node look silent.
    private var heardAt: [String: Date] = [:]
    /// Which connected nodes report each agent (the reverse of `Session.reported`).
    private var reportedBy: [String: ReportingNodes] = [:]
    /// Agents whose reported copies changed since reconciliation last looked (`takeChanged`).
    private var changedAgents: Set<String> = []
    /// The nodes with a session, kept as sessions open and end (read on every placement), and a
    /// counter bumped when it changes.
    private(set) var connected: Set<String> = []
    private(set) var connectedVersion: UInt64 = 0

    private func markConnected(_ nodeID: String, _ isConnected: Bool) {
        let changed = isConnected ? connected.insert(nodeID).inserted : connected.remove(nodeID) != nil
        if changed { connectedVersion &+= 1 }
    }

    /// The connected nodes and the version of that set, read together.
    var connectedSnapshot: (nodes: Set<String>, version: UInt64) { (connected, connectedVersion) }

    /// Records a new session for `nodeID`, closing the one it replaces.
    func open(
        nodeID: String, sessionID: UUID, outbound: AsyncStream<NodeMessage>.Continuation, reported: [NodeProtocol.RunningAgent], now: Date,
        credential: String? = nil
    ) {
        if let old = sessions[nodeID], old.id != sessionID {
            old.outbound.finish()
        }
        let previous = sessions[nodeID]?.reported ?? [:]
        sessions[nodeID] = Session(id: sessionID, outbound: outbound, credential: credential, lastSeen: now, reported: Self.byAgent(reported))
        markConnected(nodeID, true)
        heardAt[nodeID] = now
        reindex(nodeID, from: previous, to: sessions[nodeID]?.reported ?? [:], all: true)
    }

    /// Forgets a session if it is still the current one for the node; `true` if it was.
    @discardableResult
    func close(nodeID: String, sessionID: UUID) -> Bool {
        guard let session = sessions[nodeID], session.id == sessionID else { return false }
        session.outbound.finish()
        sessions[nodeID] = nil
        markConnected(nodeID, false)
        reindex(nodeID, from: session.reported, to: [:], all: true)
        return true
    }

    /// Ends a node's session from the manager's side (it was marked down or removed).
    func disconnect(nodeID: String) {
        guard let session = sessions.removeValue(forKey: nodeID) else { return }
        session.outbound.finish()
        markConnected(nodeID, false)
        reindex(nodeID, from: session.reported, to: [:], all: true)
    }

    /// Ends every session opened with the stored credential `credential` (it was revoked); returns their node ids.
    @discardableResult
    func disconnect(credential: String) -> [String] {
        let nodeIDs = sessions.filter { $0.value.credential == credential }.map(\.key)
        for nodeID in nodeIDs { disconnect(nodeID: nodeID) }
        return nodeIDs
    }

    /// Sends every connected node a frame made for it.
    func sendEach(_ make: (String) -> NodeMessage) {
        for (nodeID, session) in sessions { session.outbound.yield(make(nodeID)) }
    }

    /// Whether the node has a session open now.
    func isConnected(nodeID: String) -> Bool {
        sessions[nodeID] != nil
    }

    func isCurrent(nodeID: String, sessionID: UUID) -> Bool {
        sessions[nodeID]?.id == sessionID
    }

    /// A heartbeat: the node is alive, and runs `reported` (when the heartbeat carries the
    /// list). Returns `false` when the heartbeat carries instead a `digest` that does not match
    /// what the session holds (the caller asks the node for its list).
    func heard(from nodeID: String, reported: [NodeProtocol.RunningAgent]?, digest: String? = nil, now: Date) -> Bool {
        guard sessions[nodeID] != nil else { return true }
        heardAt[nodeID] = now
        sessions[nodeID]?.lastSeen = now
        guard let reported else {
            guard let digest else { return true }
            // Changed in place: a copy of the session would copy its whole report.
            if sessions[nodeID]?.digest == nil, let held = sessions[nodeID]?.reported.values {
                sessions[nodeID]?.digest = NodeProtocol.RunningAgent.digest(held)
            }
            return sessions[nodeID]?.digest == digest
        }
        let byAgent = Self.byAgent(reported)
        guard let previous = sessions[nodeID]?.reported, byAgent != previous else { return true }
        sessions[nodeID]?.reported = byAgent
        sessions[nodeID]?.digest = nil
        reindex(nodeID, from: previous, to: byAgent, all: false)
        return true
    }

    /// Updates the one agent a status report is about.
    func updateReported(nodeID: String, agent: NodeProtocol.RunningAgent, now: Date) {
        guard sessions[nodeID] != nil else { return }
        heardAt[nodeID] = now
        let current = agent.status == .stopped ? nil : agent
        let previous = sessions[nodeID]?.reported[agent.agentID]
        // Changed in place: a copy of the session would copy its whole report (10,000 agents on a node).
        sessions[nodeID]?.lastSeen = now
        sessions[nodeID]?.reported[agent.agentID] = current
        guard previous != current else { return }
        sessions[nodeID]?.digest = nil
        changedAgents.insert(agent.agentID)
        if current == nil { reportedBy.drop(nodeID, reporting: agent.agentID) } else { reportedBy.add(nodeID, reporting: agent.agentID) }
    }

    /// Keeps `reportedBy` and `changedAgents` up to date when a node's report goes from
    /// `old` to `new` (with `all`, every agent of both counts as changed: the session itself
    /// opened or ended).
    private func reindex(_ nodeID: String, from old: [String: NodeProtocol.RunningAgent], to new: [String: NodeProtocol.RunningAgent], all: Bool) {
        for (agentID, copy) in old where new[agentID] == nil {
            reportedBy.drop(nodeID, reporting: agentID)
            if all || copy != new[agentID] { changedAgents.insert(agentID) }
        }
        for (agentID, copy) in new {
            reportedBy.add(nodeID, reporting: agentID)
            if all || old[agentID] != copy { changedAgents.insert(agentID) }
        }
    }

    /// The agents whose reported copies changed since the last call (and forgets them), and
    /// the nodes connected now: a session that opens or ends after this marks its agents again.
    func takeChanged() -> (agents: Set<String>, connected: Set<String>) {
        defer { changedAgents = [] }
        return (changedAgents, connected)
    }

    /// What connected nodes report about `agentIDs` only: the part of `reported` a
    /// reconciliation pass over those agents needs.
    func reported(about agentIDs: Set<String>) -> [String: [NodeProtocol.RunningAgent]] {
        var view: [String: [NodeProtocol.RunningAgent]] = [:]
        for agentID in agentIDs {
            guard let nodeIDs = reportedBy[agentID] else { continue }
            for nodeID in nodeIDs {
                if let copy = sessions[nodeID]?.reported[agentID] { view[nodeID, default: []].append(copy) }
            }
        }
        return view
    }

    /// Sends a message on the node's session; `false` if the node is not connected.
    @discardableResult
    func send(_ message: NodeMessage, to nodeID: String) -> Bool {
        guard let session = sessions[nodeID] else { return false }
        if case .enqueued = session.outbound.yield(message) { return true }
        return false
    }

    /// Sends each node its messages, in order (a node that is not connected gets none).
    func send(_ messages: [String: [NodeMessage]]) {
        for (nodeID, list) in messages {
            guard let session = sessions[nodeID] else { continue }
            for message in list {
                guard case .enqueued = session.outbound.yield(message) else { break }
            }
        }
    }

    /// Sends `task.run` unless this session already carries the task.
    func dispatch(_ run: NodeProtocol.TaskRun, to nodeID: String) -> Bool {
        let key = NodeProtocol.deliveryKey(agentID: run.agentID, taskID: run.taskID)
        guard let session = sessions[nodeID], !session.dispatched.contains(key) else { return false }
        guard case .enqueued = session.outbound.yield(.taskRun(run)) else { return false }
        sessions[nodeID]?.dispatched.insert(key)
        return true
    }

    /// The task is answered (or rejected): it may be sent again later.
    func settle(agentID: String, taskID: String, nodeID: String) {
        sessions[nodeID]?.dispatched.remove(NodeProtocol.deliveryKey(agentID: agentID, taskID: taskID))
    }

    func isDispatched(agentID: String, taskID: String, nodeID: String) -> Bool {
        sessions[nodeID]?.dispatched.contains(NodeProtocol.deliveryKey(agentID: agentID, taskID: taskID)) ?? false
    }

    /// What every connected node reports, as lists (a copy of everything: for full passes).
    var reported: [String: [NodeProtocol.RunningAgent]] { sessions.mapValues { Array($0.reported.values) } }

    /// The copy of `agentID` that `nodeID` reports, if it is connected and reports one.
    func reportedCopy(nodeID: String?, agentID: String) -> NodeProtocol.RunningAgent? {
        guard let nodeID else { return nil }
        return sessions[nodeID]?.reported[agentID]
    }

    private static func byAgent(_ agents: [NodeProtocol.RunningAgent]) -> [String: NodeProtocol.RunningAgent] {
        Dictionary(agents.map { ($0.agentID, $0) }, uniquingKeysWith: { _, last in last })
    }


    /// When each node was last heard from by this process, connected now or not.
    var lastSeen: [String: Date] { heardAt }
}
