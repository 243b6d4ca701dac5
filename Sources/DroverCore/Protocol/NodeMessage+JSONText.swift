import Foundation

// The frames that go by the thousand (starts, stops, statuses, heartbeats and agent lists, task
// runs and results) are written and read without `JSONEncoder`/`JSONDecoder`, as agent records
// are (see `JSONTextWriter`). The text is what `JSONEncoder` writes; any other frame, and any
// frame the fast reader declines, goes through the `Codable` conformance.

extension NodeMessage {
    /// The frame's text, or `nil` for a type that is written with `JSONEncoder`.
    func fastJSONText() throws -> String? {
        var writer = JSONTextWriter(capacity: 256)
        switch self {
        case .agentStart(let start):
            writer.raw("{\"agent_id\":")
            writer.string(start.agentID)
            writer.raw(",\"agent_type\":")
            writer.string(start.agentType)
            writer.raw(",\"config\":")
            try writer.value(start.config)
            writer.raw(",\"generation\":")
            writer.int(start.generation)
            try writer.member(",\"state\":", start.state)
        case .agentStop(let stop):
            writer.raw("{\"agent_id\":")
            writer.string(stop.agentID)
            writer.raw(",\"generation\":")
            writer.int(stop.generation)
            writer.raw(",\"reason\":")
            writer.string(stop.reason)
        case .agentStatus(let report):
            writer.raw("{\"agent_id\":")
            writer.string(report.agentID)
            writer.member(",\"error\":", report.error)
            writer.raw(",\"generation\":")
            writer.int(report.generation)
            writer.raw(",\"restarts\":")
            writer.int(report.restarts)
            writer.raw(",\"status\":")
            writer.string(report.status.rawValue)
        case .taskRun(let run):
            writer.raw("{\"agent_id\":")
            writer.string(run.agentID)
            writer.raw(",\"attempt\":")
            writer.int(run.attempt)
            writer.raw(",\"generation\":")
            writer.int(run.generation)
            writer.raw(",\"input\":")
            try writer.value(run.input)
            writer.raw(",\"task_id\":")
            writer.string(run.taskID)
            writer.raw(",\"timeout_s\":")
            try writer.double(run.timeoutSeconds)
            // "type" sorts before "workflow".
            writer.raw(",\"type\":\"task.run\"")
            try writer.member(",\"workflow\":", run.workflow)
            writer.raw("}")
            return writer.text
        case .taskResult(let result):
            writer.raw("{\"agent_id\":")
            writer.string(result.agentID)
            writer.member(",\"error\":", result.error)
            writer.raw(",\"generation\":")
            writer.int(result.generation)
            writer.raw(",\"ok\":")
            writer.bool(result.ok)
            try writer.member(",\"output\":", result.output)
            writer.member(",\"rejected\":", result.rejected)
            writer.raw(",\"task_id\":")
            writer.string(result.taskID)
        case .heartbeat(let heartbeat):
            writer.raw("{")
            if let agents = heartbeat.agents {
                writer.raw("\"agents\":")
                try writer.array(agents)
                writer.raw(",")
            }
            writer.member("\"agents_digest\":", heartbeat.agentsDigest)
            if heartbeat.agentsDigest != nil { writer.raw(",") }
            if let more = heartbeat.agentsMore {
                writer.raw("\"agents_more\":")
                writer.bool(more)
                writer.raw(",")
            }
            writer.raw("\"resources\":")
            try writer.encodable(heartbeat.resources)
        case .agentList(let list):
            writer.raw("{\"agents\":")
            try writer.array(list.agents)
            writer.raw(",\"more\":")
            writer.bool(list.more)
        default:
            return nil
        }
        writer.raw(",\"type\":")
        writer.string(type)
        writer.raw("}")
        return writer.text
    }
}

extension NodeProtocol.RunningAgent: JSONTextEncodable {
    public func writeJSON(to writer: inout JSONTextWriter) {
        writer.raw("{\"agent_id\":")
        writer.string(agentID)
        writer.raw(",\"generation\":")
        writer.int(generation)
        writer.raw(",\"restarts\":")
        writer.int(restarts)
        writer.raw(",\"status\":")
        writer.string(status.rawValue)
        writer.raw("}")
    }
}

