import DroverCore
import Foundation
import Testing

@Suite("Workflow machine")
struct WorkflowMachineTests {
    @Test("steps run in order, references fill inputs, outputs land at their paths")
    func sequence() {
        let definition = WorkflowDefinition(name: "seq", steps: [
            .echo("first", input: ["url": "$.urls[1]", "note": "fetch {{ $.urls[0] }} then {{ $.n }}"], output: "$.fetched"),
            .echo("second", input: ["previous": "$.fetched.url", "whole": "{{ $.fetched }}"], output: "$.out.second"),
        ])
        var simulation = WorkflowSimulation(definition)
        simulation.run(["urls": ["a", "b"], "n": 3])
        #expect(simulation.machine.status == .completed)
        #expect(simulation.machine.state["fetched"] == ["url": "b", "note": "fetch a then 3"])
        #expect(simulation.machine.state["out"]?["second"]?["previous"] == "b")
        #expect(simulation.machine.state["out"]?["second"]?["whole"] == ["url": "b", "note": "fetch a then 3"])
        let scheduled = simulation.events(.stepScheduled).map(\.step)
        #expect(scheduled == ["first", "second"])
        #expect(simulation.events(.stepScheduled).first?.taskID == "run-1.first.a1")
    }

    @Test("a map keeps to max_concurrency and collects results in item order")
    func mapOrder() {
        let definition = WorkflowDefinition(name: "m", steps: [
            StepDefinition(
                id: "each", type: .map, agentType: "echo", input: ["doc": "$.d", "at": "$.d_index"], outputPath: "$.results",
                mapConfig: MapConfig(inputPath: "$.docs", itemAlias: "d", maxConcurrency: 3)
            )
        ])
        var simulation = WorkflowSimulation(definition) { event in (true, ["echo": event.data?["doc"] ?? .null, "at": event.data?["at"] ?? .null], nil) }
        simulation.lastInFirstOut = true
        let docs: [JSONValue] = (0..<20).map { .string("doc\($0)") }
        simulation.run(["docs": .array(docs)])
        #expect(simulation.machine.status == .completed)
        #expect(simulation.mostInFlight == 3)
        let results = simulation.machine.state["results"]?.arrayValue ?? []
        #expect(results.count == 20)
        #expect(results.map { $0["echo"] } == docs.map { Optional($0) })
        #expect(results.map { $0["at"]?.intValue } == (0..<20).map { Optional($0) })
        #expect(simulation.events(.stepScheduled).first?.taskID == "run-1.each.i0.a1")
        #expect(simulation.machine.timeline.map(\.step) == ["each"])
        #expect(simulation.machine.timeline.first?.startMs == 0)
        #expect((simulation.machine.timeline.first?.endMs ?? 0) > 0)
        let items = simulation.machine.profile.steps.first?.items
        #expect(items?.count == 20)
        #expect(items?.retried == 0)
        #expect((items?.p50Ms ?? 0) > 0 && (items?.p50Ms ?? 0) <= (items?.maxMs ?? 0))
    }

    @Test("map error handling: continue_on_error leaves null, fail_fast fails the run")
    func mapErrors() {
        func definition(_ handling: MapConfig.ErrorHandling) -> WorkflowDefinition {
            WorkflowDefinition(name: "m", steps: [
                StepDefinition(id: "each", type: .map, agentType: "echo", outputPath: "$.r", mapConfig: MapConfig(inputPath: "$.xs", errorHandling: handling))
            ])
        }
        let failOdd: (WorkflowEvent) -> WorkflowSimulation.Answer = { event in
            (event.data?.intValue ?? 0) % 2 == 0 ? (true, event.data, nil) : (false, nil, "odd")
        }
        var tolerant = WorkflowSimulation(definition(.continueOnError), answer: failOdd)
        tolerant.run(["xs": [0, 1, 2, 3]])
        #expect(tolerant.machine.status == .completed)
        #expect(tolerant.machine.state["r"] == [0, nil, 2, nil])

        var strict = WorkflowSimulation(definition(.failFast), answer: failOdd)
        strict.run(["xs": [0, 1, 2, 3]])
        #expect(strict.machine.status == .failed)
        #expect(strict.machine.error?.contains("item 1 failed: odd") == true)
    }

