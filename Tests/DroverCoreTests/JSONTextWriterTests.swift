import DroverCore
import Foundation
import Testing

@Suite("JSON text writer")
struct JSONTextWriterTests {
    static let awkward = ["plain", "quote \" and \\ backslash", "tab\tnew\nline\r", "\u{01}\u{1F}\u{7F}", "a/b", "ünï©ødé 🚀", ""]

    /// Agents with every optional set and unset, and strings that need escaping.
    static func agents() -> [AgentRecord] {
        var records: [AgentRecord] = []
        let created = Date(timeIntervalSince1970: 1_764_779_258.125)
        for (index, text) in awkward.enumerated() {
            var agent = AgentRecord(
                id: "agt-\(index)", agentType: "echo", tenant: "acme",
                config: ["text": .string(text), "nested": ["list": [1, 2.5, -3e-7, true, nil, "x"], "empty": [:]], "big": .int(Int.max)],
                createdAt: created, updatedAt: created.addingTimeInterval(Double(index))
            )
            if index % 2 == 1 {
                agent.nodeID = "node-\(text.count)"
                agent.state = ["count": .int(index), "note": .string(text)]
                agent.lastError = text
                agent.failedNodes = ["n1", text]
                agent.minNodeCapacity = ResourceSpec(cpu: 0.001, memoryMB: 1.5, gpu: 1)
                agent.spreadBy = "zone"
                agent.preferredNode = text
            }
            agent.labels = [text: text, "zone": "a", "Zone": "b"]
            agent.nodeSelector = ["k": text]
            agent.requiredCapabilities = [text, "gpu"]
            agent.resources = ResourceSpec(cpu: Double(index) / 3, memoryMB: 100, gpu: index)
            agent.generation = index * 7
            agent.restarts = index
            agent.status = AgentStatus.allCases[index % AgentStatus.allCases.count]
            agent.strategy = PlacementStrategy.allCases[index % PlacementStrategy.allCases.count]
            records.append(agent)
        }
        return records
    }

    @Test("an agent's text decodes to what JSONEncoder's text decodes to")
    func agentsAgreeWithJSONEncoder() throws {
        let decoder = JSONCoding.decoder()
        for agent in Self.agents() {
            let fast = try agent.jsonText()
            let slow = try JSONCoding.encoder().encode(agent)
            let fromFast = try decoder.decode(AgentRecord.self, from: Data(fast.utf8))
            #expect(fromFast == (try decoder.decode(AgentRecord.self, from: slow)), "\(fast)")
            #expect(fromFast.id == agent.id && fromFast.config == agent.config && fromFast.labels == agent.labels && fromFast.state == agent.state)
        }
    }

    @Test("the text is byte for byte JSONEncoder's for a plain agent")
    func plainAgentIsByteIdentical() throws {
        var agent = AgentRecord(
            id: "agt-1", agentType: "echo", tenant: "default", config: ["greeting": "hi", "n": 3, "ratio": 0.25],
            nodeID: "node-a", generation: 1, createdAt: Date(timeIntervalSince1970: 1_764_779_258.5), updatedAt: Date(timeIntervalSince1970: 1_764_779_259)
        )
        agent.labels = ["team": "risk", "app": "x"]
        agent.resources = ResourceSpec(cpu: 0.5, memoryMB: 256)
        let slow = String(decoding: try JSONCoding.encoder().encode(agent), as: UTF8.self)
        #expect(try agent.jsonText() == slow)
        let list = ListResponse(items: [agent, agent], nextCursor: "c/1")
        #expect(try list.jsonText() == String(decoding: try JSONCoding.encoder().encode(list), as: UTF8.self))
        #expect(try JSONCoding.string(list) == (try list.jsonText()))
    }

    @Test("numbers JSON cannot carry are refused, as JSONEncoder refuses them")
    func nonFiniteNumbersAreRefused() {
        var agent = Self.agents()[0]
        agent.resources.cpu = .nan
        #expect(throws: EncodingError.self) { try agent.jsonText() }
        agent.resources.cpu = 1
        agent.config = ["x": .double(.infinity)]
        #expect(throws: EncodingError.self) { try agent.jsonText() }
    }
}

@Suite("JSON text reader")
struct JSONTextReaderTests {
    @Test("agents read by the fast path equal what JSONDecoder reads, and lists of them too")
    func agentsAgreeWithJSONDecoder() throws {
        let decoder = JSONCoding.decoder()
        let agents = JSONTextWriterTests.agents()
        for agent in agents {
            let data = try JSONCoding.encoder().encode(agent)
            let parsed = try #require(JSONTextReader.parse(data))
            let fast = try #require(AgentRecord(json: parsed))
            #expect(fast == (try decoder.decode(AgentRecord.self, from: data)))
        }
        let list = ListResponse(items: agents, nextCursor: "next")
        let data = try JSONCoding.encoder().encode(list)
        let parsedList = try #require(JSONTextReader.parse(data))
        let fast = try #require(ListResponse<AgentRecord>(json: parsedList))
        #expect(fast.items == (try decoder.decode(ListResponse<AgentRecord>.self, from: data)).items)
        #expect(fast.nextCursor == "next")
    }

