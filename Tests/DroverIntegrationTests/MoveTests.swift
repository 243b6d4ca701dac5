import DroverClient
import DroverCore
import DroverTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Agents moving between real node processes: migration with state, drain, rebalance, and a
/// partition healed after the agents moved (fencing).
@Suite("Moving agents", .serialized, .timeLimit(.minutes(3)))
struct MoveTests {
    /// A manager and node `n1`, with `count` agents deployed there before `n2` joins.
    static func clusterWithAgentsOnN1(_ types: [String]) async throws -> (TestCluster, [AgentRecord]) {
        let cluster = try TestCluster()
        try await cluster.startManager()
        try await cluster.startNode("n1")
        try await cluster.waitForNode("n1", status: .active)
        var agents: [AgentRecord] = []
        for type in types { agents.append(try await cluster.client.deploy(DeployRequest(agentType: type))) }
        try await cluster.startNode("n2")
        try await cluster.waitForNode("n2", status: .active)
        for agent in agents {
            try await eventually("\(agent.id) runs") { try await cluster.client.agent(id: agent.id).status == .running }
        }
        return (cluster, agents)
    }

    @Test("a migrated counter keeps its count, and tasks sent while it moves are answered")
    func migrate() async throws {
        let (cluster, agents) = try await Self.clusterWithAgentsOnN1(["counter"])
        let client = cluster.client
        let counter = agents[0]
        for _ in 0..<3 { _ = try await client.submitTask(agentID: counter.id, input: ["add": 1], timeoutSeconds: 20, wait: true) }
        try await eventually("checkpoint 3 stored") { try await client.agent(id: counter.id).state == ["count": 3] }

        let result = try await client.migrate(agentID: counter.id, MigrateRequest(targetContainerID: "n2", reason: "test"))
        #expect(result.from == "n1")
        #expect(result.to == "n2")
        #expect(result.agent.generation == 2)
        // Sent at once, while the copy on n2 is still starting: they wait for it.
        var queued: [TaskRecord] = []
        for _ in 0..<5 { queued.append(try await client.submitTask(agentID: counter.id, input: ["add": 1], timeoutSeconds: 30)) }
        var counts: [Int] = []
        for task in queued {
            let done = try await client.task(id: task.id, wait: true)
            #expect(done.status == .succeeded, "\(done)\n\(cluster.logs)")
            #expect(done.nodeID == "n2")
            #expect(done.generation == 2)
            counts.append(done.output?["count"]?.intValue ?? -1)
        }
        #expect(counts.sorted() == [4, 5, 6, 7, 8])
        try await eventually("the old copy is gone from n1") {
            (try await cluster.nodeAPI("n1", "/agents")["items"]?.arrayValue ?? [1]).isEmpty
        }
        let local = try await cluster.nodeAPI("n2", "/agents")["items"]?.arrayValue ?? []
        #expect(local.map { $0["agent_id"]?.stringValue } == [counter.id])
    }

    @Test("draining a node moves its agents away and places nothing new there")
    func drain() async throws {
        let (cluster, agents) = try await Self.clusterWithAgentsOnN1(["echo", "counter"])
        let client = cluster.client
        let drained = try await client.drain(nodeID: "n1")
        #expect(drained.status == .draining)
        for agent in agents {
            try await eventually("\(agent.id) runs on n2") {
                let now = try await client.agent(id: agent.id)
                return now.nodeID == "n2" && now.status == .running && now.generation == 2
            }
        }
        let fresh = try await client.deploy(DeployRequest(agentType: "echo"))
        #expect(fresh.nodeID == "n2")
        try await eventually("n1 runs nothing") { (try await cluster.nodeAPI("n1", "/agents")["items"]?.arrayValue ?? [1]).isEmpty }
        let unplaceable = try await client.raw(method: "POST", path: "/api/v1/cluster/agents/deploy", body: Data("{\"agent_type\": \"echo\", \"preferred_container\": \"n1\"}".utf8))
        #expect(unplaceable.status == 422)
    }

    @Test("rebalance plans moves in a dry run and makes them otherwise")
    func rebalance() async throws {
        let (cluster, agents) = try await Self.clusterWithAgentsOnN1(["echo", "echo", "echo", "echo"])
        let client = cluster.client
        #expect(try await client.distribution().agentsPerNode == ["n1": 4])
        let dryRun = try await client.action(ClusterActionRequest(action: .rebalance, dryRun: true))
        #expect(dryRun.moves.count == 2)
        #expect(try await client.distribution().agentsPerNode == ["n1": 4])
        let real = try await client.action(ClusterActionRequest(action: .rebalance))
        #expect(real.moves.count == 2)
        #expect(try await client.distribution().agentsPerNode == ["n1": 2, "n2": 2])
        for agent in agents {
            try await eventually("\(agent.id) runs") { try await client.agent(id: agent.id).status == .running }
            let task = try await client.submitTask(agentID: agent.id, input: "ping", timeoutSeconds: 20, wait: true)
            #expect(task.output == "ping")
        }
        let again = try await client.action(ClusterActionRequest(action: .rebalance, dryRun: true))
        #expect(again.moves.isEmpty)
    }

