import DroverCore
import Foundation

/// Drives a `WorkflowMachine` the way the engine does, with agents played by a closure and
/// a clock that jumps to the machine's next timer when nothing else can happen.
struct WorkflowSimulation {
    typealias Answer = (ok: Bool, output: JSONValue?, error: String?)

    var machine: WorkflowMachine
    var history: [WorkflowEvent] = []
    var now = Date(timeIntervalSince1970: 1_000)
    /// Attempts sent and not answered yet, oldest first.
    var pending: [WorkflowEvent] = []
    /// The most attempts of one map step in flight at once.
    var mostInFlight = 0
    /// Answer the newest pending attempt first (shuffles completion order).
    var lastInFirstOut = false
    var answer: (WorkflowEvent) -> Answer

    init(_ definition: WorkflowDefinition, runID: String = "run-1", answer: @escaping (WorkflowEvent) -> Answer = { (true, $0.data, nil) }) {
        machine = WorkflowMachine(runID: runID, definition: definition)
        self.answer = answer
    }

    /// Starts the run and plays it until it ends or nothing can move (a wait without its signal).
    mutating func run(_ input: JSONValue = [:], maxRounds: Int = 100_000) {
        record(machine.start(input: input, now: now))
        play(maxRounds: maxRounds)
    }

    mutating func play(maxRounds: Int = 100_000) {
        for _ in 0..<maxRounds {
            record(machine.decide(now: now))
            if machine.status.isFinal { return }
            mostInFlight = max(mostInFlight, pending.count)
            if !pending.isEmpty {
                let next = lastInFirstOut ? pending.removeLast() : pending.removeFirst()
                now = now.addingTimeInterval(0.001)
                let result = answer(next)
                record(machine.taskFinished(
                    step: next.step!, item: next.item, attempt: next.attempt!, ok: result.ok, output: result.output,
                    error: result.error, agentID: "agent", nodeID: "node", now: now
                ))
                continue
            }
            guard let wakeup = machine.nextWakeup else { return }
            now = max(now, wakeup)
        }
    }

    mutating func signal(_ name: String, _ payload: JSONValue) {
        record(machine.signal(name, payload: payload, now: now))
        play()
    }

    mutating func record(_ events: [WorkflowEvent]) {
        history += events
        pending += events.filter { $0.kind == .stepScheduled }
    }

    /// Events of one kind for one step.
    func events(_ kind: WorkflowEvent.Kind, step: String? = nil) -> [WorkflowEvent] {
        history.filter { $0.kind == kind && (step == nil || $0.step == step) }
    }
}

extension StepDefinition {
    /// A task step on the echo agent.
    static func echo(_ id: String, input: JSONValue? = nil, output: String? = nil, dependsOn: [String]? = nil) -> StepDefinition {
        StepDefinition(id: id, type: .task, agentType: "echo", input: input, outputPath: output, dependsOn: dependsOn)
    }
}