    @Test("retries wait delay × 2^(attempt−1), capped by max_delay, and the third attempt succeeds")
    func retries() {
        var step = StepDefinition.echo("flaky", output: "$.r")
        step.retryPolicy = RetryPolicy(maxAttempts: 4, backoff: .exponential, delay: .init(seconds: 2), maxDelay: .init(seconds: 3))
        var calls = 0
        var simulation = WorkflowSimulation(WorkflowDefinition(name: "r", steps: [step])) { event in
            calls += 1
            return calls < 3 ? (false, nil, "boom \(calls)") : (true, "ok", nil)
        }
        simulation.run()
        #expect(simulation.machine.status == .completed)
        #expect(simulation.machine.state["r"] == "ok")
        let attempts = simulation.events(.stepScheduled)
        #expect(attempts.map(\.attempt) == [1, 2, 3])
        #expect(attempts.map(\.taskID) == ["run-1.flaky.a1", "run-1.flaky.a2", "run-1.flaky.a3"])
        let failures = simulation.events(.stepFailed)
        #expect(failures.count == 2)
        // First wait 2 s; second 4 s capped to 3 s.
        #expect(abs(failures[0].retryAt!.timeIntervalSince(failures[0].at) - 2) < 0.0001)
        #expect(abs(failures[1].retryAt!.timeIntervalSince(failures[1].at) - 3) < 0.0001)
        #expect(simulation.machine.steps["flaky"]?.attempts == 3)
    }

    @Test("a step out of attempts fails the run (fail_fast)")
    func exhausted() {
        var step = StepDefinition.echo("never")
        step.retryPolicy = RetryPolicy(maxAttempts: 2, backoff: .constant, delay: .init(seconds: 1))
        var simulation = WorkflowSimulation(WorkflowDefinition(name: "r", steps: [step, .echo("after")])) { _ in (false, nil, "nope") }
        simulation.run()
        #expect(simulation.machine.status == .failed)
        #expect(simulation.machine.error == "step 'never' failed: nope")
        #expect(simulation.events(.stepScheduled, step: "after").isEmpty)
    }

    @Test("a decision skips the branch not taken; the join still runs; a false condition skips only its step")
    func decision() {
        var gated = StepDefinition.echo("gated", input: "x", output: "$.gated")
        gated.condition = .compare(field: "$.amount", op: "<", value: 10)
        let definition = WorkflowDefinition(name: "d", steps: [
            StepDefinition(id: "route", type: .decision, decisionNode: DecisionNode(choices: [
                .init(condition: .compare(field: "$.amount", op: "gt", value: 1_000), next: "big")
            ], default: "small")),
            .echo("big", input: "big", output: "$.path"),
            .echo("small", input: "small", output: "$.path"),
            .echo("join", input: "$.path", output: "$.joined", dependsOn: ["big", "small"]),
            gated,
            .echo("last", input: "done", output: "$.last"),
        ])
        var large = WorkflowSimulation(definition)
        large.run(["amount": 5_000])
        #expect(large.machine.status == .completed)
        #expect(large.machine.state["path"] == "big")
        #expect(large.machine.state["joined"] == "big")
        #expect(large.machine.steps["small"]?.status == .skipped)
        #expect(large.machine.steps["route"]?.chosen == "big")
        #expect(large.machine.steps["gated"]?.status == .skipped)
        #expect(large.machine.state["last"] == "done")

        var small = WorkflowSimulation(definition)
        small.run(["amount": 5])
        #expect(small.machine.state["joined"] == "small")
        #expect(small.machine.steps["big"]?.status == .skipped)
        #expect(small.machine.state["gated"] == "x")
    }

    @Test("parallel children start together; their outputs become one object")
    func parallel() {
        let definition = WorkflowDefinition(name: "p", steps: [
            StepDefinition(id: "both", type: .parallel, outputPath: "$.both", steps: [
                .echo("left", input: "L", output: "$.left"), .echo("right", input: "R"),
            ]),
            .echo("after", input: "$.both.right", output: "$.after"),
        ])
        var simulation = WorkflowSimulation(definition)
        simulation.run()
        #expect(simulation.machine.status == .completed)
        #expect(simulation.mostInFlight == 2)
        #expect(simulation.machine.state["both"] == ["left": "L", "right": "R"])
        #expect(simulation.machine.state["left"] == "L")
        #expect(simulation.machine.state["after"] == "R")
        #expect(simulation.events(.stepScheduled).map(\.taskID).contains("run-1.both.left.a1"))
    }

