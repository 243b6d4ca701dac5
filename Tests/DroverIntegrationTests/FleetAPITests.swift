import DroverClient
import DroverCore
import DroverStore
import DroverTestSupport
import Foundation
import Logging
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The manager's live path at fleet scale, with real processes: bulk deploys, paged lists, and
/// the in-memory model against what the store holds.
@Suite("Fleet API", .serialized, .timeLimit(.minutes(3)))
struct FleetAPITests {
    @Test("replicas: all or nothing — a shortfall is a 422 that places none, dry_run says where, then all are placed and run")
    func bulkDeployAllOrNothing() async throws {
        let cluster = try TestCluster()
        try await cluster.startManager()
        try await cluster.startNode("b1", extraArguments: ["--max-agents", "30"])
        try await cluster.startNode("b2", extraArguments: ["--max-agents", "30"])
        try await cluster.waitForNode("b1", status: .active)
        try await cluster.waitForNode("b2", status: .active)
        let client = cluster.client
        let spec = DeployRequest(agentType: "echo", labels: ["batch": "one"])

        do {
            _ = try await client.deploy(spec, replicas: 61)
            Issue.record("61 replicas on 60 slots were accepted")
        } catch DroverClientError.api(let status, let code, let message) {
            #expect(status == 422)
            #expect(code == "unplaceable")
            #expect(message.contains("only 60 of 61"), "\(message)")
        }
        #expect(try await client.agents().isEmpty, "a refused bulk deploy placed some agents")

        let planned = try await client.deploy(spec, replicas: 60, dryRun: true)
        #expect(planned.count == 60)
        #expect(Dictionary(grouping: planned, by: { $0.nodeID ?? "-" }).mapValues(\.count) == ["b1": 30, "b2": 30])
        #expect(try await client.agents().isEmpty, "a dry run placed agents")

        let placed = try await client.deploy(spec, replicas: 60)
        #expect(placed.count == 60)
        #expect(Set(placed.map(\.id)).count == 60)
        let listed = try await client.agents()
        #expect(Set(listed.map(\.id)) == Set(placed.map(\.id)))
        try await eventually("all 60 run") {
            try await client.agentsPage(query: "status=running", limit: 1_000).items.count == 60
        }
        let status = try await client.clusterStatus()
        #expect(status.agents["running"] == 60)

        do {
            _ = try await client.deploy(spec, replicas: 1)
            Issue.record("a deploy on full nodes was accepted")
        } catch DroverClientError.api(let status, _, _) {
            #expect(status == 422)
        }
        for bad in [0, 10_001] {
            do {
                _ = try await client.deploy(spec, replicas: bad)
                Issue.record("replicas \(bad) was accepted")
            } catch DroverClientError.api(let status, _, let message) {
                #expect(status == 400)
                #expect(message.contains("replicas"))
            }
        }
    }

