import DroverCore
import Foundation
import Testing

@Suite("Workflow validator edges")
struct WorkflowValidatorEdgeTests {
    private func problems(_ json: String) throws -> [WorkflowProblem] {
        let definition = try JSONDecoder().decode(WorkflowDefinition.self, from: Data(json.utf8))
        return WorkflowValidator.problems(in: definition)
    }

    private func unknown(_ json: String) throws -> [WorkflowProblem] {
        WorkflowValidator.unknownFields(in: try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8)))
    }

    @Test("an output_path may not write past index 10000 (writing pads the list)")
    func outputIndex() throws {
        let far = try problems(#"{"name": "x", "steps": [{"id": "a", "type": "task", "agent_type": "e", "output_path": "$.r[999999999999]"}]}"#)
        #expect(far.map(\.path) == ["steps[0].output_path"])
        #expect(far.first?.message.contains("10000") == true)
        #expect(try problems(#"{"name": "x", "steps": [{"id": "a", "type": "task", "agent_type": "e", "output_path": "$.r[10000]"}]}"#).isEmpty)
        // Reading far is fine: nothing is padded.
        #expect(try problems(#"{"name": "x", "steps": [{"id": "a", "type": "task", "agent_type": "e", "input": "$.r[999999999]"}]}"#).isEmpty)
    }

    @Test("a step can be the branch of one decision only")
    func oneDecisionPerBranch() throws {
        let json = #"""
        {"name": "x", "steps": [
          {"id": "d1", "type": "decision", "decision_node": {"choices": [{"condition": {"field": "$.a", "operator": "exists"}, "next": "shared"}], "default": "left"}},
          {"id": "d2", "type": "decision", "decision_node": {"choices": [{"condition": {"field": "$.b", "operator": "exists"}, "next": "shared"}]}},
          {"id": "shared", "type": "task", "agent_type": "e"},
          {"id": "left", "type": "task", "agent_type": "e"}
        ]}
        """#
        let found = try problems(json)
        #expect(found.map(\.path) == ["steps[1].decision_node"])
        #expect(found.first?.message.contains("'shared' is already a branch of decision 'd1'") == true)
    }

    @Test("unknown fields are named with their path and the field most likely meant")
    func unknownFields() throws {
        #expect(try unknown(#"{"name": "ok", "description": "d", "config": {"timeout": "1m"}, "steps": [{"id": "a", "type": "task", "agent_type": "e", "input": {"anything": 1}, "depends_on": []}]}"#).isEmpty)
        let typo = try unknown(#"{"name": "x", "steps": [{"id": "a", "type": "task", "agent_type": "e"}, {"id": "b", "type": "task", "agent_type": "e", "depend_on": ["a"]}]}"#)
        #expect(typo == [WorkflowProblem(path: "steps[1].depend_on", message: "unknown field 'depend_on'; did you mean 'depends_on'?")])

        let nested = try unknown(#"""
        {"name": "x", "stepz": [], "config": {"cleanup": "always"},
         "pools": {"p": {"agent_type": "e", "pool_config": {"min": 1}}},
         "steps": [{"id": "m", "type": "map", "agent_type": "e", "map_config": {"input_path": "$.l", "concurrency": 2},
                    "retry_policy": {"max_attempts": 2, "backof": "linear"},
                    "condition": {"and": [{"field": "$.a", "operator": "exists", "valu": 1}]}},
                   {"id": "p", "type": "parallel", "steps": [{"id": "c", "type": "task", "agent_type": "e", "output": "$.c"}]},
                   {"id": "d", "type": "decision", "decision_node": {"choices": [{"condition": {"not": {"field": "$.a", "op": "eq"}}, "next": "m", "then": "x"}]}}]}
        """#)
        #expect(nested.map(\.path) == [
            "stepz", "config.cleanup", "pools.p.pool_config.min", "steps[0].condition.and[0].valu", "steps[0].retry_policy.backof",
            "steps[0].map_config.concurrency", "steps[1].steps[0].output", "steps[2].decision_node.choices[0].then",
            "steps[2].decision_node.choices[0].condition.not.op",
        ])
        #expect(nested.first?.message == "unknown field 'stepz'; did you mean 'steps'?")
        // Free-form values are not looked into.
        #expect(try unknown(#"{"name": "x", "input_schema": {"whatever": 1}, "pools": {"p": {"agent_config": {"k": 1}}}, "steps": [{"id": "a", "type": "wait", "signal": "s", "input": {"k": {"deep": 1}}}]}"#).isEmpty)
    }
}