    @Test("failure_strategy continue: independent steps go on, dependents are skipped, the run fails at the end")
    func continueOnFailure() {
        let definition = WorkflowDefinition(
            name: "c",
            steps: [.echo("bad", input: "bad"), .echo("needs_bad", input: "x"), .echo("independent", input: "ok", output: "$.ok", dependsOn: [])],
            config: WorkflowConfig(failureStrategy: .continue)
        )
        var simulation = WorkflowSimulation(definition) { event in event.data == "bad" ? (false, nil, "broken") : (true, event.data, nil) }
        simulation.run()
        #expect(simulation.machine.status == .failed)
        #expect(simulation.machine.state["ok"] == "ok")
        #expect(simulation.machine.steps["needs_bad"]?.status == .skipped)
        #expect(simulation.machine.error?.contains("'bad' (broken)") == true)
    }

    @Test("wait: a signal completes it (even one sent before it began); a duration ends it on time")
    func waits() {
        let definition = WorkflowDefinition(name: "w", steps: [
            .echo("before", input: "x"),
            StepDefinition(id: "approval", type: .wait, outputPath: "$.approval", signal: "approve"),
            StepDefinition(id: "pause", type: .wait, duration: .init(seconds: 30)),
            .echo("after", input: "$.approval.by", output: "$.after"),
        ])
        var simulation = WorkflowSimulation(definition)
        simulation.run()
        #expect(simulation.machine.status == .running)
        #expect(simulation.machine.steps["approval"]?.status == .waiting)
        simulation.signal("approve", ["by": "ana"])
        #expect(simulation.machine.status == .completed)
        #expect(simulation.machine.state["after"] == "ana")
        let paused = simulation.machine.steps["pause"]!
        #expect(abs(paused.finishedAt!.timeIntervalSince(paused.startedAt!) - 30) < 0.0001)

        var early = WorkflowSimulation(WorkflowDefinition(name: "w2", steps: [
            StepDefinition(id: "pause", type: .wait, duration: .init(seconds: 5)),
            StepDefinition(id: "approval", type: .wait, outputPath: "$.a", signal: "approve"),
        ]))
        early.record(early.machine.start(input: [:], now: early.now))
        early.record(early.machine.signal("approve", payload: "yes", now: early.now))
        early.play()
        #expect(early.machine.status == .completed)
        #expect(early.machine.state["a"] == "yes")
        #expect(early.machine.pendingSignals["approve"]?.isEmpty == true)
    }

    @Test("a wait for a signal with a duration fails when the signal does not come in time")
    func signalTimeout() {
        var simulation = WorkflowSimulation(WorkflowDefinition(name: "w", steps: [
            StepDefinition(id: "approval", type: .wait, signal: "approve", duration: .init(seconds: 60))
        ]))
        simulation.run()
        #expect(simulation.machine.status == .failed)
        #expect(simulation.machine.error?.contains("no 'approve' signal within 60") == true)
    }

    @Test("replaying the history rebuilds the same machine")
    func replay() {
        var step = StepDefinition(id: "each", type: .map, agentType: "echo", outputPath: "$.r", mapConfig: MapConfig(inputPath: "$.xs", maxConcurrency: 4))
        step.retryPolicy = RetryPolicy(maxAttempts: 3, backoff: .linear, delay: .init(seconds: 1))
        var failed: Set<Int> = []
        var simulation = WorkflowSimulation(WorkflowDefinition(name: "r", steps: [step, .echo("sum", input: "$.r", output: "$.s")])) { event in
            let value = event.data?.intValue ?? 0
            if value % 3 == 0, failed.insert(value).inserted { return (false, nil, "first try of \(value) fails") }
            return (true, .int(value * 10), nil)
        }
        simulation.run(["xs": .array((0..<30).map { .int($0) })])
        #expect(simulation.machine.status == .completed)
        #expect(simulation.machine.state["r"]?.arrayValue?.count == 30)
        #expect(simulation.machine.state["r"]?.arrayValue?[3] == 30)
        let replayed = WorkflowMachine.replay(runID: "run-1", definition: simulation.machine.definition, history: simulation.history)
        #expect(replayed.status == simulation.machine.status)
        #expect(replayed.state == simulation.machine.state)
        #expect(replayed.steps == simulation.machine.steps)
        #expect(replayed.maps == simulation.machine.maps)
        #expect(replayed.lastSequence == simulation.history.count)
        #expect(simulation.history.map(\.sequence) == Array(1...simulation.history.count))

        // Half the history: the replayed machine knows exactly which items are in flight.
        let half = WorkflowMachine.replay(runID: "run-1", definition: simulation.machine.definition, history: Array(simulation.history.prefix(40)))
        let inFlight = half.inFlight
        #expect(!inFlight.isEmpty)
        for work in inFlight {
            #expect(work.taskID == WorkflowTaskContext.taskID(runID: "run-1", step: work.step, item: work.item, attempt: work.attempt))
        }
    }

