import DroverClient
import DroverCore
import DroverTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Real processes on loopback: one manager, two nodes, the built `drover` binary.
@Suite("End to end", .serialized, .timeLimit(.minutes(3)))
struct EndToEndTests {
    @Test("nodes register, builtin and process agents answer tasks, the node reports them")
    func deployAndRunTasks() async throws {
        let cluster = try TestCluster()
        try await cluster.startManager()
        let started = ContinuousClock.now
        try await cluster.startNode("customer1")
        try await cluster.waitForNode("customer1", status: .active)
        let registration = ContinuousClock.now - started
        try await cluster.startNode("customer2", extraArguments: ["--capability", "trading", "--label", "zone=b"])
        try await cluster.waitForNode("customer2", status: .active)
        print("figure: drover node start → registered: \(registration)")

        let client = cluster.client
        let node = try await client.node(id: "customer2")
        #expect(node.capabilities.contains("trading"))
        #expect(node.labels["zone"] == "b")
        #expect(node.resources.capacity.cpu > 0)
        #expect(node.resources.capacity.memoryMB > 0)
        #expect(node.agentTypes.map(\.name).contains("py_echo"))
        #expect(node.agentTypes.map(\.name).contains("echo"))

        let echo = try await client.deploy(DeployRequest(agentType: "echo", preferredContainer: "customer1"))
        #expect(echo.nodeID == "customer1")
        let input: JSONValue = ["symbol": "AAPL", "qty": 10, "nested": ["ok": true]]
        let firstTask = try await client.submitTask(agentID: echo.id, input: input, timeoutSeconds: 20, wait: true)
        #expect(firstTask.status == .succeeded)
        #expect(firstTask.output == input)

        let roundTripStart = ContinuousClock.now
        let timed = try await client.submitTask(agentID: echo.id, input: ["n": 1], timeoutSeconds: 20, wait: true)
        print("figure: one task round trip (echo, wait=true): \(ContinuousClock.now - roundTripStart)")
        #expect(timed.status == .succeeded)

        let python = try await client.deploy(DeployRequest(agentType: "py_echo", preferredContainer: "customer2"))
        #expect(python.nodeID == "customer2")
        let pyTask = try await client.submitTask(agentID: python.id, input: ["text": "hi"], timeoutSeconds: 30, wait: true)
        #expect(pyTask.status == .succeeded, "\(pyTask)\n\(cluster.logs)")
        #expect(pyTask.output?["echo"] == ["text": "hi"], "\(String(describing: pyTask.output))")
        #expect(pyTask.output?["agent_id"]?.stringValue == python.id)

        let swift = try await client.deploy(DeployRequest(agentType: "swift_echo", preferredContainer: "customer1"))
        for expected in 1...2 {
            let answer = try await client.submitTask(agentID: swift.id, input: ["n": .int(expected)], timeoutSeconds: 30, wait: true)
            #expect(answer.status == .succeeded, "\(answer)\n\(cluster.logs)")
            #expect(answer.output?["echo"] == ["n": .int(expected)])
            #expect(answer.output?["count"] == .int(expected))
        }
        let failing = try await client.submitTask(agentID: swift.id, input: ["fail": true], timeoutSeconds: 30, wait: true)
        #expect(failing.status == .failed)
        #expect(failing.error?.contains("asked to fail") == true, "\(String(describing: failing.error))")

        try await eventually("agents reported running") {
            let first = try await client.agent(id: python.id).status
            let second = try await client.agent(id: echo.id).status
            return first == .running && second == .running
        }
        let local = try await cluster.nodeAPI("customer2", "/agents")
        let items = local["items"]?.arrayValue ?? []
        #expect(items.count == 1)
        #expect(items.first?["agent_id"]?.stringValue == python.id)
        #expect(items.first?["tasks_completed"]?.intValue == 1)
        let metrics = try await cluster.nodeText("customer1", "/metrics")
        #expect(metrics.contains("drover_node_tasks_total"))

        let agents = try await client.agents()
        #expect(Set(agents.map(\.id)) == [echo.id, python.id, swift.id])

        _ = try await client.undeploy(id: python.id)
        try await eventually("the undeployed agent is gone from the node") {
            (try await cluster.nodeAPI("customer2", "/agents")["items"]?.arrayValue ?? [1]).isEmpty
        }
        try await eventually("the undeployed agent is removed") {
            Set(try await client.agents().map(\.id)) == [echo.id, swift.id]
        }
    }

