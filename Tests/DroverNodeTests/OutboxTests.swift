import DroverCore
import Foundation
import Testing

@testable import DroverNode

@Suite("Outbox")
struct OutboxTests {
    func result(_ id: String) -> NodeMessage {
        .taskResult(.init(taskID: id, agentID: "a", generation: 1, ok: true, output: .string(id)))
    }

    func drain(_ stream: AsyncStream<NodeMessage>, count: Int) async -> [NodeMessage] {
        var collected: [NodeMessage] = []
        for await message in stream {
            collected.append(message)
            if collected.count == count { break }
        }
        return collected
    }

    @Test("results wait for the next session, then the latest checkpoints of running agents follow")
    func buffersWhileDisconnected() async {
        let outbox = Outbox(maxBuffered: 10, logger: quietLogger)
        outbox.deliver(result("t1"))
        outbox.deliver(.agentStatus(.init(agentID: "a", generation: 1, status: .running)))
        outbox.deliver(.agentCheckpoint(.init(agentID: "a", generation: 1, state: ["n": 1])))
        outbox.deliver(.agentCheckpoint(.init(agentID: "a", generation: 1, state: ["n": 2])))
        outbox.deliver(.agentCheckpoint(.init(agentID: "gone", generation: 1, state: ["n": 9])))
        outbox.deliver(result("t2"))
        #expect(outbox.bufferedCount == 2)

        let (stream, continuation) = AsyncStream.makeStream(of: NodeMessage.self)
        outbox.attach(continuation, running: [.init(agentID: "a", generation: 1, status: .running)])
        outbox.deliver(result("t3"))
        let sent = await drain(stream, count: 4)
        #expect(sent == [result("t1"), result("t2"), .agentCheckpoint(.init(agentID: "a", generation: 1, state: ["n": 2])), result("t3")])
        #expect(outbox.bufferedCount == 0)
    }

    @Test("results not confirmed by the writer are kept when the session ends")
    func keepsUnconfirmed() async {
        let outbox = Outbox(maxBuffered: 10, logger: quietLogger)
        let (stream, continuation) = AsyncStream.makeStream(of: NodeMessage.self)
        outbox.attach(continuation, running: [])
        outbox.deliver(result("t1"))
        outbox.deliver(result("t2"))
        let sent = await drain(stream, count: 2)
        outbox.written(sent[0])
        outbox.detach()
        #expect(outbox.bufferedCount == 1)

        let (next, nextContinuation) = AsyncStream.makeStream(of: NodeMessage.self)
        outbox.attach(nextContinuation, running: [])
        #expect(await drain(next, count: 1) == [result("t2")])
    }

    @Test("the buffer drops the oldest results past its limit")
    func bounded() {
        let outbox = Outbox(maxBuffered: 3, logger: quietLogger)
        for index in 1...5 { outbox.deliver(result("t\(index)")) }
        #expect(outbox.bufferedCount == 3)
    }

    @Test("the agents response has the documented keys")
    func agentsResponse() throws {
        let response = NodeAgentsResponse(nodeID: "n1", items: [
            AgentSummary(
                agentID: "a", agentType: "echo", driver: "builtin", generation: 2, status: .running, restarts: 0, pid: nil,
                tasksCompleted: 1, tasksFailed: 0, tasksInFlight: 0, startedAt: Date(timeIntervalSince1970: 0), lastError: nil
            ),
        ])
        let value = try JSONCoding.decode(JSONValue.self, from: JSONCoding.string(response))
        #expect(value["node_id"] == "n1")
        let item = try #require(value["items"]?.arrayValue?.first)
        for key in ["agent_id", "agent_type", "driver", "generation", "status", "restarts", "tasks_completed", "tasks_failed", "tasks_in_flight", "started_at"] {
            #expect(item[key] != nil, "missing \(key)")
        }
    }
}
