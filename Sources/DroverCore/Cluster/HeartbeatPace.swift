import Foundation

/// The heartbeat interval and grace the manager tells its nodes, stretched as the fleet grows
/// so that all nodes together send at most `maxPerSecond` heartbeats (Nomad's
/// `max_heartbeats_per_second`). An idle manager's work then stays flat however many nodes it
/// has; the price is that a dead node in a large fleet is noticed later.
///
/// A stretched interval adds to the grace what it adds to the interval: with 5 s and 15 s,
/// a fleet paced to 20 s gets a grace of 30 s (a node may be 10 s late, as before).
///
/// The interval follows the fleet in steps, not node by node, so that a node joining does not
/// send a new `welcome` to every node: it grows when the fleet needs more than the announced
/// interval (to `headroom` times what it needs), and shrinks when the fleet needs less than
/// two thirds of it. When it shrinks, nodes still sleeping the longer interval are judged by
/// the longer grace until that grace has passed since the change. Pure: time is a parameter.
public struct HeartbeatPace: Sendable, Hashable {
    /// The configured interval and grace: the fastest nodes are ever told to beat.
    public let base: NodeLiveness
    /// Heartbeats per second the whole fleet may send (`nil`: no limit).
    public let maxPerSecond: Double?
    /// What nodes are told now (in `welcome`).
    public private(set) var announced: NodeLiveness
    /// The longer liveness announced before a shrink, and until when it still judges.
    private var previous: NodeLiveness?
    private var previousUntil: Date = .distantPast

    /// How far above its need the interval is set when it grows.
    public static let headroom = 1.25
    /// The interval shrinks once the fleet needs less than this share of it.
    public static let shrinkBelow = 2.0 / 3.0

    public init(base: NodeLiveness, maxPerSecond: Double?) {
        self.base = base
        self.maxPerSecond = maxPerSecond.flatMap { $0 > 0 && $0.isFinite ? $0 : nil }
        self.announced = base
    }

    /// The interval (seconds) `nodes` nodes need to stay within `maxPerSecond`, never under the base's.
    public func neededInterval(nodes: Int) -> Double {
        let floor = NodeLiveness.seconds(base.interval)
        guard let maxPerSecond else { return floor }
        return max(floor, Double(max(0, nodes)) / maxPerSecond)
    }

    /// The liveness of an interval of `seconds` (at least the base's): the grace grows by as much.
    public func liveness(interval seconds: Double) -> NodeLiveness {
        let floor = NodeLiveness.seconds(base.interval)
        guard seconds > floor else { return base }
        let stretch = Duration.milliseconds(Int64(((seconds - floor) * 1_000).rounded()))
        return NodeLiveness(interval: base.interval + stretch, grace: base.grace + stretch)
    }

    /// Follows a fleet of `nodes` at `now`: the liveness to tell every connected node when it
    /// changed, or `nil` while the announced one still fits.
    public mutating func update(nodes: Int, now: Date) -> NodeLiveness? {
        let needed = neededInterval(nodes: nodes)
        let current = NodeLiveness.seconds(announced.interval)
        let next: NodeLiveness
        if needed > current {
            next = liveness(interval: needed * Self.headroom)
        } else if needed < current * Self.shrinkBelow {
            next = liveness(interval: needed > NodeLiveness.seconds(base.interval) ? needed * Self.headroom : needed)
            guard next.interval < announced.interval else { return nil }
            // Nodes that have not heard yet sleep the longer interval once more (the longest of
            // two shrinks close together).
            let until = now.addingTimeInterval(NodeLiveness.seconds(announced.grace))
            if let earlier = previous, now < previousUntil, earlier.grace > announced.grace {
                previousUntil = max(previousUntil, until)
            } else {
                previous = announced
                previousUntil = until
            }
        } else {
            return nil
        }
        guard next != announced else { return nil }
        announced = next
        return next
    }

    /// The liveness nodes are judged by at `now`: the announced one, or the longer one it
    /// replaced while nodes may still be following that.
    public func judging(at now: Date) -> NodeLiveness {
        guard let previous, now < previousUntil, previous.grace > announced.grace else { return announced }
        return previous
    }
}