    @Test("a killed node is marked down after the grace and its agents move with their state")
    func nodeFailure() async throws {
        let cluster = try TestCluster()
        try await cluster.startManager()
        try await cluster.startNode("n1")
        try await cluster.startNode("n2")
        try await cluster.waitForNode("n1", status: .active)
        try await cluster.waitForNode("n2", status: .active)
        let client = cluster.client
        for _ in 0..<2 { _ = try await client.deploy(DeployRequest(agentType: "echo", preferredContainer: "n1")) }
        // least_loaded puts the counter on the empty node.
        let counter = try await client.deploy(DeployRequest(agentType: "counter"))
        #expect(counter.nodeID == "n2")
        let added = try await client.submitTask(agentID: counter.id, input: ["add": 5], timeoutSeconds: 20, wait: true)
        #expect(added.output?["count"] == 5)
        try await eventually("the checkpoint reached the manager") { try await client.agent(id: counter.id).state == ["count": 5] }

        let killed = ContinuousClock.now
        await cluster.stopNode("n2", signal: SIGKILL)
        try await cluster.waitForNode("n2", status: .down, timeout: .seconds(10))
        print("figure: node kill → marked down: \(ContinuousClock.now - killed) (heartbeat \(cluster.heartbeatInterval) s, grace \(cluster.heartbeatGrace) s)")
        try await eventually("the counter runs on n1 with a new generation") {
            let moved = try await client.agent(id: counter.id)
            return moved.nodeID == "n1" && moved.generation == 2 && moved.status == .running
        }
        print("figure: node kill → agent running elsewhere: \(ContinuousClock.now - killed)")
        let next = try await client.submitTask(agentID: counter.id, input: ["add": 1], timeoutSeconds: 20, wait: true)
        #expect(next.output?["count"] == 6, "\(cluster.logs)")
        let events = try await client.events()
        #expect(events.contains { $0.kind == "node.down" && $0.nodeID == "n2" })
        #expect(events.contains { $0.kind == "agent.rescheduled" && $0.agentID == counter.id && $0.nodeID == "n1" })
        #expect(events.map(\.sequence) == events.map(\.sequence).sorted())
    }

    @Test("kill -9 of the manager loses nothing: agents, tasks and nodes come back")
    func managerRestart() async throws {
        let cluster = try TestCluster()
        try await cluster.startManager()
        try await cluster.startNode("n1")
        try await cluster.waitForNode("n1", status: .active)
        let client = cluster.client
        let counter = try await client.deploy(DeployRequest(agentType: "counter"))
        for _ in 0..<3 {
            let task = try await client.submitTask(agentID: counter.id, input: ["add": 1], timeoutSeconds: 20, wait: true)
            #expect(task.status == .succeeded)
        }
        let echo = try await client.deploy(DeployRequest(agentType: "echo"))
        let done = try await client.submitTask(agentID: echo.id, input: "before", timeoutSeconds: 20, wait: true)
        let before = try await client.agents().sorted { $0.id < $1.id }

        await cluster.killManager()
        try await cluster.startManager()

        let after = try await cluster.client.agents().sorted { $0.id < $1.id }
        #expect(after.map(\.id) == before.map(\.id))
        #expect(after.map(\.generation) == before.map(\.generation))
        #expect(after.map(\.nodeID) == before.map(\.nodeID))
        let stored = try await cluster.client.task(id: done.id)
        #expect(stored.status == .succeeded)
        #expect(stored.output == "before")

        try await cluster.waitForNode("n1", status: .active)
        let fourth = try await cluster.client.submitTask(agentID: counter.id, input: ["add": 1], timeoutSeconds: 20, wait: true)
        #expect(fourth.status == .succeeded, "\(cluster.logs)")
        #expect(fourth.output?["count"] == 4)
        // Still exactly one copy of each agent on the node, at the same generation.
        try await Task.sleep(for: .seconds(1))
        let local = try await cluster.nodeAPI("n1", "/agents")["items"]?.arrayValue ?? []
        #expect(local.count == 2)
        #expect(Set(local.compactMap { $0["generation"]?.intValue }) == [1])
    }

    @Test("a task accepted while its node is away is delivered when it returns")
    func taskSurvivesDisconnect() async throws {
        let cluster = try TestCluster()
        try await cluster.startManager()
        try await cluster.startNode("n1")
        try await cluster.waitForNode("n1", status: .active)
        let client = cluster.client
        let echo = try await client.deploy(DeployRequest(agentType: "echo"))
        _ = try await client.submitTask(agentID: echo.id, input: 1, timeoutSeconds: 20, wait: true)

        await cluster.killManager()
        try await cluster.startManager()
        // Accepted before the node has reconnected to the new manager.
        let task = try await cluster.client.submitTask(agentID: echo.id, input: "late", timeoutSeconds: 30, wait: false)
        let finished = try await cluster.client.task(id: task.id, wait: true)
        #expect(finished.status == .succeeded, "\(cluster.logs)")
        #expect(finished.output == "late")
    }
}