    @Test("values parse as JSONDecoder parses them", arguments: [
        #"{"a": [1, 0, 2.5, -3e-7, 1e300, 12345678901234567890, true, false, null], "b": {"c": "d"}}"#,
        #"  "esc \" \\ \/ \b \f \n \r \t \u00e9 \ud83d\ude80 é 🚀"  "#,
        #"[[], {}, [[[]]], "", 0]"#,
        "-9223372036854775808",
        "9223372036854775808",
    ])
    func valuesAgree(text: String) throws {
        let parsed = try #require(JSONTextReader.parse(text))
        #expect(parsed == (try JSONCoding.decoder().decode(JSONValue.self, from: Data(text.utf8))))
    }

    @Test("anything doubtful is declined (JSONDecoder decides)", arguments: [
        "", " ", "{", "[1,]", "{\"a\":1,}", "01", "1.", "-", ".5", "1e", "+1", "\"\\x\"", "\"\u{01}\"", "\"\\ud83d\"", "\"\\ude80\"",
        "{\"a\":1,\"a\":2}", "[1] 2", "1.0", "2e3", "-0", "NaN", "tru", "nul", "\"open", "{\"a\" 1}", "[1 2]",
    ])
    func doubtfulInputIsDeclined(text: String) {
        #expect(JSONTextReader.parse(text) == nil)
    }

    @Test("invalid UTF-8 and deep nesting are declined; JSONCoding.decode still reports errors with their path")
    func invalidBytesAndFallback() throws {
        #expect(JSONTextReader.parse(Data([0x22, 0xFF, 0xFE, 0x22])) == nil)
        #expect(JSONTextReader.parse(String(repeating: "[", count: 300) + String(repeating: "]", count: 300)) == nil)
        #expect(JSONTextReader.parse(String(repeating: "[", count: 200) + String(repeating: "]", count: 200)) != nil)
        let text = try JSONTextWriterTests.agents()[0].jsonText()
        var object = try #require(JSONTextReader.parse(text)?.objectValue)
        object["config"] = nil
        let data = try JSONCoding.encoder().encode(JSONValue.object(object))
        #expect(throws: DecodingError.self) { try JSONCoding.decode(AgentRecord.self, from: data, using: JSONCoding.decoder()) }
        object["generation"] = .string("one")
        #expect(AgentRecord(json: .object(object)) == nil)
    }
}

@Suite("Dates")
struct DateFormatTests {
    @Test("dates parse with and without fractions and offsets; text that is no date does not")
    func otherForms() {
        #expect(JSONCoding.parseDate("2026-12-03T16:20:58Z") == Date(timeIntervalSince1970: 1_796_314_858))
        #expect(JSONCoding.parseDate("2026-12-03T17:20:58.250+01:00") == Date(timeIntervalSince1970: 1_796_314_858.25))
        #expect(JSONCoding.parseDate("not a date") == nil)
    }
}

@Suite("Task records as text")
struct TaskRecordTextTests {
    static func tasks() -> [TaskRecord] {
        let created = Date(timeIntervalSince1970: 1_796_314_858.125)
        let bare = TaskRecord(id: "t1", agentID: "a1", tenant: "acme", input: ["n": 1], timeoutSeconds: 30, createdAt: created, deadline: created.addingTimeInterval(30))
        var full = bare
        full.id = "run-1.step.i3.a2"
        full.input = ["text": "quote \" / \n 🚀", "list": [1, 2.5, nil, true]]
        full.status = .timedOut
        full.output = ["ok": false, "nested": ["x": []]]
        full.error = "no result within 30 s"
        full.attempt = 2
        full.generation = 4
        full.nodeID = "node-1"
        full.timeoutSeconds = 0.25
        full.dispatchedAt = created.addingTimeInterval(1)
        full.completedAt = created.addingTimeInterval(2.5)
        full.workflow = WorkflowTaskContext(runID: "run-1", stepID: "step", item: 3, attempt: 2)
        var noItem = full
        noItem.workflow = WorkflowTaskContext(runID: "run-2", stepID: "s", item: nil, attempt: 1)
        noItem.output = .null
        return [bare, full, noItem]
    }

    @Test("a task's text is JSONEncoder's, and reads back as JSONDecoder reads it")
    func tasksAgreeWithFoundation() throws {
        for task in Self.tasks() {
            let foundation = try JSONCoding.encoder().encode(task)
            #expect(try task.jsonText() == String(decoding: foundation, as: UTF8.self))
            let parsed = try #require(JSONTextReader.parse(foundation))
            let fast = try #require(TaskRecord(json: parsed))
            #expect(fast == (try JSONCoding.decoder().decode(TaskRecord.self, from: foundation)))
        }
    }
}

