import DroverCore
import Foundation
import Testing
@testable import DroverStore

/// One suite every `Store` must pass, run against each backend.
@Suite("Store conformance")
struct StoreConformanceTests {
    @Test("settings round-trip and overwrite", arguments: Backend.allCases)
    func meta(backend: Backend) async throws {
        try await backend.withStore { store in
            #expect(try await store.metaValue("admin_token") == nil)
            try await store.setMetaValue("admin_token", "one")
            try await store.setMetaValue("admin_token", "two")
            try await store.setMetaValue("other", "")
            #expect(try await store.metaValue("admin_token") == "two")
            #expect(try await store.metaValue("other") == "")
        }
    }

    @Test("nodes: upsert, read, list in id order, delete", arguments: Backend.allCases)
    func nodes(backend: Backend) async throws {
        try await backend.withStore { store in
            #expect(try await store.nodes().isEmpty)
            try await store.upsertNode(Fixtures.node("b"))
            try await store.upsertNode(Fixtures.node("c"))
            try await store.upsertNode(Fixtures.node("a"))
            try await store.upsertNode(Fixtures.node("b", status: .down))
            #expect(try await store.nodes().map(\.id) == ["a", "b", "c"])
            #expect(try await store.node(id: "b")?.status == .down)
            #expect(try await store.node(id: "a") == Fixtures.node("a"))
            #expect(try await store.node(id: "missing") == nil)
            #expect(try await store.deleteNode(id: "a"))
            #expect(try await !store.deleteNode(id: "a"))
            #expect(try await store.node(id: "a") == nil)
            #expect(try await store.nodes().map(\.id) == ["b", "c"])
        }
    }

    @Test("agents: upsert replaces, list by creation time, delete", arguments: Backend.allCases)
    func agents(backend: Backend) async throws {
        try await backend.withStore { store in
            try await store.upsertAgent(Fixtures.agent("late", created: 10))
            try await store.upsertAgent(Fixtures.agent("early", created: 1))
            try await store.upsertAgent(Fixtures.agent("tie-b", created: 5))
            try await store.upsertAgent(Fixtures.agent("tie-a", created: 5))
            var moved = Fixtures.agent("late", created: 10)
            moved.nodeID = nil
            moved.generation = 3
            moved.status = .running
            try await store.upsertAgent(moved)
            #expect(try await store.agents().map(\.id) == ["early", "tie-a", "tie-b", "late"])
            #expect(try await store.agent(id: "late") == moved)
            #expect(try await store.agent(id: "missing") == nil)
            #expect(try await store.deleteAgent(id: "late"))
            #expect(try await !store.deleteAgent(id: "late"))
            #expect(try await store.agents().map(\.id) == ["early", "tie-a", "tie-b"])
        }
    }

    @Test("agents in bulk: one call stores them all (new and replaced), indexed columns included", arguments: Backend.allCases)
    func agentsInBulk(backend: Backend) async throws {
        try await backend.withStore { store in
            try await store.upsertAgent(Fixtures.agent("a-0", created: 1))
            var batch = (0..<6_000).map { Fixtures.agent("a-\($0)", created: Double($0 % 7)) }
            batch[0].generation = 9
            batch[1].nodeID = nil
            try await store.upsertAgents(batch)
            try await store.upsertAgents([])
            let stored = try await store.agents()
            #expect(stored.count == 6_000)
            #expect(try await store.agent(id: "a-0")?.generation == 9)
            #expect(try await store.agent(id: "a-1")?.nodeID == nil)
            #expect(try await store.agent(id: "a-5999") == batch[5_999])
            // Ordered by the created_at column, which the bulk insert fills like a single one.
            #expect(stored.map(\.createdAt) == stored.map(\.createdAt).sorted())
        }
    }

