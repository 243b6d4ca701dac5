import DroverCore
import Foundation
import Logging
import Testing

@testable import DroverNode

/// A builtin driver that takes a while to start: tasks sent meanwhile must wait.
struct SlowStartDriver: AgentDriver {
    var delay: Duration
    func start(_ launch: AgentLaunch, entry: AgentTypeEntry, logger: Logger) async throws -> any AgentInstance {
        try await Task.sleep(for: delay)
        return try await BuiltinDriver().start(launch, entry: entry, logger: logger)
    }
}

@Suite("Agent supervisor", .timeLimit(.minutes(1)))
struct SupervisorTests {
    @Test("start runs an agent and reports it")
    func start() async throws {
        try await withSupervisor { supervisor, events in
            await supervisor.start(startMessage("a1", type: "echo", generation: 1))
            try await events.status("a1", generation: 1, .running)
            #expect(await supervisor.runningAgents() == [.init(agentID: "a1", generation: 1, status: .running)])
            await supervisor.submit(taskMessage("t1", agent: "a1", generation: 1, input: ["x": 1]))
            let result = try await events.result("t1")
            #expect(result.ok && result.output == ["x": 1] && result.generation == 1)
            let summary = try #require(await supervisor.summaries().first)
            #expect(summary.tasksCompleted == 1 && summary.tasksInFlight == 0 && summary.driver == "builtin")
        }
    }

    @Test("a newer generation replaces the running copy; an older one is ignored")
    func fencing() async throws {
        try await withSupervisor { supervisor, events in
            await supervisor.start(startMessage("a1", type: "counter", generation: 1))
            try await events.status("a1", generation: 1, .running)
            await supervisor.submit(taskMessage("t1", agent: "a1", generation: 1))
            #expect(try await events.result("t1").output == ["count": 1])

            await supervisor.start(startMessage("a1", type: "counter", generation: 2, state: ["count": 40]))
            try await events.status("a1", generation: 2, .running)
            await supervisor.start(startMessage("a1", type: "counter", generation: 1))
            #expect(await supervisor.runningAgents() == [.init(agentID: "a1", generation: 2, status: .running)])

            // The same generation again is a no-op: the state is not reset.
            await supervisor.start(startMessage("a1", type: "counter", generation: 2, state: ["count": 0]))
            await supervisor.submit(taskMessage("t2", agent: "a1", generation: 2))
            #expect(try await events.result("t2").output == ["count": 41])

            // A task for the old generation is rejected, not run.
            await supervisor.submit(taskMessage("t3", agent: "a1", generation: 1))
            let stale = try await events.result("t3")
            #expect(!stale.ok && stale.rejected == true)
            #expect(stale.error?.contains("generation 2, not 1") == true)
        }
    }

    @Test("tasks for unknown agents are rejected")
    func unknownAgent() async throws {
        try await withSupervisor { supervisor, events in
            await supervisor.submit(taskMessage("t1", agent: "ghost", generation: 1))
            let result = try await events.result("t1")
            #expect(result.rejected == true && result.ok == false)
            #expect(result.error == "agent 'ghost' does not run on this node")
        }
    }

    @Test("a duplicate task is answered from the cache without running again")
    func duplicate() async throws {
        try await withSupervisor { supervisor, events in
            await supervisor.start(startMessage("a1", type: "counter", generation: 1))
            try await events.status("a1", generation: 1, .running)
            await supervisor.submit(taskMessage("t1", agent: "a1", generation: 1))
            let first = try await events.result("t1")
            await supervisor.submit(taskMessage("t1", agent: "a1", generation: 1))
            let second = try await events.result("t1", occurrence: 2)
            #expect(first == second)
            #expect(second.output == ["count": 1])
            await supervisor.submit(taskMessage("t2", agent: "a1", generation: 1))
            #expect(try await events.result("t2").output == ["count": 2])
            #expect(events.checkpoints.map(\.state) == [["count": 1], ["count": 2]])
        }
    }

    @Test("a duplicate of a task in flight is ignored; one result comes")
    func duplicateInFlight() async throws {
        try await withSupervisor { supervisor, events in
            await supervisor.start(startMessage("s1", type: "sleep", generation: 1))
            try await events.status("s1", generation: 1, .running)
            await supervisor.submit(taskMessage("t1", agent: "s1", generation: 1, input: ["seconds": 0.2]))
            await supervisor.submit(taskMessage("t1", agent: "s1", generation: 1, input: ["seconds": 0.2]))
            try await events.result("t1")
            try await Task.sleep(for: .milliseconds(300))
            #expect(events.results.count == 1)
        }
    }