    @Test("paging returns every agent exactly once while deploys and undeploys happen between pages; filters and bad cursors")
    func pagingUnderChange() async throws {
        let cluster = try TestCluster()
        try await cluster.startManager()
        try await cluster.startNode("p1", extraArguments: ["--max-agents", "1000"])
        try await cluster.waitForNode("p1", status: .active)
        let client = cluster.client
        let first = try await client.deploy(DeployRequest(agentType: "echo", labels: ["wave": "1"]), replicas: 150)
        let second = try await client.deploy(DeployRequest(agentType: "counter", labels: ["wave": "2"]), replicas: 90)
        let all = first + second
        // Undeployed between pages: agents from the start, the middle and the end of the order.
        let leaving = Set([all[3].id, all[120].id, all[239].id])

        var seen: [String] = []
        var cursor: String?
        var pages = 0
        var added: [AgentRecord] = []
        repeat {
            let page = try await client.agentsPage(limit: 37, cursor: cursor)
            #expect(page.items.count <= 37)
            seen += page.items.map(\.id)
            cursor = page.nextCursor
            pages += 1
            if pages == 2 {
                for id in leaving { _ = try await client.undeploy(id: id) }
                added += try await client.deploy(DeployRequest(agentType: "echo"), replicas: 20)
            }
        } while cursor != nil
        #expect(seen.count == Set(seen).count, "an agent was listed twice")
        let stayed = Set(all.map(\.id)).subtracting(leaving)
        #expect(stayed.isSubset(of: Set(seen)), "agents present throughout were missed: \(stayed.subtracting(Set(seen)).count)")
        // Agents added while paging come after every older one, so the walk reaches them too.
        #expect(Set(added.map(\.id)).isSubset(of: Set(seen)))

        // Undeployed agents are listed until their node has stopped them.
        let counters = Set(try await client.agentsPage(query: "agent_type=counter", limit: 1_000).items.map(\.id))
        #expect(Set(second.map(\.id)).subtracting(leaving).isSubset(of: counters) && counters.isSubset(of: Set(second.map(\.id))))
        let waveOne = Set(try await client.agentsPage(query: "label=wave%3D1&node_id=p1", limit: 1_000).items.map(\.id))
        #expect(Set(first.map(\.id)).subtracting(leaving).isSubset(of: waveOne) && waveOne.isSubset(of: Set(first.map(\.id))))
        let nodes = try await client.nodes()
        #expect(nodes.map(\.id) == ["p1"])

        for (query, limit) in [("cursor=not-a-cursor", 10), ("", 0), ("", 1_001), ("label=novalue", 10), ("status=sleepy", 10)] {
            do {
                _ = try await client.agentsPage(query: query, limit: limit)
                Issue.record("\(query) limit \(limit) was accepted")
            } catch DroverClientError.api(let status, _, _) {
                #expect(status == 400, "\(query) limit \(limit)")
            }
        }
    }

    @Test("tasks, events and runs page by cursor: every item once, in order; status filter; unknown cursors are 400")
    func otherListsPage() async throws {
        let cluster = try TestCluster()
        try await cluster.startManager()
        try await cluster.startNode("q1")
        try await cluster.waitForNode("q1", status: .active)
        let client = cluster.client
        let agent = try await client.deploy(DeployRequest(agentType: "echo"))
        try await eventually("the echo agent runs") { try await client.agent(id: agent.id).status == .running }
        var submitted: [String] = []
        for index in 0..<23 {
            submitted.append(try await client.submitTask(agentID: agent.id, input: ["n": .int(index)], wait: true).id)
        }

        /// Walks one listing with `limit` per page; returns the ids (or sequences) in the order listed.
        func walk(_ path: String, limit: Int, key: String) async throws -> [String] {
            var seen: [String] = []
            var cursor: String?
            repeat {
                let separator = path.contains("?") ? "&" : "?"
                let query = "\(separator)limit=\(limit)" + (cursor.map { "&cursor=\($0)" } ?? "")
                let (status, body) = try await client.raw(method: "GET", path: path + query)
                #expect(status == 200, "\(path)\(query): \(String(decoding: body, as: UTF8.self))")
                let page = try JSONDecoder().decode(JSONValue.self, from: body)
                let items = page["items"]?.arrayValue ?? []
                #expect(items.count <= limit)
                seen += items.compactMap { item in item[key].map { value in value.stringValue ?? value.intValue.map(String.init) ?? "?" } }
                cursor = page["next_cursor"]?.stringValue
                if status != 200 { break }
            } while cursor != nil
            return seen
        }

        let tasks = try await walk("/api/v1/cluster/agents/\(agent.id)/tasks", limit: 5, key: "id")
        #expect(tasks == Array(submitted.reversed()), "newest first, each once")
        #expect(try await walk("/api/v1/cluster/agents/\(agent.id)/tasks?status=succeeded", limit: 4, key: "id") == tasks)
        #expect(try await walk("/api/v1/cluster/agents/\(agent.id)/tasks?status=failed", limit: 4, key: "id").isEmpty)

        // Events to page through: a second node joins and is drained.
        try await cluster.startNode("q2")
        try await cluster.waitForNode("q2", status: .active)
        _ = try await client.drain(nodeID: "q2")
        let everything = try await client.events(limit: 1_000).map { String($0.sequence) }
        let events = try await walk("/api/v1/events", limit: 1, key: "sequence")
        #expect(everything.count >= 3 && events.prefix(everything.count) == everything[...], "events page oldest first, each once: \(events) \(everything)")

        for path in [
            "/api/v1/cluster/agents/\(agent.id)/tasks?cursor=nope", "/api/v1/events?cursor=-4", "/api/v1/events?cursor=x",
            "/api/v1/workflows/runs?cursor=no-such-run", "/api/v1/cluster/agents/\(agent.id)/tasks?status=sleepy",
        ] {
            let (status, body) = try await client.raw(method: "GET", path: path)
            #expect(status == 400, "\(path): \(String(decoding: body, as: UTF8.self))")
        }
    }