    @Test("an agent's status is written in place: status, restarts, error and time change, the rest stays", arguments: Backend.allCases)
    func agentStatusInPlace(backend: Backend) async throws {
        try await backend.withStore { store in
            let agent = Fixtures.agent("a1", created: 3)
            try await store.upsertAgent(agent)
            let at = Fixtures.epoch.addingTimeInterval(99.5)
            #expect(try await store.updateAgentStatus(id: "a1", status: .running, restarts: 2, lastError: nil, updatedAt: at))
            var expected = agent
            expected.status = .running
            expected.restarts = 2
            expected.updatedAt = at
            #expect(try await store.agent(id: "a1") == expected)
            #expect(try await store.updateAgentStatus(id: "a1", status: .failed, restarts: 3, lastError: "exit 2 \"quoted\"", updatedAt: at))
            expected.status = .failed
            expected.restarts = 3
            expected.lastError = "exit 2 \"quoted\""
            #expect(try await store.agent(id: "a1") == expected)
            #expect(try await store.agents().map(\.status) == [.failed])
            #expect(try await !store.updateAgentStatus(id: "nobody", status: .running, restarts: 0, lastError: nil, updatedAt: at))
        }
    }

    @Test("statuses of many agents in one write: the last update of an agent counts, a stored error stays, unknown ids are left out", arguments: Backend.allCases)
    func agentStatusesInOneWrite(backend: Backend) async throws {
        try await backend.withStore { store in
            let agents = (0..<3).map { Fixtures.agent("a\($0)", created: Double($0)) }
            try await store.upsertAgents(agents)
            let at = Fixtures.epoch.addingTimeInterval(50)
            #expect(try await store.updateAgentStatus(id: "a2", status: .failed, restarts: 1, lastError: "crashed", updatedAt: at))
            let updated = try await store.updateAgentStatuses([
                .init(id: "a0", status: .starting, restarts: 0, lastError: nil, updatedAt: at),
                .init(id: "a0", status: .running, restarts: 4, lastError: "slow start", updatedAt: at.addingTimeInterval(1)),
                .init(id: "ghost", status: .running, restarts: 0, lastError: nil, updatedAt: at),
                .init(id: "a2", status: .running, restarts: 2, lastError: nil, updatedAt: at.addingTimeInterval(2)),
            ])
            #expect(updated == ["a0", "a2"])
            let stored = try await store.agents()
            #expect(stored.map(\.status) == [.running, .pending, .running])
            #expect(stored.map(\.restarts) == [4, 0, 2])
            #expect(stored.map(\.lastError) == ["slow start", nil, "crashed"])
            #expect(stored[2].updatedAt == at.addingTimeInterval(2))
            #expect(stored[1] == agents[1])
            #expect(try await store.updateAgentStatuses([]).isEmpty)
            // An error reported earlier in a batch is kept when a later update of the agent carries none.
            _ = try await store.updateAgentStatuses([
                .init(id: "a1", status: .failed, restarts: 1, lastError: "exit 3", updatedAt: at),
                .init(id: "a1", status: .starting, restarts: 1, lastError: nil, updatedAt: at),
            ])
            #expect(try await store.agent(id: "a1")?.lastError == "exit 3")
            #expect(try await store.agent(id: "a1")?.status == .starting)
        }
    }

    @Test("JSON documents come back exactly: nested objects, ints stay ints", arguments: Backend.allCases)
    func jsonDocuments(backend: Backend) async throws {
        try await backend.withStore { store in
            var agent = Fixtures.agent("a1")
            agent.config = Fixtures.document
            agent.state = ["checkpoint": Fixtures.document, "count": 41]
            try await store.upsertAgent(agent)
            let readAgent = try #require(try await store.agent(id: "a1"))
            #expect(readAgent == agent)
            #expect(readAgent.config["int"] == .int(7))
            #expect(readAgent.config["big"] == .int(Int(Int32.max) * 4))
            #expect(readAgent.config["fraction"] == .double(0.125))
            #expect(readAgent.state?["count"] == .int(41))
            #expect(readAgent.config["deep"]?["a"]?["b"]?["c"]?["count"] == .int(41))

            var task = Fixtures.task("t1")
            task.input = Fixtures.document
            try await store.insertTask(task)
            var done = task
            done.status = .succeeded
            done.output = ["result": Fixtures.document, "n": 3]
            #expect(try await store.updateOpenTask(done))
            let readTask = try #require(try await store.task(tenant: "t1", id: "t1"))
            #expect(readTask == done)
            #expect(readTask.output?["n"] == .int(3))
            #expect(readTask.input == Fixtures.document)
        }
    }

