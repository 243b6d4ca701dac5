import Foundation

/// Decides, from heartbeat times alone, which nodes are late (`suspect`) or gone (`down`).
///
/// The server owns the timing: it tells each node its heartbeat interval in `welcome` and
/// applies the grace period here. Pure: time is a parameter.
public struct NodeLiveness: Sendable, Hashable {
    /// How often nodes are told to heartbeat.
    public var interval: Duration
    /// Silence after which a node is `down` and its agents are placed elsewhere.
    public var grace: Duration

    public init(interval: Duration, grace: Duration) {
        self.interval = interval
        self.grace = grace
    }

    /// Silence after which a node is `suspect`: two missed heartbeats, but never past the grace.
    public var suspectAfter: Duration { min(interval * 2, grace) }

    /// A node's status as the liveness monitor sees it.
    public struct Observation: Sendable, Hashable {
        public var nodeID: String
        public var status: NodeStatus
        public var lastSeen: Date

        public init(nodeID: String, status: NodeStatus, lastSeen: Date) {
            self.nodeID = nodeID
            self.status = status
            self.lastSeen = lastSeen
        }
    }

    /// A status change the monitor wants recorded.
    public struct Transition: Sendable, Hashable {
        public var nodeID: String
        public var from: NodeStatus
        public var to: NodeStatus

        public init(nodeID: String, from: NodeStatus, to: NodeStatus) {
            self.nodeID = nodeID
            self.from = from
            self.to = to
        }
    }

    /// The transitions due at `now`.
    public func evaluate(_ nodes: [Observation], now: Date) -> [Transition] {
        let graceSeconds = Self.seconds(grace), suspectSeconds = Self.seconds(suspectAfter)
        return nodes.compactMap { node in
            guard node.status != .down else { return nil }
            let silence = now.timeIntervalSince(node.lastSeen)
            if silence > graceSeconds {
                return Transition(nodeID: node.nodeID, from: node.status, to: .down)
            }
            if silence > suspectSeconds, node.status == .active {
                return Transition(nodeID: node.nodeID, from: node.status, to: .suspect)
            }
            return nil
        }
    }

    /// The status a node takes when a heartbeat arrives from it.
    public static func statusOnHeartbeat(_ status: NodeStatus) -> NodeStatus {
        switch status {
        case .registering, .suspect, .active: return .active
        case .draining: return .draining
        case .down: return .down
        }
    }

    /// A duration as fractional seconds.
    public static func seconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
