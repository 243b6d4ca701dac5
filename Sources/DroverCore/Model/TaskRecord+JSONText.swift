import Foundation

// Tasks are written and read as often as agents are (stored when accepted, again when
// answered, read by their waiter, answered to their client): they write and read their own
// text too (see `JSONTextWriter`, `JSONTextDecodable`).

extension TaskRecord: JSONTextEncodable {
    /// The members in `JSONEncoder`'s sorted order; optionals that are `nil` are left out.
    public func writeJSON(to writer: inout JSONTextWriter) throws {
        writer.raw("{\"agent_id\":")
        writer.string(agentID)
        writer.raw(",\"attempt\":")
        writer.int(attempt)
        writer.member(",\"completed_at\":", completedAt)
        writer.raw(",\"created_at\":")
        writer.date(createdAt)
        writer.raw(",\"deadline\":")
        writer.date(deadline)
        writer.member(",\"dispatched_at\":", dispatchedAt)
        writer.member(",\"error\":", error)
        writer.member(",\"generation\":", generation)
        writer.raw(",\"id\":")
        writer.string(id)
        writer.raw(",\"input\":")
        try writer.value(input)
        writer.member(",\"node_id\":", nodeID)
        try writer.member(",\"output\":", output)
        writer.raw(",\"status\":")
        writer.string(status.rawValue)
        writer.raw(",\"tenant\":")
        writer.string(tenant)
        writer.raw(",\"timeout_s\":")
        try writer.double(timeoutSeconds)
        try writer.member(",\"workflow\":", workflow)
        writer.raw("}")
    }
}

extension TaskRecord: JSONTextDecodable {
    public init?(json: JSONValue) {
        guard let object = JSONMembers(json),
            let id = object.required("id", JSONMembers.string),
            let agentID = object.required("agent_id", JSONMembers.string),
            let tenant = object.required("tenant", JSONMembers.string),
            let input = object.required("input", JSONMembers.any),
            let status: TaskStatus = object.required("status", JSONMembers.raw),
            let output = object.optional("output", JSONMembers.any),
            let error = object.optional("error", JSONMembers.string),
            let attempt = object.required("attempt", JSONMembers.int),
            let generation = object.optional("generation", JSONMembers.int),
            let nodeID = object.optional("node_id", JSONMembers.string),
            let timeoutSeconds = object.required("timeout_s", JSONMembers.double),
            let createdAt = object.required("created_at", JSONMembers.date),
            let dispatchedAt = object.optional("dispatched_at", JSONMembers.date),
            let completedAt = object.optional("completed_at", JSONMembers.date),
            let deadline = object.required("deadline", JSONMembers.date),
            let workflow = object.optional("workflow", WorkflowTaskContext.init(json:))
        else { return nil }
        self.init(
            id: id, agentID: agentID, tenant: tenant, input: input, status: status, output: output, error: error, attempt: attempt,
            generation: generation, nodeID: nodeID, timeoutSeconds: timeoutSeconds, createdAt: createdAt, dispatchedAt: dispatchedAt,
            completedAt: completedAt, deadline: deadline, workflow: workflow
        )
    }
}

extension WorkflowTaskContext: JSONTextEncodable, JSONTextDecodable {
    public func writeJSON(to writer: inout JSONTextWriter) throws {
        writer.raw("{\"attempt\":")
        writer.int(attempt)
        writer.member(",\"item\":", item)
        writer.raw(",\"run_id\":")
        writer.string(runID)
        writer.raw(",\"step_id\":")
        writer.string(stepID)
        writer.raw("}")
    }

    public init?(json: JSONValue) {
        guard let object = JSONMembers(json),
            let runID = object.required("run_id", JSONMembers.string),
            let stepID = object.required("step_id", JSONMembers.string),
            let item = object.optional("item", JSONMembers.int),
            let attempt = object.required("attempt", JSONMembers.int)
        else { return nil }
        self.init(runID: runID, stepID: stepID, item: item, attempt: attempt)
    }
}