    @Test("a record reads back as its JSON round trip, dates and all", arguments: Backend.allCases)
    func readsBackAsStored(backend: Backend) async throws {
        try await backend.withStore { store in
            // Sub-millisecond timestamps are kept to the millisecond by the JSON date format.
            let now = Date(timeIntervalSince1970: 1_700_000_000.123_456)
            var agent = Fixtures.agent("a1")
            agent.createdAt = now
            agent.updatedAt = now
            try await store.upsertAgent(agent)
            #expect(try await store.agent(id: "a1") == Fixtures.persisted(agent))

            var task = Fixtures.task("t1")
            task.createdAt = now
            task.dispatchedAt = now
            try await store.insertTask(task)
            #expect(try await store.task(tenant: "t1", id: "t1") == Fixtures.persisted(task))
        }
    }

    @Test("tasks: duplicate ids are refused and the first completion wins", arguments: Backend.allCases)
    func tasks(backend: Backend) async throws {
        try await backend.withStore { store in
            try await store.insertTask(Fixtures.task("t2", created: 2))
            try await store.insertTask(Fixtures.task("t1", created: 1))
            try await store.insertTask(Fixtures.task("other", agent: "a2", created: 3))
            await #expect(throws: StoreError.duplicate("t1")) { try await store.insertTask(Fixtures.task("t1", created: 9)) }
            #expect(try await store.task(tenant: "t1", id: "t1") == Fixtures.task("t1", created: 1))
            #expect(try await store.openTasks().map(\.id) == ["t1", "t2", "other"])

            var dispatched = Fixtures.task("t1", created: 1, status: .dispatched)
            dispatched.attempt = 1
            dispatched.nodeID = "n1"
            #expect(try await store.updateOpenTask(dispatched))
            #expect(try await store.openTasks().map(\.id) == ["t1", "t2", "other"])

            var first = Fixtures.task("t1", created: 1, status: .succeeded)
            first.output = ["answer": 42]
            var second = Fixtures.task("t1", created: 1, status: .failed)
            second.error = "late"
            #expect(try await store.updateOpenTask(first))
            #expect(try await !store.updateOpenTask(second))
            #expect(try await !store.updateOpenTask(Fixtures.task("t1", created: 1, status: .queued)))
            #expect(try await store.task(tenant: "t1", id: "t1") == first)
            #expect(try await store.openTasks().map(\.id) == ["t2", "other"])
            #expect(try await !store.updateOpenTask(Fixtures.task("missing")))
            #expect(try await store.task(tenant: "t1", id: "missing") == nil)
        }
    }

    @Test("open tasks: only queued and dispatched, oldest first", arguments: Backend.allCases)
    func openTasks(backend: Backend) async throws {
        try await backend.withStore { store in
            for (offset, status) in TaskStatus.allCases.enumerated() {
                try await store.insertTask(Fixtures.task(status.rawValue, created: Double(10 - offset), status: status))
            }
            try await store.insertTask(Fixtures.task("oldest", created: -5))
            #expect(try await store.openTasks().map(\.id) == ["oldest", "dispatched", "queued"])
        }
    }

