import DroverCore
import Foundation
import Testing

@Suite("Workflow format")
struct WorkflowFormatTests {
    func decode(_ json: String) throws -> WorkflowDefinition {
        try JSONCoding.decode(WorkflowDefinition.self, from: json)
    }

    func paths(_ json: String, known: Set<String>? = nil) throws -> [String] {
        WorkflowValidator.problems(in: try decode(json), knownWorkflows: known).map(\.path)
    }

    @Test("JSON paths read, write and refuse what they cannot parse")
    func jsonPath() throws {
        let document: JSONValue = ["a": ["b": [10, 20, ["c": "deep"]]], "odd key": 1]
        #expect(try JSONPath(parsing: "$.a.b[1]").value(in: document) == 20)
        #expect(try JSONPath(parsing: "a.b[2].c").value(in: document) == "deep")
        #expect(try JSONPath(parsing: "$[\"odd key\"]").value(in: document) == 1)
        #expect(try JSONPath(parsing: "$").value(in: document) == document)
        #expect(try JSONPath(parsing: "$.a.b[9]").value(in: document) == nil)
        #expect(try JSONPath(parsing: "$.x[1].y").setting("v", in: [:]) == ["x": [nil, ["y": "v"]]])
        for bad in ["", "$.", "$.a[", "$.a[-1]", "$.a[x]", "$..a", "$a"] {
            #expect(throws: JSONPathError.self, "\(bad)") { try JSONPath(parsing: bad) }
        }
    }

    @Test("conditions: every operator, by name and by symbol, and and/or/not")
    func conditions() {
        let state: JSONValue = ["n": 5, "s": "hello world", "tags": ["a", "b"], "obj": ["k": 1], "nothing": nil]
        func check(_ field: String, _ op: String, _ value: JSONValue?) -> Bool {
            WorkflowCondition.compare(field: field, op: op, value: value).evaluate(state)
        }
        #expect(check("$.n", "eq", 5) && check("$.n", "==", 5.0) && !check("$.n", "==", "5"))
        #expect(check("$.n", "ne", 6) && check("$.n", "!=", 6) && check("$.missing", "ne", 1))
        #expect(check("$.n", "gt", 4) && check("$.n", ">", 4) && !check("$.n", ">", 5))
        #expect(check("$.n", "gte", 5) && check("$.n", ">=", 5))
        #expect(check("$.n", "lt", 6) && check("$.n", "<", 6) && check("$.n", "lte", 5) && check("$.n", "<=", 5))
        #expect(check("$.s", ">", "apple"))
        #expect(check("$.n", "in", [1, 5]) && !check("$.n", "in", [1]) && check("$.n", "not_in", [1]))
        #expect(check("$.s", "contains", "world") && check("$.tags", "contains", "b") && check("$.obj", "contains", "k"))
        #expect(check("$.tags", "not_contains", "z"))
        #expect(check("$.s", "exists", nil) && !check("$.nothing", "exists", nil) && !check("$.missing", "exists", nil))
        #expect(check("$.s", "matches", "^hel+o\\s\\w+$") && !check("$.s", "matches", "^world"))
        #expect(!check("$.missing", "gt", 1))
        let combined = WorkflowCondition.all([
            .compare(field: "$.n", op: ">", value: 1), .not(.compare(field: "$.s", op: "contains", value: "bye")),
            .any([.compare(field: "$.n", op: "==", value: 0), .compare(field: "$.tags", op: "contains", value: "a")]),
        ])
        #expect(combined.evaluate(state))
    }