extension NodeMessage: JSONTextDecodable {
    /// The frames read by the thousand; `nil` for any other type (and for anything the
    /// `Codable` conformance would read differently), which `JSONDecoder` then reads.
    public init?(json: JSONValue) {
        guard let object = JSONMembers(json), let type = object.required("type", JSONMembers.string) else { return nil }
        switch type {
        case "agent.status":
            guard let report = Self.statusReport(object) else { return nil }
            self = .agentStatus(report)
        case "heartbeat":
            guard let heartbeat = Self.heartbeat(object) else { return nil }
            self = .heartbeat(heartbeat)
        case "agent.list":
            guard let agents = object.required("agents", Self.runningAgents), let more = object.required("more", JSONMembers.bool) else { return nil }
            self = .agentList(.init(agents: agents, more: more))
        case "task.result":
            guard let result = Self.taskResult(object) else { return nil }
            self = .taskResult(result)
        case "task.run":
            guard let run = Self.taskRun(object) else { return nil }
            self = .taskRun(run)
        case "agent.start":
            guard let agentID = object.required("agent_id", JSONMembers.string),
                let agentType = object.required("agent_type", JSONMembers.string),
                let generation = object.required("generation", JSONMembers.int),
                let config = object.required("config", JSONMembers.any),
                let state = object.optional("state", JSONMembers.any)
            else { return nil }
            self = .agentStart(.init(agentID: agentID, agentType: agentType, generation: generation, config: config, state: state))
        case "agent.stop":
            guard let agentID = object.required("agent_id", JSONMembers.string),
                let generation = object.required("generation", JSONMembers.int),
                let reason = object.required("reason", JSONMembers.string)
            else { return nil }
            self = .agentStop(.init(agentID: agentID, generation: generation, reason: reason))
        default:
            return nil
        }
    }

    private static func statusReport(_ object: JSONMembers) -> NodeProtocol.AgentStatusReport? {
        guard let agentID = object.required("agent_id", JSONMembers.string),
            let generation = object.required("generation", JSONMembers.int),
            let status: AgentStatus = object.required("status", JSONMembers.raw),
            let restarts = object.required("restarts", JSONMembers.int),
            let error = object.optional("error", JSONMembers.string)
        else { return nil }
        return .init(agentID: agentID, generation: generation, status: status, restarts: restarts, error: error)
    }

    private static func heartbeat(_ object: JSONMembers) -> NodeProtocol.Heartbeat? {
        guard let resources = object.required("resources", nodeResources),
            let agents = object.optional("agents", runningAgents),
            let more = object.optional("agents_more", JSONMembers.bool),
            let digest = object.optional("agents_digest", JSONMembers.string)
        else { return nil }
        return .init(resources: resources, agents: agents, agentsMore: more, agentsDigest: digest)
    }

    private static func nodeResources(_ json: JSONValue) -> NodeResources? {
        guard let object = JSONMembers(json),
            let capacity = object.required("capacity", ResourceSpec.init(json:)),
            let load = object.optional("load_1m", JSONMembers.double),
            let available = object.optional("memory_available_mb", JSONMembers.double)
        else { return nil }
        return NodeResources(capacity: capacity, load1: load, memoryAvailableMB: available)
    }

    private static func runningAgents(_ json: JSONValue) -> [NodeProtocol.RunningAgent]? {
        guard case .array(let elements) = json else { return nil }
        var agents: [NodeProtocol.RunningAgent] = []
        agents.reserveCapacity(elements.count)
        for element in elements {
            guard let object = JSONMembers(element),
                let agentID = object.required("agent_id", JSONMembers.string),
                let generation = object.required("generation", JSONMembers.int),
                let status: AgentStatus = object.required("status", JSONMembers.raw),
                let restarts = object.required("restarts", JSONMembers.int)
            else { return nil }
            agents.append(.init(agentID: agentID, generation: generation, status: status, restarts: restarts))
        }
        return agents
    }

    private static func taskResult(_ object: JSONMembers) -> NodeProtocol.TaskResult? {
        guard let taskID = object.required("task_id", JSONMembers.string),
            let agentID = object.required("agent_id", JSONMembers.string),
            let generation = object.required("generation", JSONMembers.int),
            let ok = object.required("ok", JSONMembers.bool),
            let output = object.optional("output", JSONMembers.any),
            let error = object.optional("error", JSONMembers.string),
            let rejected = object.optional("rejected", JSONMembers.bool)
        else { return nil }
        return .init(taskID: taskID, agentID: agentID, generation: generation, ok: ok, output: output, error: error, rejected: rejected)
    }

    private static func taskRun(_ object: JSONMembers) -> NodeProtocol.TaskRun? {
        guard let workflow = object.optional("workflow", WorkflowTaskContext.init(json:)),
            let taskID = object.required("task_id", JSONMembers.string),
            let agentID = object.required("agent_id", JSONMembers.string),
            let generation = object.required("generation", JSONMembers.int),
            let input = object.required("input", JSONMembers.any),
            let attempt = object.required("attempt", JSONMembers.int),
            let timeout = object.required("timeout_s", JSONMembers.double)
        else { return nil }
        return .init(taskID: taskID, agentID: agentID, generation: generation, input: input, attempt: attempt, timeoutSeconds: timeout, workflow: workflow)
    }
}