    @Test("open tasks of several agents: only theirs, oldest first", arguments: Backend.allCases)
    func openTasksOfAgents(backend: Backend) async throws {
        try await backend.withStore { store in
            for (index, agentID) in ["a1", "a2", "a3", "a1"].enumerated() {
                try await store.insertTask(Fixtures.task("t\(index)", agent: agentID, created: Double(10 - index)))
            }
            try await store.insertTask(Fixtures.task("done", agent: "a1", created: 0, status: .succeeded))
            #expect(try await store.openTasks(agentIDs: ["a1", "a2"]).map(\.id) == ["t3", "t1", "t0"])
            #expect(try await store.openTasks(agentID: "a3").map(\.id) == ["t2"])
            #expect(try await store.openTasks(agentIDs: []).isEmpty)
        }
    }

    @Test("an agent's tasks: newest first, limited", arguments: Backend.allCases)
    func tasksOfAgent(backend: Backend) async throws {
        try await backend.withStore { store in
            for index in 0..<5 {
                try await store.insertTask(Fixtures.task("t\(index)", created: Double(index), status: index.isMultiple(of: 2) ? .succeeded : .queued))
            }
            try await store.insertTask(Fixtures.task("elsewhere", agent: "a2", created: 100))
            #expect(try await store.tasks(agentID: "a1", limit: 10).map(\.id) == ["t4", "t3", "t2", "t1", "t0"])
            #expect(try await store.tasks(agentID: "a1", limit: 2).map(\.id) == ["t4", "t3"])
            #expect(try await store.tasks(agentID: "a1", limit: 0).isEmpty)
            #expect(try await store.tasks(agentID: "a1", limit: -1).isEmpty)
            #expect(try await store.tasks(agentID: "nobody", limit: 10).isEmpty)
        }
    }

    @Test("an agent's tasks page by the last task's id and filter by status", arguments: Backend.allCases)
    func tasksOfAgentPaged(backend: Backend) async throws {
        try await backend.withStore { store in
            for index in 0..<5 {
                try await store.insertTask(Fixtures.task("t\(index)", created: Double(index), status: index.isMultiple(of: 2) ? .succeeded : .queued))
            }
            try await store.insertTask(Fixtures.task("twin", created: 3))  // the same time as t3: the id breaks the tie
            #expect(try await store.tasks(agentID: "a1", status: nil, before: "twin", limit: 10).map(\.id) == ["t3", "t2", "t1", "t0"])
            #expect(try await store.tasks(agentID: "a1", status: nil, before: "t4", limit: 2).map(\.id) == ["twin", "t3"])
            #expect(try await store.tasks(agentID: "a1", status: .succeeded, before: nil, limit: 10).map(\.id) == ["t4", "t2", "t0"])
            #expect(try await store.tasks(agentID: "a1", status: .succeeded, before: "t3", limit: 10).map(\.id) == ["t2", "t0"])
            #expect(try await store.tasks(agentID: "a1", status: nil, before: "t0", limit: 10).isEmpty)
            #expect(try await store.tasks(agentID: "a1", status: nil, before: "unknown", limit: 10).isEmpty)
        }
    }

    @Test("concurrent completions: exactly one wins", arguments: Backend.allCases)
    func racingCompletions(backend: Backend) async throws {
        try await backend.withStore { store in
            try await store.insertTask(Fixtures.task("race"))
            let winners = try await withThrowingTaskGroup(of: Int?.self) { group in
                for attempt in 0..<16 {
                    group.addTask {
                        var done = Fixtures.task("race", status: .succeeded)
                        done.output = .int(attempt)
                        return try await store.updateOpenTask(done) ? attempt : nil
                    }
                }
                return try await group.reduce(into: [Int]()) { if let winner = $1 { $0.append(winner) } }
            }
            #expect(winners.count == 1)
            #expect(try await store.task(tenant: "t1", id: "race")?.output == winners.first.map { .int($0) })
        }
    }

