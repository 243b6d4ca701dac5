import DroverCore
import Foundation
import Testing

@Suite("Node liveness")
struct NodeLivenessTests {
    let liveness = NodeLiveness(interval: .seconds(1), grace: .seconds(3))
    let start = Date(timeIntervalSince1970: 1_000)

    @Test("a node is suspect after two missed heartbeats and down after the grace", arguments: [
        (0.5, NodeStatus.active, nil as NodeStatus?),
        (2.5, .active, .suspect),
        (2.5, .suspect, nil),
        (3.5, .active, .down),
        (3.5, .suspect, .down),
        (3.5, .draining, .down),
        (3.5, .registering, .down),
        (100, .down, nil),
    ])
    func transitions(silence: Double, status: NodeStatus, expected: NodeStatus?) {
        let observation = NodeLiveness.Observation(nodeID: "n", status: status, lastSeen: start)
        let result = liveness.evaluate([observation], now: start.addingTimeInterval(silence))
        #expect(result.first?.to == expected)
    }

    @Test("a heartbeat brings a suspect node back; draining and down stay")
    func heartbeat() {
        #expect(NodeLiveness.statusOnHeartbeat(.suspect) == .active)
        #expect(NodeLiveness.statusOnHeartbeat(.registering) == .active)
        #expect(NodeLiveness.statusOnHeartbeat(.draining) == .draining)
        #expect(NodeLiveness.statusOnHeartbeat(.down) == .down)
    }

    @Test("suspicion never comes later than the grace")
    func suspectBoundedByGrace() {
        let short = NodeLiveness(interval: .seconds(5), grace: .seconds(6))
        #expect(short.suspectAfter == .seconds(6))
    }
}
