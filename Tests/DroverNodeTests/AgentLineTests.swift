import DroverCore
import Foundation
import Testing

@testable import DroverNode

@Suite("Agent line protocol")
struct AgentLineTests {
    @Test("node lines encode to one JSON object per line and decode back")
    func roundTrip() throws {
        let lines: [AgentLine] = [
            .initialize(agentID: "a1", agentType: "py", generation: 3, config: ["k": "v"], state: ["count": 2]),
            .initialize(agentID: "a1", agentType: "py", generation: 1, config: .null, state: nil),
            .task(taskID: "t1", input: ["text": "line one\nline two"], attempt: 2, timeoutSeconds: 1.5),
            .shutdown,
            .result(taskID: "t1", output: [1, 2, 3]),
            .error(taskID: "t1", message: "boom"),
            .checkpoint(state: ["count": 7]),
            .log(level: .warning, message: "careful"),
            .message(payload: ["event": "done"]),
        ]
        for line in lines {
            let text = AgentLineCodec.encode(line)
            #expect(!text.contains("\n"))
            #expect(AgentLineCodec.decode(text) == .line(line))
        }
    }

    @Test("the init line has the documented fields")
    func initFields() throws {
        let text = AgentLineCodec.encode(.initialize(agentID: "a1", agentType: "py", generation: 3, config: [:], state: nil))
        let value = try JSONCoding.decode(JSONValue.self, from: text)
        #expect(value["type"] == "init")
        #expect(value["agent_id"] == "a1")
        #expect(value["agent_type"] == "py")
        #expect(value["generation"] == 3)
        #expect(value["state"] == .null)
    }

    @Test("lines agents write are read", arguments: [
        (#"{"type":"result","task_id":"t1","output":{"n":1}}"#, AgentLine.result(taskID: "t1", output: ["n": 1])),
        (#"{"type":"result","task_id":"t1"}"#, AgentLine.result(taskID: "t1", output: .null)),
        (#"{"type":"error","task_id":"t2","error":"bad input"}"#, AgentLine.error(taskID: "t2", message: "bad input")),
        (#"{"type":"error","task_id":"t2","error":{"code":5}}"#, AgentLine.error(taskID: "t2", message: #"{"code":5}"#)),
        (#"{"type":"checkpoint","state":{"count":3}}"#, AgentLine.checkpoint(state: ["count": 3])),
        (#"{"type":"log","level":"ERROR","message":"oops"}"#, AgentLine.log(level: .error, message: "oops")),
        (#"{"type":"log","message":"plain"}"#, AgentLine.log(level: .info, message: "plain")),
        (#"  {"type":"message","payload":[1]}  "#, AgentLine.message(payload: [1])),
    ])
    func agentLines(text: String, expected: AgentLine) {
        #expect(AgentLineCodec.decode(text) == .line(expected))
    }

    @Test("text that is not JSON is ordinary output", arguments: ["hello world", "", "{not json", "[1,2]", "42"])
    func garbage(text: String) {
        #expect(AgentLineCodec.decode(text) == .text(text))
    }

    @Test("JSON lines that break the protocol are invalid, with a reason")
    func invalid() {
        for text in [
            #"{"no_type":1}"#, #"{"type":7}"#, #"{"type":"result","output":1}"#, #"{"type":"error","task_id":""}"#,
            #"{"type":"checkpoint"}"#, #"{"type":"dance"}"#,
        ] {
            guard case .invalid(let reason) = AgentLineCodec.decode(text) else {
                Issue.record("\(text) should be invalid")
                continue
            }
            #expect(!reason.isEmpty)
        }
    }
}
