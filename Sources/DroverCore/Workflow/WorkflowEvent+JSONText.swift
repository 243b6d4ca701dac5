import Foundation

// A workflow run writes two history events per step and reads them back when it resumes: they
// write and read their own text, as agent and task records do (see `JSONTextWriter`).

extension WorkflowEvent: JSONTextEncodable {
    /// The members in `JSONEncoder`'s sorted order; optionals that are `nil` are left out.
    public func writeJSON(to writer: inout JSONTextWriter) throws {
        var first = true
        writer.raw("{")
        if let agentID {
            writer.key("\"agent_id\":", first: &first)
            writer.string(agentID)
        }
        if let agentType {
            writer.key("\"agent_type\":", first: &first)
            writer.string(agentType)
        }
        writer.key("\"at\":", first: &first)
        writer.date(at)
        writer.member(",\"attempt\":", attempt)
        writer.member(",\"child_run_id\":", childRunID)
        writer.member(",\"count\":", count)
        try writer.member(",\"data\":", data)
        writer.member(",\"error\":", error)
        writer.member(",\"item\":", item)
        writer.raw(",\"kind\":")
        writer.string(kind.rawValue)
        writer.member(",\"next\":", next)
        writer.member(",\"node_id\":", nodeID)
        writer.member(",\"propagates\":", propagates)
        writer.member(",\"retry_at\":", retryAt)
        writer.raw(",\"sequence\":")
        writer.int(sequence)
        writer.member(",\"signal\":", signal)
        writer.member(",\"step\":", step)
        writer.member(",\"task_id\":", taskID)
        writer.member(",\"until\":", until)
        writer.raw("}")
    }
}

extension WorkflowEvent: JSONTextDecodable {
    public init?(json: JSONValue) {
        guard let object = JSONMembers(json),
            let sequence = object.required("sequence", JSONMembers.int),
            let at = object.required("at", JSONMembers.date),
            let kind: Kind = object.required("kind", JSONMembers.raw),
            let step = object.optional("step", JSONMembers.string),
            let item = object.optional("item", JSONMembers.int),
            let attempt = object.optional("attempt", JSONMembers.int),
            let taskID = object.optional("task_id", JSONMembers.string),
            let agentID = object.optional("agent_id", JSONMembers.string),
            let agentType = object.optional("agent_type", JSONMembers.string),
            let nodeID = object.optional("node_id", JSONMembers.string),
            let data = object.optional("data", JSONMembers.any),
            let error = object.optional("error", JSONMembers.string),
            let retryAt = object.optional("retry_at", JSONMembers.date),
            let until = object.optional("until", JSONMembers.date),
            let next = object.optional("next", JSONMembers.string),
            let signal = object.optional("signal", JSONMembers.string),
            let childRunID = object.optional("child_run_id", JSONMembers.string),
            let count = object.optional("count", JSONMembers.int),
            let propagates = object.optional("propagates", JSONMembers.bool)
        else { return nil }
        self.init(
            kind: kind, at: at, step: step, item: item, attempt: attempt, taskID: taskID, agentID: agentID, agentType: agentType,
            nodeID: nodeID, data: data, error: error, retryAt: retryAt, until: until, next: next, signal: signal,
            childRunID: childRunID, count: count, propagates: propagates, sequence: sequence
        )
    }
}
