import DroverCore
import Foundation
import Testing

@testable import DroverNode

@Suite("Builtin agents")
struct BuiltinAgentTests {
    func launch(_ kind: BuiltinAgentInstance.Kind, config: JSONValue = [:], state: JSONValue? = nil) -> BuiltinAgentInstance {
        BuiltinAgentInstance(kind: kind, launch: AgentLaunch(agentID: "a", agentType: kind.rawValue, generation: 1, config: config, state: state))
    }

    func task(_ input: JSONValue, id: String = UUID().uuidString) -> AgentTask {
        AgentTask(taskID: id, input: input, attempt: 1, timeoutSeconds: 10)
    }

    /// Collects the checkpoints an instance reports until it is stopped.
    func checkpoints(of instance: BuiltinAgentInstance, during body: () async -> Void) async -> [JSONValue] {
        let recorder = EventRecorder()
        async let monitored: String = instance.monitor { event in
            if case .checkpoint(let state) = event { recorder.append(.agentCheckpoint(.init(agentID: "a", generation: 1, state: state))) }
        }
        await body()
        await instance.stop()
        _ = await monitored
        return recorder.checkpoints.map(\.state)
    }

    @Test("echo returns its input")
    func echo() async {
        let agent = launch(.echo)
        #expect(await agent.perform(task(["hello": [1, 2]])) == .success(["hello": [1, 2]]))
        #expect(await agent.perform(task("plain")) == .success("plain"))
    }

    @Test("fail fails the first N tasks, then echoes; the count survives a restart")
    func failN() async {
        let agent = launch(.fail, config: ["failures": 2])
        var outcomes: [TaskOutcome] = []
        let saved = await checkpoints(of: agent) {
            for index in 1...3 { outcomes.append(await agent.perform(task(.int(index)))) }
        }
        guard case .failure = outcomes[0], case .failure = outcomes[1] else {
            Issue.record("the first two tasks should fail: \(outcomes)")
            return
        }
        #expect(outcomes[2] == .success(3))
        #expect(saved.last == ["seen": 3])

        let restarted = launch(.fail, config: ["failures": 4], state: saved.last)
        #expect(await restarted.perform(task("x")) == .failure("builtin 'fail' agent fails its first 4 tasks; this was task 4"))
        #expect(await restarted.perform(task("y")) == .success("y"))
    }

    @Test("counter adds, checkpoints and restores")
    func counter() async {
        let agent = launch(.counter, state: ["count": 10])
        var outputs: [TaskOutcome] = []
        let saved = await checkpoints(of: agent) {
            outputs.append(await agent.perform(task([:])))
            outputs.append(await agent.perform(task(["add": 5])))
            outputs.append(await agent.perform(task(["add": "x"])))
        }
        #expect(outputs[0] == .success(["count": 11]))
        #expect(outputs[1] == .success(["count": 16]))
        #expect(outputs[2] == .failure("counter: 'add' must be a whole number"))
        #expect(saved == [["count": 11], ["count": 16]])
        #expect(await launch(.counter, state: saved.last).perform(task(["add": 1])) == .success(["count": 17]))
    }

    @Test("sleep sleeps input.seconds")
    func sleep() async {
        let agent = launch(.sleep, config: ["seconds": 30])
        let start = ContinuousClock.now
        #expect(await agent.perform(task(["seconds": 0.05])) == .success(["slept": 0.05]))
        #expect(start.duration(to: .now) >= .milliseconds(50))
        #expect(await agent.perform(task(0)) == .success(["slept": 0]))
        #expect(await agent.perform(task(["seconds": 0, "echo": ["item": 7]])) == .success(["slept": 0, "echo": ["item": 7]]))
    }

    @Test("wordcount counts words; sum adds numbers or a field, skipping nulls")
    func wordcountAndSum() async {
        let words = launch(.wordcount)
        #expect(await words.perform(task(["text": "the quick\nbrown  fox"])) == .success(["words": 4, "characters": 20]))
        #expect(await words.perform(task("one two")) == .success(["words": 2, "characters": 7]))
        #expect(await words.perform(task(["text": 3])) == .failure("wordcount: input needs 'text', a string"))
        let sum = launch(.sum)
        #expect(await sum.perform(task(["values": [1, 2, 3]])) == .success(["sum": 6, "count": 3]))
        #expect(await sum.perform(task(["values": [["words": 4], nil, ["words": 1.5]], "field": "words"])) == .success(["sum": 5.5, "count": 2]))
        #expect(await sum.perform(task(["values": ["x"]])) == .failure("sum: an item is not a number"))
        #expect(await sum.perform(task([:])) == .failure("sum: input needs 'values', a list"))
    }
}