    @Test("task ids are per tenant: one id in two tenants is two tasks, each read, completed and listed on its own", arguments: Backend.allCases)
    func tasksPerTenant(backend: Backend) async throws {
        try await backend.withStore { store in
            var mine = Fixtures.task("shared-id", agent: "a1", created: 1)
            mine.tenant = "acme"
            mine.input = ["who": "acme"]
            var theirs = Fixtures.task("shared-id", agent: "a2", created: 2)
            theirs.tenant = "globex"
            theirs.input = ["who": "globex"]
            try await store.insertTask(mine)
            try await store.insertTask(theirs)
            await #expect(throws: StoreError.duplicate("shared-id")) { try await store.insertTask(mine) }
            #expect(try await store.task(tenant: "acme", id: "shared-id")?.input == ["who": "acme"])
            #expect(try await store.task(tenant: "globex", id: "shared-id")?.input == ["who": "globex"])
            #expect(try await store.task(tenant: "initech", id: "shared-id") == nil)
            #expect(try await store.tasks(id: "shared-id").map(\.tenant) == ["acme", "globex"])
            #expect(try await store.tasks(id: "missing").isEmpty)
            #expect(try await store.openTasks().map(\.tenant) == ["acme", "globex"])

            // A completion touches its own tenant's task only, and the first still wins there.
            var done = theirs
            done.status = .succeeded
            done.output = "globex's answer"
            #expect(try await store.updateOpenTask(done))
            #expect(try await !store.updateOpenTask(done))
            #expect(try await store.task(tenant: "acme", id: "shared-id")?.status == .queued)
            #expect(try await store.task(tenant: "globex", id: "shared-id")?.output == "globex's answer")
            var stray = done
            stray.tenant = "initech"
            #expect(try await !store.updateOpenTask(stray))
            #expect(try await store.openTasks().map(\.tenant) == ["acme"])
            #expect(try await store.tasks(agentID: "a2", limit: 10).map(\.tenant) == ["globex"])
        }
    }

