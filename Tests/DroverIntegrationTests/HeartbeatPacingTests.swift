import DroverClient
import DroverCore
import DroverTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The manager keeps the fleet's heartbeats under `--max-heartbeats-per-second` by telling
/// nodes a longer interval (a later `welcome`), and a shorter one again when the fleet shrinks.
@Suite("Heartbeat pacing", .serialized, .timeLimit(.minutes(2)))
struct HeartbeatPacingTests {
    @Test("3 nodes under a limit of 5/s are told 0.75 s instead of 0.2 s, stay active, and go back to 0.2 s when 2 of them die")
    func pacesTheFleet() async throws {
        let cluster = try TestCluster(heartbeatInterval: 0.2, heartbeatGrace: 1.2)
        cluster.managerArguments += ["--max-heartbeats-per-second", "5"]
        try await cluster.startManager()
        for id in ["p1", "p2", "p3"] { try await cluster.startNode(id) }
        for id in ["p1", "p2", "p3"] { try await cluster.waitForNode(id, status: .active) }

        // 3 nodes need 0.6 s at 5 heartbeats/s; the manager asks for a quarter more.
        try await eventually("every node beats every 0.75 s", timeout: .seconds(10)) {
            var all = true
            for id in ["p1", "p2", "p3"] {
                let interval = gauge("drover_node_heartbeat_interval_seconds", in: try await cluster.nodeText(id, "/metrics"))
                all = all && interval.map { abs($0 - 0.75) < 0.001 } == true
            }
            return all
        }
        let managerMetrics = String(decoding: try await cluster.client.raw(method: "GET", path: "/metrics").body, as: UTF8.self)
        #expect(gauge("drover_manager_heartbeat_interval_seconds", in: managerMetrics).map { abs($0 - 0.75) < 0.001 } == true)

        // Past the base grace (1.2 s) several times over, nobody is suspect: the grace grew too.
        let watchUntil = ContinuousClock.now + .seconds(4)
        while ContinuousClock.now < watchUntil {
            let statuses = try await cluster.client.nodes().map(\.status)
            #expect(statuses.allSatisfy { $0 == .active }, "\(statuses)")
            try await Task.sleep(for: .milliseconds(250))
        }

        // Two die: once they are down, one node is left and is told the base interval again.
        await cluster.stopNode("p2", signal: SIGKILL)
        await cluster.stopNode("p3", signal: SIGKILL)
        try await cluster.waitForNode("p2", status: .down, timeout: .seconds(15))
        try await cluster.waitForNode("p3", status: .down, timeout: .seconds(15))
        try await eventually("the node left beats every 0.2 s again", timeout: .seconds(10)) {
            gauge("drover_node_heartbeat_interval_seconds", in: try await cluster.nodeText("p1", "/metrics")).map { abs($0 - 0.2) < 0.001 } == true
        }
        // The change of pace itself declares nothing down.
        try await Task.sleep(for: .seconds(3))
        #expect(try await cluster.client.node(id: "p1").status == .active)
        await cluster.stopAll()
    }
}

/// The value of an unlabelled gauge in Prometheus text.
private func gauge(_ name: String, in text: String) -> Double? {
    text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
}