    @Test("the in-memory model equals the store after deploys, undeploys, migrations, a node's death and a manager restart")
    func modelMatchesStore() async throws {
        let cluster = try TestCluster(heartbeatInterval: 0.5, heartbeatGrace: 1.5)
        try await cluster.startManager()
        for node in ["m1", "m2", "m3"] { try await cluster.startNode(node) }
        for node in ["m1", "m2", "m3"] { try await cluster.waitForNode(node, status: .active) }
        let client = cluster.client
        var generator = SystemRandomNumberGenerator()
        var live: [String] = []
        for round in 0..<40 {
            switch Int.random(in: 0..<10, using: &generator) {
            case 0..<5:
                live.append(try await client.deploy(DeployRequest(agentType: round % 2 == 0 ? "echo" : "counter")).id)
            case 5..<7:
                live += try await client.deploy(DeployRequest(agentType: "echo"), replicas: Int.random(in: 2...6, using: &generator)).map(\.id)
            case 7..<9 where !live.isEmpty:
                _ = try await client.undeploy(id: live.remove(at: Int.random(in: 0..<live.count, using: &generator)))
            default:
                guard let id = live.randomElement(using: &generator) else { continue }
                _ = try? await client.migrate(agentID: id, MigrateRequest(reason: "model check"))
            }
        }
        try await Self.expectModelEqualsStore(cluster)

        await cluster.stopNode("m3", signal: SIGKILL)
        try await cluster.waitForNode("m3", status: .down, timeout: .seconds(30))
        try await eventually("agents of m3 placed elsewhere", timeout: .seconds(30)) {
            try await client.agents().allSatisfy { $0.nodeID != "m3" }
        }
        try await Self.expectModelEqualsStore(cluster)

        await cluster.killManager()
        try await cluster.startManager()
        try await Self.expectModelEqualsStore(cluster)
    }

    /// What the API answers from memory (every agent, every node) equals what the store holds,
    /// once the cluster settles (statuses still change while agents start).
    static func expectModelEqualsStore(_ cluster: TestCluster) async throws {
        let store = try await SQLiteStore.open(path: cluster.databasePath, logger: Logger(label: "model-check"))
        defer { Task.detached { try? await store.close() } }
        var difference = ""
        do {
            try await eventually("the model equals the store", timeout: .seconds(20), every: .milliseconds(300)) {
                let fromAPI = try await cluster.client.agents().map(AgentSummary.init)
                let fromStore = try await store.agents().map(AgentSummary.init)
                let nodesFromAPI = try await cluster.client.nodes().map { "\($0.id) \($0.status.rawValue) \($0.tenant)" }
                let nodesFromStore = try await store.nodes().map { "\($0.id) \($0.status.rawValue) \($0.tenant)" }
                difference = "api \(fromAPI.count) agents, store \(fromStore.count); first difference: "
                    + "\(zip(fromAPI, fromStore).first { $0 != $1 }.map { "\($0) vs \($1)" } ?? "-"); nodes \(nodesFromAPI) vs \(nodesFromStore)"
                return fromAPI == fromStore && nodesFromAPI == nodesFromStore
            }
        } catch {
            Issue.record("\(difference)\n\(cluster.logs)")
        }
    }

    /// The fields of an agent that placement and reconciliation write.
    struct AgentSummary: Equatable, CustomStringConvertible {
        let id: String
        let node: String?
        let generation: Int
        let desired: DesiredState
        let status: AgentStatus
        let state: JSONValue?

        init(_ agent: AgentRecord) {
            id = agent.id
            node = agent.nodeID
            generation = agent.generation
            desired = agent.desiredState
            status = agent.status
            state = agent.state
        }

        var description: String { "\(id) on \(node ?? "-") g\(generation) \(desired.rawValue)/\(status.rawValue)" }
    }
}
