import DroverCore
import Foundation
import Logging

/// One line of the JSON Lines protocol between a node and a process agent
/// (docs/agent-protocol.md). Every line is one JSON object with a `type`.
enum AgentLine: Sendable, Hashable {
    // MARK: node → agent
    /// First line after start: who the agent is, its config and its restored state.
    case initialize(agentID: String, agentType: String, generation: Int, config: JSONValue, state: JSONValue?)
    /// Run a task; answer with `result` or `error` carrying the same `task_id`.
    /// `workflow` names the run, step and step attempt when a workflow sent it.
    case task(taskID: String, input: JSONValue, attempt: Int, timeoutSeconds: Double?, workflow: WorkflowTaskContext? = nil)
    /// Finish up and exit.
    case shutdown

    // MARK: agent → node
    case result(taskID: String, output: JSONValue)
    case error(taskID: String, message: String)
    case checkpoint(state: JSONValue)
    case log(level: Logger.Level, message: String)
    case message(payload: JSONValue)
}

/// What reading one line from an agent gave.
enum AgentLineReading: Sendable, Hashable {
    case line(AgentLine)
    /// Not JSON at all: ordinary output of the program.
    case text(String)
    /// A JSON object that breaks the protocol, with the reason.
    case invalid(String)
}

/// Encodes and decodes `AgentLine`s. Encoded lines hold no newline.
enum AgentLineCodec {
    static func encode(_ line: AgentLine) -> String {
        let value: JSONValue
        switch line {
        case .initialize(let agentID, let agentType, let generation, let config, let state):
            value = [
                "type": "init", "agent_id": .string(agentID), "agent_type": .string(agentType),
                "generation": .int(generation), "config": config, "state": state ?? .null,
            ]
        case .task(let taskID, let input, let attempt, let timeout, let workflow):
            var members: [String: JSONValue] = ["type": "task", "task_id": .string(taskID), "input": input, "attempt": .int(attempt)]
            if let timeout { members["timeout_s"] = .double(timeout) }
            if let workflow {
                var context: [String: JSONValue] = [
                    "run_id": .string(workflow.runID), "step_id": .string(workflow.stepID), "attempt": .int(workflow.attempt),
                ]
                if let item = workflow.item { context["item"] = .int(item) }
                members["workflow"] = .object(context)
            }
            value = .object(members)
        case .shutdown:
            value = ["type": "shutdown"]
        case .result(let taskID, let output):
            value = ["type": "result", "task_id": .string(taskID), "output": output]
        case .error(let taskID, let message):
            value = ["type": "error", "task_id": .string(taskID), "error": .string(message)]
        case .checkpoint(let state):
            value = ["type": "checkpoint", "state": state]
        case .log(let level, let message):
            value = ["type": "log", "level": .string(level.rawValue), "message": .string(message)]
        case .message(let payload):
            value = ["type": "message", "payload": payload]
        }
        // Encoding a JSONValue cannot fail; the fallback keeps the signature simple.
        return (try? JSONCoding.string(value)) ?? #"{"type":"shutdown"}"#
    }

    static func decode(_ text: String) -> AgentLineReading {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.hasPrefix("{"), let value = try? JSONCoding.decode(JSONValue.self, from: trimmed), let object = value.objectValue else {
            return .text(text)
        }
        guard let type = object["type"]?.stringValue else { return .invalid("a JSON line without a string 'type'") }
        func taskID() throws -> String {
            guard let id = object["task_id"]?.stringValue, !id.isEmpty else { throw Invalid("a '\(type)' line needs a string 'task_id'") }
            return id
        }
        do {
            switch type {
            case "result":
                return .line(.result(taskID: try taskID(), output: object["output"] ?? .null))
            case "error":
                let message: String
                switch object["error"] {
                case .some(.string(let text)): message = text
                case .none, .some(.null): message = "the agent reported an error"
                case .some(let other): message = (try? JSONCoding.string(other)) ?? "the agent reported an error"
                }
                return .line(.error(taskID: try taskID(), message: message))
            case "checkpoint":
                guard let state = object["state"] else { return .invalid("a 'checkpoint' line needs 'state'") }
                return .line(.checkpoint(state: state))
            case "log":
                let level = object["level"]?.stringValue.flatMap { Logger.Level(rawValue: $0.lowercased()) } ?? .info
                let message = object["message"]?.stringValue ?? object["message"].flatMap { try? JSONCoding.string($0) } ?? ""
                return .line(.log(level: level, message: message))
            case "message":
                return .line(.message(payload: object["payload"] ?? .null))
            case "init":
                guard let agentID = object["agent_id"]?.stringValue, let agentType = object["agent_type"]?.stringValue,
                    let generation = object["generation"]?.intValue
                else { return .invalid("an 'init' line needs agent_id, agent_type and generation") }
                let state: JSONValue? = object["state"] == .null ? nil : object["state"]
                return .line(.initialize(agentID: agentID, agentType: agentType, generation: generation, config: object["config"] ?? .null, state: state))
            case "task":
                var workflow: WorkflowTaskContext?
                if let context = object["workflow"], let run = context["run_id"]?.stringValue, let step = context["step_id"]?.stringValue {
                    workflow = WorkflowTaskContext(runID: run, stepID: step, item: context["item"]?.intValue, attempt: context["attempt"]?.intValue ?? 1)
                }
                return .line(.task(taskID: try taskID(), input: object["input"] ?? .null, attempt: object["attempt"]?.intValue ?? 1,
                                   timeoutSeconds: object["timeout_s"]?.doubleValue, workflow: workflow))
            case "shutdown":
                return .line(.shutdown)
            default:
                return .invalid("unknown line type '\(type.prefix(40))'")
            }
        } catch let error as Invalid {
            return .invalid(error.reason)
        } catch {
            return .invalid("\(error)")
        }
    }

    private struct Invalid: Error {
        var reason: String
        init(_ reason: String) { self.reason = reason }
    }
}