    @Test("answers for another attempt or a finished step change nothing")
    func staleAnswers() {
        var machine = WorkflowMachine(runID: "r", definition: WorkflowDefinition(name: "s", steps: [.echo("a")]))
        let now = Date(timeIntervalSince1970: 0)
        _ = machine.start(input: [:], now: now)
        _ = machine.decide(now: now)
        #expect(machine.taskFinished(step: "a", item: nil, attempt: 2, ok: true, output: 1, error: nil, agentID: nil, nodeID: nil, now: now).isEmpty)
        #expect(machine.taskFinished(step: "missing", item: nil, attempt: 1, ok: true, output: 1, error: nil, agentID: nil, nodeID: nil, now: now).isEmpty)
        #expect(machine.taskFinished(step: "a", item: nil, attempt: 1, ok: true, output: 1, error: nil, agentID: nil, nodeID: nil, now: now).count == 1)
        #expect(machine.taskFinished(step: "a", item: nil, attempt: 1, ok: false, output: nil, error: "late", agentID: nil, nodeID: nil, now: now).isEmpty)
        #expect(machine.steps["a"]?.status == .completed)
    }

    @Test("cancel ends the run and every unfinished step; a run timeout fails it")
    func cancelAndTimeout() {
        var machine = WorkflowMachine(runID: "r", definition: WorkflowDefinition(name: "s", steps: [.echo("a"), .echo("b")]))
        let now = Date(timeIntervalSince1970: 0)
        _ = machine.start(input: [:], now: now)
        _ = machine.decide(now: now)
        _ = machine.cancel(now: now)
        _ = machine.decide(now: now)
        #expect(machine.status == .cancelled)
        #expect(machine.steps["a"]?.status == .cancelled)
        #expect(machine.outstandingTaskIDs == ["r.a.a1"])
        #expect(machine.steps["b"]?.status == .cancelled)

        var slow = WorkflowMachine(runID: "r", definition: WorkflowDefinition(name: "s", steps: [.echo("a")], config: WorkflowConfig(timeout: .init(seconds: 10))))
        _ = slow.start(input: [:], now: now)
        _ = slow.decide(now: now)
        #expect(slow.nextWakeup == now.addingTimeInterval(10))
        _ = slow.decide(now: now.addingTimeInterval(10))
        #expect(slow.status == .failed)
        #expect(slow.error?.contains("timeout of 10") == true)
    }

    @Test("a sub-workflow step starts a child run and takes its final state")
    func subWorkflow() {
        let definition = WorkflowDefinition(name: "parent", steps: [
            StepDefinition(id: "child", type: .subWorkflow, input: ["x": "$.x"], outputPath: "$.child", subWorkflowID: "other"),
        ])
        var machine = WorkflowMachine(runID: "p1", definition: definition)
        let now = Date(timeIntervalSince1970: 0)
        _ = machine.start(input: ["x": 7], now: now)
        let started = machine.decide(now: now)
        #expect(started.map(\.kind) == [.childStarted])
        #expect(started.first?.childRunID == "p1.child.a1")
        #expect(started.first?.data == ["x": 7])
        #expect(machine.inFlight.first?.childRunID == "p1.child.a1")
        _ = machine.childFinished(childRunID: "p1.child.a1", ok: true, output: ["y": 8], error: nil, now: now)
        _ = machine.decide(now: now)
        #expect(machine.status == .completed)
        #expect(machine.state["child"] == ["y": 8])
    }

    @Test("a map over a missing list fails with a clear message; an empty list completes at once")
    func mapInputs() {
        let step = StepDefinition(id: "each", type: .map, agentType: "echo", outputPath: "$.r", mapConfig: MapConfig(inputPath: "$.xs"))
        var missing = WorkflowSimulation(WorkflowDefinition(name: "m", steps: [step]))
        missing.run(["xs": "not a list"])
        #expect(missing.machine.status == .failed)
        #expect(missing.machine.error?.contains("map input_path $.xs is not a list") == true)
        var empty = WorkflowSimulation(WorkflowDefinition(name: "m", steps: [step]))
        empty.run(["xs": []])
        #expect(empty.machine.status == .completed)
        #expect(empty.machine.state["r"] == [])
    }
}
