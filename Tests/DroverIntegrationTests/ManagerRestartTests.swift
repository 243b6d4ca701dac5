import DroverClient
import DroverCore
import DroverTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The manager's own restarts must not look like node failures: nodes that back off while it is
/// away get a reconnect window, so no node is declared down and no agent is stopped or moved.
@Suite("Manager restarts", .serialized, .timeLimit(.minutes(4)))
struct ManagerRestartTests {
    @Test("8 manager restarts with the README's fast-failover settings: no node down, the same agent processes")
    func restartsMoveNothing() async throws {
        // The README's fast failover: heartbeat 1 s, grace 3 s. Nodes back off up to 5 s between dials.
        let cluster = try TestCluster(heartbeatInterval: 1, heartbeatGrace: 3)
        try await cluster.startManager()
        for id in ["r1", "r2"] {
            try await cluster.startNode(id)
            try await cluster.waitForNode(id, status: .active)
        }
        var deployed: [AgentRecord] = []
        for index in 0..<4 {
            deployed.append(try await cluster.client.deploy(DeployRequest(agentType: "py_echo", preferredContainer: index % 2 == 0 ? "r1" : "r2")))
        }
        for agent in deployed {
            try await eventually("\(agent.id) runs") { try await cluster.client.agent(id: agent.id).status == .running }
        }
        let pidsBefore = try await Self.agentPIDs(cluster)
        #expect(pidsBefore.count == 4, "\(pidsBefore)")

        // Downtimes around and past the nodes' 5 s backoff cap, and past the 3 s grace.
        for downtime in [8.0, 0.2, 1, 3, 5, 8, 0.5, 2] {
            await cluster.killManager()
            try await Task.sleep(for: .milliseconds(Int(downtime * 1_000)))
            try await cluster.startManager()
            try await eventually("both nodes reconnected after \(downtime) s away", timeout: .seconds(20)) {
                let nodes = try await cluster.client.nodes()
                let r1 = try await cluster.nodeText("r1", "/metrics"), r2 = try await cluster.nodeText("r2", "/metrics")
                return nodes.count == 2 && nodes.allSatisfy { $0.status == .active }
                    && r1.contains("drover_node_manager_connected 1") && r2.contains("drover_node_manager_connected 1")
            }
        }
        // Past a whole grace after the last restart: still nobody down.
        try await Task.sleep(for: .seconds(4))

        let events = try await cluster.client.events(after: 0, limit: 1_000)
        let bad = events.filter { ["node.down", "node.suspect", "agent.rescheduled", "agent.failed"].contains($0.kind) }
        #expect(bad.isEmpty, "\(bad.map { "\($0.kind) \($0.nodeID ?? "-") \($0.message)" })\n\(cluster.logs)")
        for agent in deployed {
            let now = try await cluster.client.agent(id: agent.id)
            #expect(now.generation == agent.generation && now.nodeID == agent.nodeID, "\(now)")
            #expect(now.status == .running)
        }
        let pidsAfter = try await Self.agentPIDs(cluster)
        #expect(pidsAfter == pidsBefore, "agent processes were restarted: \(pidsBefore) → \(pidsAfter)")
    }

    @Test("a node with 2,600 agents reconnects after a restart: its list arrives in parts, whole; nothing is restarted or moved")
    func bigNodeReconnects() async throws {
        let cluster = try TestCluster(heartbeatInterval: 0.3, heartbeatGrace: 3)
        try await cluster.startManager()
        try await cluster.startNode("big", extraArguments: ["--max-agents", "5000"])
        try await cluster.waitForNode("big", status: .active)
        let count = 2_600  // 2 parts: 2,000 and 600
        let deployed = try await cluster.client.deploy(DeployRequest(agentType: "echo"), replicas: count)
        try await eventually("all \(count) run", timeout: .seconds(60)) {
            try await cluster.client.clusterStatus().agents["running"] == count
        }

        await cluster.killManager()
        try await cluster.startManager()
        try await eventually("the node reconnected with its whole list", timeout: .seconds(20)) {
            try await cluster.client.events(limit: 1_000).contains { $0.kind == "node.reconnected" && $0.message.contains("with \(count) agents") }
        }
        // Five undeployed: the node's list changes, and its next heartbeat carries it whole, in parts.
        for agent in deployed.suffix(5) { _ = try await cluster.client.undeploy(id: agent.id) }
        try await eventually("the five are gone", timeout: .seconds(20)) {
            try await cluster.client.clusterStatus().agents["running"] == count - 5
        }
        try await Task.sleep(for: .seconds(2))
        #expect(try await cluster.client.node(id: "big").status == .active)
        #expect(try await cluster.client.clusterStatus().agents["running"] == count - 5)
        let bad = try await cluster.client.events(limit: 1_000).filter { ["node.down", "node.suspect", "agent.rescheduled", "agent.failed"].contains($0.kind) }
        #expect(bad.isEmpty, "\(bad.map { "\($0.kind) \($0.message)" })")
        var listed: [String: AgentRecord] = [:]
        for agent in try await cluster.client.agents() { listed[agent.id] = agent }
        for agent in deployed.dropLast(5) {
            let now = listed[agent.id]
            #expect(now?.generation == agent.generation && now?.nodeID == "big" && now?.restarts == 0, "\(agent.id): \(String(describing: now))")
        }
        let output = cluster.fullLogs
        for refusal in ["too_many_agents", "unexpected_message", "hello_incomplete", "frame over the size limit"] {
            #expect(!output.contains(refusal), "\(refusal) in the logs")
        }
    }

    @Test("a node that does not come back after a restart is still declared down once the reconnect window and the grace pass")
    func absentNodeStillGoesDown() async throws {
        let cluster = try TestCluster(heartbeatInterval: 0.3, heartbeatGrace: 1.5)
        cluster.managerArguments = ["--reconnect-grace", "2"]
        try await cluster.startManager()
        try await cluster.startNode("gone")
        try await cluster.waitForNode("gone", status: .active)
        await cluster.killManager()
        await cluster.stopNode("gone", signal: SIGKILL)
        let restarted = ContinuousClock.now
        try await cluster.startManager()
        try await Task.sleep(for: .seconds(1.5))
        #expect(try await cluster.client.node(id: "gone").status != .down, "declared down inside the reconnect window")
        try await cluster.waitForNode("gone", status: .down, timeout: .seconds(15))
        let took = ContinuousClock.now - restarted
        #expect(took >= .seconds(3.5), "down after \(took): the reconnect window (2 s) and the grace (1.5 s) were not both given")
    }

    /// Agent id → process id, from every node's local API.
    static func agentPIDs(_ cluster: TestCluster) async throws -> [String: Int] {
        var pids: [String: Int] = [:]
        for node in ["r1", "r2"] {
            for item in try await cluster.nodeAPI(node, "/agents")["items"]?.arrayValue ?? [] {
                if let id = item["agent_id"]?.stringValue, let pid = item["pid"]?.intValue { pids[id] = pid }
            }
        }
        return pids
    }
}
