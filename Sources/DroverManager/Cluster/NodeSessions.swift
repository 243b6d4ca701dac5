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
        var reported: [NodeProtocol.RunningAgent]
        /// Tasks sent on this session and not yet answered, by `deliveryKey` (task ids are per
        /// tenant, and a shared node runs agents of several tenants).
        var dispatched: Set<String> = []
    }

    private var sessions: [String: Session] = [:]
    /// When each node was last heard from in this process, kept after its session ends: liveness
    /// is judged from it, so a store that refuses writes never makes a node look silent.
    private var heardAt: [String: Date] = [:]
    /// Grows whenever a session opens or ends or what a node reports changes.
    private var version: UInt64 = 0

    /// Records a new session for `nodeID`, closing the one it replaces.
    func open(
        nodeID: String, sessionID: UUID, outbound: AsyncStream<NodeMessage>.Continuation, reported: [NodeProtocol.RunningAgent], now: Date,
        credential: String? = nil
    ) {
        if let old = sessions[nodeID], old.id != sessionID {
            old.outbound.finish()
        }
        sessions[nodeID] = Session(id: sessionID, outbound: outbound, credential: credential, lastSeen: now, reported: reported)
        heardAt[nodeID] = now
        version &+= 1
    }

    /// Forgets a session if it is still the current one for the node; `true` if it was.
    @discardableResult
    func close(nodeID: String, sessionID: UUID) -> Bool {
        guard let session = sessions[nodeID], session.id == sessionID else { return false }
        session.outbound.finish()
        sessions[nodeID] = nil
        version &+= 1
        return true
    }

    /// Ends a node's session from the manager's side (it was marked down or removed).
    func disconnect(nodeID: String) {
        sessions.removeValue(forKey: nodeID)?.outbound.finish()
        version &+= 1
    }

    /// Ends every session opened with the stored credential `credential` (it was revoked); returns their node ids.
    @discardableResult
    func disconnect(credential: String) -> [String] {
        let nodeIDs = sessions.filter { $0.value.credential == credential }.map(\.key)
        for nodeID in nodeIDs { disconnect(nodeID: nodeID) }
        return nodeIDs
    }

    /// Whether the node has a session open now.
    func isConnected(nodeID: String) -> Bool {
        sessions[nodeID] != nil
    }

    func isCurrent(nodeID: String, sessionID: UUID) -> Bool {
        sessions[nodeID]?.id == sessionID
    }

    func heard(from nodeID: String, reported: [NodeProtocol.RunningAgent]?, now: Date) {
        guard var session = sessions[nodeID] else { return }
        session.lastSeen = now
        heardAt[nodeID] = now
        if let reported, reported != session.reported {
            session.reported = reported
            version &+= 1
        }
        sessions[nodeID] = session
    }

    /// Updates the one agent a status report is about.
    func updateReported(nodeID: String, agent: NodeProtocol.RunningAgent, now: Date) {
        guard var session = sessions[nodeID] else { return }
        session.lastSeen = now
        heardAt[nodeID] = now
        session.reported.removeAll { $0.agentID == agent.agentID }
        if agent.status != .stopped { session.reported.append(agent) }
        sessions[nodeID] = session
        version &+= 1
    }

    /// Sends a message on the node's session; `false` if the node is not connected.
    @discardableResult
    func send(_ message: NodeMessage, to nodeID: String) -> Bool {
        guard let session = sessions[nodeID] else { return false }
        if case .enqueued = session.outbound.yield(message) { return true }
        return false
    }

    /// Sends `task.run` unless this session already carries the task.
    func dispatch(_ run: NodeProtocol.TaskRun, to nodeID: String) -> Bool {
        let key = NodeProtocol.deliveryKey(agentID: run.agentID, taskID: run.taskID)
        guard var session = sessions[nodeID], !session.dispatched.contains(key) else { return false }
        guard case .enqueued = session.outbound.yield(.taskRun(run)) else { return false }
        session.dispatched.insert(key)
        sessions[nodeID] = session
        return true
    }

    /// The task is answered (or rejected): it may be sent again later.
    func settle(agentID: String, taskID: String, nodeID: String) {
        sessions[nodeID]?.dispatched.remove(NodeProtocol.deliveryKey(agentID: agentID, taskID: taskID))
    }

    func isDispatched(agentID: String, taskID: String, nodeID: String) -> Bool {
        sessions[nodeID]?.dispatched.contains(NodeProtocol.deliveryKey(agentID: agentID, taskID: taskID)) ?? false
    }

    var connected: Set<String> { Set(sessions.keys) }

    var reported: [String: [NodeProtocol.RunningAgent]] { sessions.mapValues(\.reported) }

    /// What reconciliation looks at, read at once, with the version it was read at.
    var reconcileView: (connected: Set<String>, reported: [String: [NodeProtocol.RunningAgent]], version: UInt64) {
        (connected, reported, version)
    }

    /// When each node was last heard from by this process, connected now or not.
    var lastSeen: [String: Date] { heardAt }
}