@Suite("Workflow events as text")
struct WorkflowEventTextTests {
    @Test("an event's text is JSONEncoder's, and reads back as JSONDecoder reads it, whichever members it has")
    func eventsAgreeWithFoundation() throws {
        let at = Date(timeIntervalSince1970: 1_796_314_858.5)
        let events: [WorkflowEvent] = [
            WorkflowEvent(kind: .runStarted, at: at, data: ["items": [1, 2, 3]], sequence: 1),
            WorkflowEvent(kind: .stepScheduled, at: at, step: "fan", item: 7, attempt: 2, taskID: "run-1.fan.i7.a2", agentID: "agt-1", nodeID: "n1", data: "x", sequence: 2),
            WorkflowEvent(kind: .stepFailed, at: at, step: "s", error: "boom \"quoted\"", retryAt: at.addingTimeInterval(1.5), sequence: 3),
            WorkflowEvent(kind: .agentDeployed, at: at, agentID: "agt-2", agentType: "echo", sequence: 4),
            WorkflowEvent(kind: .decisionMade, at: at, step: "d", next: "left", count: 3, propagates: false, sequence: 5),
            WorkflowEvent(kind: .stepStarted, at: at, step: "w", until: at.addingTimeInterval(60), signal: "go", childRunID: "run-2", sequence: 6),
            WorkflowEvent(kind: .runCompleted, at: at, data: .null, sequence: 7),
        ]
        for event in events {
            let foundation = try JSONCoding.encoder().encode(event)
            #expect(try event.jsonText() == String(decoding: foundation, as: UTF8.self))
            let parsed = try #require(JSONTextReader.parse(foundation))
            let fast = try #require(WorkflowEvent(json: parsed))
            #expect(fast == (try JSONCoding.decoder().decode(WorkflowEvent.self, from: foundation)))
        }
    }
}

@Suite("Node records as text")
struct NodeRecordTextTests {
    @Test("a node's text is JSONEncoder's, byte for byte, with every optional set and unset")
    func nodesAgreeWithFoundation() throws {
        let at = Date(timeIntervalSince1970: 1_796_314_858.25)
        let bare = NodeRecord(
            id: "node-1", tenant: "default", name: "n", hostAddress: "10.0.0.1", apiPort: 0,
            resources: NodeResources(capacity: ResourceSpec(cpu: 4, memoryMB: 8_192)), maxAgents: 100,
            status: .active, connection: .websocket, registeredAt: at, lastHeartbeat: at.addingTimeInterval(5), incarnation: "inc-1"
        )
        var full = bare
        full.capabilities = ["gpu", JSONTextWriterTests.awkward[1]]
        full.labels = ["zone": "a", "Zone": JSONTextWriterTests.awkward[2]]
        full.agentTypes = [AgentTypeInfo(name: "echo", driver: "builtin"), AgentTypeInfo(name: "py", driver: "process", resources: ResourceSpec(cpu: 0.25, memoryMB: 64.5, gpu: 1))]
        full.resources = NodeResources(capacity: ResourceSpec(cpu: 0.1, memoryMB: 1e6, gpu: 2), load1: 0.75, memoryAvailableMB: 123.5)
        full.healthScore = 0.9
        full.metadata = ["orchestrator_id": "o-1", "nested": ["n": 1, "list": [true, nil]]]
        full.shared = false
        full.status = .draining
        full.connection = .http
        for node in [bare, full] {
            let foundation = try JSONCoding.encoder().encode(node)
            #expect(try node.jsonText() == String(decoding: foundation, as: UTF8.self))
            #expect(try JSONCoding.string(node) == String(decoding: foundation, as: UTF8.self))
        }
    }
}

@Suite("Audit entries and events as text")
struct AuditEntryTextTests {
    @Test("audit entries, principals, events and bare values are JSONEncoder's text, byte for byte, with every optional set and unset")
    func agreeWithFoundation() throws {
        let at = Date(timeIntervalSince1970: 1_796_314_858.125)
        let awkward = JSONTextWriterTests.awkward
        let principals: [Principal?] = [
            nil, .admin, Principal(role: .tenant, tenant: "acme", subject: "tok-1", credential: "cred-1"),
            Principal(role: .node, tenant: awkward[0], subject: awkward[1]),
        ]
        for principal in principals {
            for remote in [nil, "10.0.0.1:5000"] {
                let entry = AuditEntry(sequence: 42, at: at, principal: principal, remote: remote, method: "POST", path: "/api/v1/\(awkward[2])", status: 201)
                #expect(try entry.jsonText() == String(decoding: try JSONCoding.encoder().encode(entry), as: UTF8.self))
            }
        }
        let events = [
            ClusterEvent(at: at, kind: "node.down", message: "bare"),
            ClusterEvent(sequence: 7, at: at, kind: "agent.moved", nodeID: "n-1", agentID: "a-1", tenant: "acme", message: awkward[1]),
            ClusterEvent(at: at, kind: "x", agentID: "only-agent", message: ""),
        ]
        for event in events {
            #expect(try event.jsonText() == String(decoding: try JSONCoding.encoder().encode(event), as: UTF8.self))
        }
        let values: [JSONValue] = [.null, ["a", 1, 2.5, true, ["nested": [nil, "x"]]], .string(awkward[0])]
        for value in values {
            #expect(try JSONCoding.string(value) == String(decoding: try JSONCoding.encoder().encode(value), as: UTF8.self))
        }
    }
}