    @Test("stop of an older generation is ignored; stop of the current one stops and forgets")
    func stop() async throws {
        try await withSupervisor { supervisor, events in
            await supervisor.start(startMessage("a1", type: "echo", generation: 3))
            try await events.status("a1", generation: 3, .running)
            await supervisor.stop(.init(agentID: "a1", generation: 2, reason: "stale"))
            #expect(await supervisor.runningAgents().count == 1)
            await supervisor.stop(.init(agentID: "a1", generation: 3, reason: "undeployed"))
            try await events.status("a1", generation: 3, .stopped)
            #expect(await supervisor.runningAgents().isEmpty)
            await supervisor.submit(taskMessage("t1", agent: "a1", generation: 3))
            #expect(try await events.result("t1").rejected == true)
        }
    }

    @Test("an agent type the node does not offer fails with a clear error")
    func unknownType() async throws {
        try await withSupervisor { supervisor, events in
            await supervisor.start(startMessage("a1", type: "nope", generation: 1))
            let report = try await events.status("a1", generation: 1, .failed)
            #expect(report.error?.contains("agent type 'nope' is not in this node's catalog") == true)
            #expect(await supervisor.runningAgents() == [.init(agentID: "a1", generation: 1, status: .failed)])
        }
    }

    @Test("the node refuses agents past max agents")
    func maxAgents() async throws {
        try await withSupervisor(maxAgents: 1) { supervisor, events in
            await supervisor.start(startMessage("a1", type: "echo", generation: 1))
            await supervisor.start(startMessage("a2", type: "echo", generation: 1))
            let report = try await events.status("a2", generation: 1, .failed)
            #expect(report.error?.contains("limit of 1 agents") == true)
            try await events.status("a1", generation: 1, .running)
        }
    }

    @Test("a task sent while its agent starts waits for it")
    func waitsForStart() async throws {
        var drivers = AgentDrivers()
        drivers.builtin = SlowStartDriver(delay: .milliseconds(200))
        try await withSupervisor(drivers: drivers) { supervisor, events in
            await supervisor.start(startMessage("a1", type: "echo", generation: 1))
            await supervisor.submit(taskMessage("t1", agent: "a1", generation: 1, input: "hi"))
            let result = try await events.result("t1")
            #expect(result.ok && result.output == "hi")
        }
    }

    @Test("a task past its timeout is answered with an error")
    func timeout() async throws {
        try await withSupervisor { supervisor, events in
            await supervisor.start(startMessage("s1", type: "sleep", generation: 1))
            try await events.status("s1", generation: 1, .running)
            await supervisor.submit(taskMessage("t1", agent: "s1", generation: 1, input: ["seconds": 30], timeout: 0.2))
            let result = try await events.result("t1", timeout: .seconds(5))
            #expect(!result.ok && result.rejected == nil)
            #expect(result.error == "task did not finish within 0.2 s")
        }
    }

    @Test("shutdown stops every agent")
    func shutdown() async throws {
        let supervisor = AgentSupervisor(catalog: AgentCatalog(), logger: quietLogger)
        let recorder = EventRecorder()
        let running = Task { await supervisor.run() }
        let consuming = Task { for await event in supervisor.events { recorder.append(event) } }
        await supervisor.start(startMessage("a1", type: "echo", generation: 1))
        try await recorder.status("a1", generation: 1, .running)
        running.cancel()
        await running.value
        try await recorder.status("a1", generation: 1, .stopped)
        consuming.cancel()
    }
}

@Suite("Result cache")
struct ResultCacheTests {
    @Test("keeps the newest results up to its capacity")
    func eviction() {
        var cache = ResultCache(capacity: 3)
        for index in 1...10 {
            cache.insert(.init(taskID: "t\(index)", agentID: "a", generation: 1, ok: true, output: .int(index)))
        }
        #expect(cache.count == 3)
        #expect(cache["a", "t7"] == nil)
        #expect(cache["a", "t10"]?.output == 10)
        #expect(cache["a", "t8"] != nil)
        cache.insert(.init(taskID: "t10", agentID: "a", generation: 1, ok: false))
        #expect(cache.count == 3)
        #expect(cache["a", "t10"]?.ok == false)
    }

    @Test("one task id on two agents (two tenants on a shared node) is two results")
    func perAgent() {
        var cache = ResultCache(capacity: 10)
        cache.insert(.init(taskID: "t1", agentID: "a", generation: 1, ok: true, output: "from a"))
        cache.insert(.init(taskID: "t1", agentID: "b", generation: 1, ok: true, output: "from b"))
        #expect(cache.count == 2)
        #expect(cache["a", "t1"]?.output == "from a")
        #expect(cache["b", "t1"]?.output == "from b")
        #expect(cache["c", "t1"] == nil)
    }
}