    @Test("conditions decode from the documented shapes")
    func conditionDecoding() throws {
        let json = #"{"and": [{"field": "$.a", "operator": ">=", "value": 3}, {"not": {"field": "b", "operator": "exists"}}, {"or": [{"field": "$.c", "value": "x"}]}]}"#
        let condition = try JSONCoding.decode(WorkflowCondition.self, from: json)
        #expect(condition == .all([
            .compare(field: "$.a", op: ">=", value: 3), .not(.compare(field: "b", op: "exists", value: nil)),
            .any([.compare(field: "$.c", op: "eq", value: "x")]),
        ]))
        #expect(condition.evaluate(["a": 3, "c": "x"]))
    }

    @Test("retry delays: constant = delay, linear = delay × attempt, exponential = delay × 2^(attempt−1), capped")
    func retryDelays() {
        let delay = WorkflowDuration(seconds: 1.5)
        #expect((1...4).map { RetryPolicy(maxAttempts: 5, backoff: .constant, delay: delay).delay(afterAttempt: $0) } == [1.5, 1.5, 1.5, 1.5])
        #expect((1...4).map { RetryPolicy(maxAttempts: 5, backoff: .linear, delay: delay).delay(afterAttempt: $0) } == [1.5, 3, 4.5, 6])
        #expect((1...4).map { RetryPolicy(maxAttempts: 5, backoff: .exponential, delay: delay).delay(afterAttempt: $0) } == [1.5, 3, 6, 12])
        #expect(RetryPolicy(maxAttempts: 5, backoff: .exponential, delay: delay, maxDelay: .init(seconds: 5)).delay(afterAttempt: 4) == 5)
    }

    @Test("durations accept seconds and units")
    func durations() throws {
        #expect(WorkflowDuration.parse("500ms") == 0.5)
        #expect(WorkflowDuration.parse("2m") == 120)
        #expect(WorkflowDuration.parse("1.5h") == 5_400)
        #expect(WorkflowDuration.parse("7") == 7)
        #expect(WorkflowDuration.parse("soon") == nil)
        #expect(WorkflowDuration.parse("-3s") == nil)
        let step = try JSONCoding.decode(StepDefinition.self, from: #"{"id": "w", "type": "wait", "duration": "30s"}"#)
        #expect(step.duration?.seconds == 30)
    }

    @Test("templates: whole-path strings keep their type, placeholders interpolate, bad references are found")
    func templates() throws {
        let scope: JSONValue = ["a": [1, 2], "s": "x", "o": ["k": true]]
        #expect(InputTemplate.resolve("$.a", in: scope) == [1, 2])
        #expect(InputTemplate.resolve("{{ $.o }}", in: scope) == ["k": true])
        #expect(InputTemplate.resolve("v={{ $.s }}, a={{$.a}}, none={{ $.missing }}", in: scope) == "v=x, a=[1,2], none=")
        #expect(InputTemplate.resolve(["list": ["$.s", 3], "plain": "no refs"], in: scope) == ["list": ["x", 3], "plain": "no refs"])
        #expect(throws: JSONPathError.self) { try InputTemplate.references(in: ["a": ["b": "{{ $.x "]]) }
        #expect(throws: JSONPathError.self) { try InputTemplate.references(in: "$.a[") }
    }

    @Test("the validator names the path of every fault")
    func validation() throws {
        #expect(try paths(#"{"name": "ok", "steps": [{"id": "a", "type": "task", "agent_type": "echo"}]}"#).isEmpty)
        #expect(try paths(#"{"name": "x", "steps": [{"id": "a", "type": "teleport"}]}"#) == ["steps[0].type"])
        #expect(try paths(#"{"name": "x", "steps": [{"id": "a", "type": "task", "agent_type": "echo", "depends_on": ["ghost"]}]}"#) == ["steps[0].depends_on[0]"])
        #expect(try paths(#"{"name": "x", "steps": [{"id": "a", "type": "task"}]}"#) == ["steps[0]"])
        #expect(try paths(#"{"name": "x", "steps": [{"id": "a", "type": "task", "pool": "p"}]}"#) == ["steps[0].pool"])
        #expect(try paths(#"{"name": "x", "steps": [{"id": "a", "type": "map", "agent_type": "echo"}]}"#) == ["steps[0].map_config"])
        #expect(try paths(#"{"name": "x", "steps": [{"id": "a", "type": "task", "agent_type": "e", "input": {"u": "$.urls["}}]}"#) == ["steps[0].input.u"])
        #expect(try paths(#"{"name": "x", "steps": [{"id": "a", "type": "task", "agent_type": "e", "output_path": "$..x"}]}"#) == ["steps[0].output_path"])
        #expect(try paths(#"{"name": "x", "steps": [{"id": "a", "type": "task", "agent_type": "e"}, {"id": "a", "type": "task", "agent_type": "e"}]}"#) == ["steps[1].id"])
        #expect(try paths(#"{"name": "x", "steps": [{"id": "d", "type": "decision", "decision_node": {"choices": [{"condition": {"field": "$.a", "operator": "~", "value": 1}, "next": "nowhere"}]}}]}"#)
            == ["steps[0].decision_node.choices[0].condition.operator", "steps[0].decision_node.choices[0].next"])
        #expect(try paths(#"{"name": "x", "steps": [{"id": "a", "type": "task", "agent_type": "e", "condition": {"field": "$.s", "operator": "matches", "value": "("}}]}"#) == ["steps[0].condition.value"])
        #expect(try paths(#"{"name": "x", "steps": [{"id": "a", "type": "sub_workflow", "sub_workflow_id": "nope"}]}"#, known: ["other"]) == ["steps[0].sub_workflow_id"])
        #expect(try paths(#"{"name": "x", "steps": [{"id": "w", "type": "wait"}]}"#) == ["steps[0]"])
        #expect(try paths(#"{"name": "x", "steps": [{"id": "p", "type": "parallel", "steps": [{"id": "c", "type": "task", "agent_type": "e", "depends_on": []}]}]}"#) == ["steps[0].steps[0].depends_on"])
        #expect(try paths(#"{"name": "bad name!", "steps": []}"#) == ["name", "steps"])
        let cycle = try paths(#"{"name": "x", "steps": [{"id": "a", "type": "task", "agent_type": "e", "depends_on": ["b"]}, {"id": "b", "type": "task", "agent_type": "e", "depends_on": ["a"]}]}"#)
        #expect(cycle == ["steps[0]"])
    }

    @Test("run input is checked against input_schema")
    func inputSchema() {
        let schema: JSONValue = ["type": "object", "required": ["documents"], "properties": ["documents": ["type": "array"], "n": ["type": "integer"]]]
        #expect(WorkflowValidator.inputProblems(["documents": []], schema: schema).isEmpty)
        #expect(WorkflowValidator.inputProblems([:], schema: schema).map(\.path) == ["input.documents"])
        #expect(WorkflowValidator.inputProblems(["documents": "x", "n": 1.5], schema: schema).map(\.path) == ["input.documents", "input.n"])
    }
}

@Suite("Placement failures")
struct PlacementFailureTests {
    @Test("waiting helps only when nodes are away or full, or none registered yet")
    func transient() {
        func failure(_ rejections: [PlacementRejection: Int], evaluated: Int = 2) -> PlacementFailure {
            PlacementFailure(agentType: "echo", nodesEvaluated: evaluated, rejections: rejections)
        }
        #expect(failure([:], evaluated: 0).isTransient)
        #expect(failure([.notConnected: 2]).isTransient)
        #expect(failure([.notActive: 1, .resourcesExhausted: 1]).isTransient)
        #expect(failure([.agentLimit: 2]).isTransient)
        #expect(!failure([.agentTypeMissing: 2]).isTransient)
        #expect(!failure([.notConnected: 1, .agentTypeMissing: 1]).isTransient)
        #expect(!failure([.otherTenant: 2]).isTransient)
        #expect(!failure([.capabilityMissing: 1, .selectorMismatch: 1]).isTransient)
        #expect(!failure([.nodeTooSmall: 2]).isTransient)
    }
}