    @Test("workflow names, run ids and histories are per tenant", arguments: Backend.allCases)
    func workflowsPerTenant(backend: Backend) async throws {
        try await backend.withStore { store in
            func definition(_ steps: Int) -> WorkflowDefinition {
                WorkflowDefinition(name: "etl", steps: (0..<steps).map { StepDefinition(id: "s\($0)", type: .task, agentType: "echo") })
            }
            func run(_ tenant: String, at offset: Double) -> WorkflowRunRecord {
                let at = Fixtures.epoch.addingTimeInterval(offset)
                return WorkflowRunRecord(id: "r1", workflow: "etl", version: 1, tenant: tenant, input: ["who": .string(tenant)], createdAt: at, updatedAt: at)
            }
            try await store.insertWorkflow(WorkflowRecord(name: "etl", version: 1, tenant: "globex", definition: definition(1), createdAt: Fixtures.epoch))
            try await store.insertWorkflow(WorkflowRecord(name: "etl", version: 1, tenant: "acme", definition: definition(2), createdAt: Fixtures.epoch))
            try await store.insertWorkflow(WorkflowRecord(name: "etl", version: 2, tenant: "acme", definition: definition(3), createdAt: Fixtures.epoch))
            await #expect(throws: StoreError.self) {
                try await store.insertWorkflow(WorkflowRecord(name: "etl", version: 1, tenant: "globex", definition: definition(1), createdAt: Fixtures.epoch))
            }
            #expect(try await store.workflow(tenant: "acme", name: "etl", version: nil)?.definition.steps.count == 3)
            #expect(try await store.workflow(tenant: "acme", name: "etl", version: 1)?.definition.steps.count == 2)
            #expect(try await store.workflow(tenant: "globex", name: "etl", version: nil)?.definition.steps.count == 1)
            #expect(try await store.workflow(tenant: "globex", name: "etl", version: 2) == nil)
            #expect(try await store.workflow(tenant: "initech", name: "etl", version: nil) == nil)
            #expect(try await store.workflows().map { "\($0.tenant):\($0.name)@\($0.version)" } == ["acme:etl@2", "globex:etl@1"])

            try await store.insertRun(run("acme", at: 1))
            try await store.insertRun(run("globex", at: 2))
            await #expect(throws: StoreError.duplicate("r1")) { try await store.insertRun(run("acme", at: 3)) }
            #expect(try await store.run(tenant: "acme", id: "r1")?.input == ["who": "acme"])
            #expect(try await store.run(tenant: "globex", id: "r1")?.input == ["who": "globex"])
            #expect(try await store.run(tenant: "initech", id: "r1") == nil)
            #expect(try await store.runs(id: "r1").map(\.tenant) == ["acme", "globex"])
            var finished = run("globex", at: 2)
            finished.status = .completed
            try await store.updateRun(finished)
            #expect(try await store.runStatus(tenant: "globex", id: "r1") == .completed)
            #expect(try await store.runStatus(tenant: "acme", id: "r1") == .running)
            #expect(try await store.openRuns().map(\.tenant) == ["acme"])
            #expect(try await store.runs(WorkflowRunFilter(tenant: "acme")).map(\.tenant) == ["acme"])
            #expect(try await store.runs(WorkflowRunFilter(tenant: "globex", before: "r1")).isEmpty)

            let first = WorkflowEvent(kind: .runStarted, at: Fixtures.epoch, sequence: 1)
            let second = WorkflowEvent(kind: .stepScheduled, at: Fixtures.epoch, step: "s0", sequence: 2)
            try await store.appendHistory(tenant: "acme", runID: "r1", [first, second])
            try await store.appendHistory(tenant: "globex", runID: "r1", [first])
            await #expect(throws: StoreError.self) { try await store.appendHistory(tenant: "globex", runID: "r1", [first]) }
            #expect(try await store.history(tenant: "acme", runID: "r1", after: 0, limit: 10).map(\.sequence) == [1, 2])
            #expect(try await store.history(tenant: "globex", runID: "r1", after: 0, limit: 10).map(\.sequence) == [1])
            #expect(try await store.history(tenant: "initech", runID: "r1", after: 0, limit: 10).isEmpty)
        }
    }

    @Test("concurrent inserts of one id: exactly one succeeds", arguments: Backend.allCases)
    func racingInserts(backend: Backend) async throws {
        try await backend.withStore { store in
            let inserted = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<16 {
                    group.addTask { (try? await store.insertTask(Fixtures.task("once"))) != nil }
                }
                return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(inserted == 1)
        }
    }
}

@Suite("Store events")
struct StoreEventTests {
    @Test("events are numbered in order and read back after a sequence", arguments: Backend.allCases)
    func events(backend: Backend) async throws {
        try await backend.withStore { store in
            let first = try await store.appendEvent(ClusterEvent(at: Fixtures.epoch, kind: "node.down", nodeID: "n1", message: "silent"))
            let second = try await store.appendEvent(ClusterEvent(at: Fixtures.epoch, kind: "agent.rescheduled", nodeID: "n2", agentID: "a1", message: "moved"))
            #expect(first.sequence >= 1)
            #expect(second.sequence > first.sequence)
            #expect(try await store.events(after: 0, limit: 10) == [first, second])
            #expect(try await store.events(after: first.sequence, limit: 10) == [second])
            #expect(try await store.events(after: 0, limit: 1) == [first])
            // One tenant's events.
            let acme = try await store.appendEvent(ClusterEvent(at: Fixtures.epoch, kind: "agent.failed", agentID: "a2", tenant: "acme", message: "x"))
            _ = try await store.appendEvent(ClusterEvent(at: Fixtures.epoch, kind: "agent.failed", agentID: "a3", tenant: "globex", message: "y"))
            #expect(try await store.events(after: 0, limit: 10, tenant: "acme") == [acme])
            #expect(try await store.events(after: acme.sequence, limit: 10, tenant: "acme").isEmpty)
            #expect(try await store.events(after: 0, limit: 10).count == 4)
        }
    }
}
