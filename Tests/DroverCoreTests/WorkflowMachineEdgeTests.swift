import DroverCore
import Foundation
import Testing

@Suite("Workflow machine edges")
struct WorkflowMachineEdgeTests {
    @Test("one signal completes one wait: two waits on the same signal need two signals")
    func oneSignalOneWait() {
        let definition = WorkflowDefinition(name: "two-waits", steps: [
            StepDefinition(id: "both", type: .parallel, steps: [
                StepDefinition(id: "first", type: .wait, outputPath: "$.first", signal: "go"),
                StepDefinition(id: "second", type: .wait, outputPath: "$.second", signal: "go"),
            ]),
        ])
        var simulation = WorkflowSimulation(definition)
        simulation.run()
        simulation.signal("go", "one")
        let waiting = ["both.first", "both.second"].filter { simulation.machine.steps[$0]?.status == .waiting }
        #expect(waiting.count == 1)
        #expect(simulation.machine.status == .running)
        #expect(simulation.machine.pendingSignals["go"]?.isEmpty ?? true)

        simulation.signal("go", "two")
        #expect(simulation.machine.status == .completed)
        #expect(Set([simulation.machine.state["first"], simulation.machine.state["second"]]) == Set<JSONValue?>(["one", "two"]))
        // The history replays to the same place.
        let replayed = WorkflowMachine.replay(runID: simulation.machine.runID, definition: definition, history: simulation.history)
        #expect(replayed.state == simulation.machine.state)
        #expect(replayed.status == .completed)
    }

    @Test("a run that ends with a sub-workflow still going names it, so the child can be cancelled")
    func openChildren() {
        let definition = WorkflowDefinition(name: "parent", steps: [
            StepDefinition(id: "child", type: .subWorkflow, subWorkflowID: "other"),
        ])
        var machine = WorkflowMachine(runID: "p1", definition: definition)
        let now = Date(timeIntervalSince1970: 0)
        _ = machine.start(input: [:], now: now)
        _ = machine.decide(now: now)
        #expect(machine.openChildRunIDs == ["p1.child.a1"])
        _ = machine.cancel(now: now)
        _ = machine.decide(now: now)
        #expect(machine.status == .cancelled)
        #expect(machine.openChildRunIDs == ["p1.child.a1"])

        var finished = WorkflowMachine(runID: "p2", definition: definition)
        _ = finished.start(input: [:], now: now)
        _ = finished.decide(now: now)
        _ = finished.childFinished(childRunID: "p2.child.a1", ok: true, output: [:], error: nil, now: now)
        _ = finished.decide(now: now)
        #expect(finished.status == .completed)
        #expect(finished.openChildRunIDs.isEmpty)
    }
}