    @Test("an agent that keeps crashing is failed on its node and placed on another one, once")
    func crashFailover() async throws {
        let cluster = try TestCluster()
        try await cluster.startManager()
        // On n1 the `flaky` type is a program that exits at once; on n2 it is the Python echo agent.
        try await cluster.startNode("n1", extraArguments: ["--agent-type", "flaky=process:exit 3", "--max-restarts", "1", "--restart-backoff", "0.05"])
        try await cluster.waitForNode("n1", status: .active)
        let client = cluster.client
        let flaky = try await client.deploy(DeployRequest(agentType: "flaky"))
        #expect(flaky.nodeID == "n1")
        try await eventually("the agent is failed on n1") {
            let now = try await client.agent(id: flaky.id)
            return now.status == .failed && now.nodeID == "n1"
        }
        try await cluster.startNode("n2", extraArguments: ["--agent-type", "flaky=process:python3 \(Paths.pythonEchoAgent)"])
        try await cluster.waitForNode("n2", status: .active)
        try await eventually("the agent runs on n2") {
            let now = try await client.agent(id: flaky.id)
            return now.nodeID == "n2" && now.status == .running && now.failedNodes == ["n1"]
        }
        let task = try await client.submitTask(agentID: flaky.id, input: "ok", timeoutSeconds: 20, wait: true)
        #expect(task.status == .succeeded)
        let events = try await client.events()
        #expect(events.contains { $0.kind == "agent.failed" && $0.nodeID == "n1" })
        #expect(events.contains { $0.kind == "agent.rescheduled" && $0.nodeID == "n2" })
    }

    @Test("a paused node's agents move; when it wakes it stops its stale copies and its late results lose")
    func partition() async throws {
        let (cluster, agents) = try await Self.clusterWithAgentsOnN1(["counter", "sleep"])
        let client = cluster.client
        let (counter, sleeper) = (agents[0], agents[1])
        _ = try await client.submitTask(agentID: counter.id, input: ["add": 2], timeoutSeconds: 20, wait: true)
        try await eventually("checkpoint 2 stored") { try await client.agent(id: counter.id).state == ["count": 2] }

        let slow = try await client.submitTask(agentID: sleeper.id, input: ["seconds": 1.5], timeoutSeconds: 60)
        try await eventually("the slow task reached n1") { try await client.task(id: slow.id).status == .dispatched }
        guard let n1 = cluster.nodes["n1"] else { throw TestFailure("no n1") }
        n1.signal(SIGSTOP)
        defer { n1.signal(SIGCONT) }
        try await cluster.waitForNode("n1", status: .down, timeout: .seconds(10))
        for agent in agents {
            try await eventually("\(agent.id) runs on n2 at generation 2") {
                let now = try await client.agent(id: agent.id)
                return now.nodeID == "n2" && now.generation == 2 && now.status == .running
            }
        }
        let moved = try await client.submitTask(agentID: counter.id, input: ["add": 1], timeoutSeconds: 20, wait: true)
        #expect(moved.output?["count"] == 3)
        let slowDone = try await client.task(id: slow.id, wait: true)
        #expect(slowDone.status == .succeeded)
        #expect(slowDone.nodeID == "n2")
        #expect(slowDone.generation == 2)

        n1.signal(SIGCONT)
        try await cluster.waitForNode("n1", status: .active, timeout: .seconds(15))
        try await eventually("n1 stopped its stale copies") {
            (try await cluster.nodeAPI("n1", "/agents")["items"]?.arrayValue ?? [1]).isEmpty
        }
        // The copies on n2 are untouched, and the answers still come from there.
        for agent in agents { #expect(try await client.agent(id: agent.id).nodeID == "n2") }
        let after = try await client.submitTask(agentID: counter.id, input: ["add": 1], timeoutSeconds: 20, wait: true)
        #expect(after.output?["count"] == 4)
        #expect(after.nodeID == "n2")
        #expect(try await client.task(id: slow.id).generation == 2)
        // The paused copy's late answer to the slow task reached the manager and was fenced off.
        try await eventually("the stale result was rejected") {
            let metrics = try await client.raw(method: "GET", path: "/metrics")
            let text = String(decoding: metrics.body, as: UTF8.self)
            return text.split(separator: "\n").contains { $0.hasPrefix("drover_manager_fenced_frames_total ") && !$0.hasSuffix(" 0") }
        }
    }
}
