import DroverCore
import Foundation

/// Workflow calls: `/api/v1/workflows...`.
extension DroverClient {
    /// Registers a definition given as YAML or JSON text (a new version when it changed).
    public func applyWorkflow(text: String, yaml: Bool) async throws -> WorkflowRecord {
        try await decode(send("POST", "/api/v1/workflows", body: Data(text.utf8), contentType: yaml ? "application/yaml" : "application/json"))
    }

    /// Registers a definition.
    public func applyWorkflow(_ definition: WorkflowDefinition) async throws -> WorkflowRecord {
        try await post("/api/v1/workflows", definition)
    }

    /// The newest version of every definition.
    public func workflows() async throws -> [WorkflowRecord] {
        try await get("/api/v1/workflows", as: ListResponse<WorkflowRecord>.self).items
    }

    /// Starts a run.
    public func startRun(workflow: String, input: JSONValue, runID: String? = nil) async throws -> WorkflowRunRecord {
        try await post("/api/v1/workflows/\(Self.escape(workflow))/runs", WorkflowRunRequest(input: input, runID: runID))
    }

    /// Starts a run and waits up to `timeoutSeconds` for it to end.
    public func runAndWait(workflow: String, input: JSONValue, timeoutSeconds: Double = 60) async throws -> WorkflowRunView {
        let body = try JSONCoding.encoder().encode(WorkflowRunRequest(input: input))
        let path = "/api/v1/workflows/\(Self.escape(workflow))/runs?wait=true&timeout_s=\(timeoutSeconds)"
        return try await decode(send("POST", path, body: body, extraTimeout: .milliseconds(Int64(timeoutSeconds * 1_000))))
    }

    /// A run with its state and every step.
    public func run(id: String) async throws -> WorkflowRunView {
        try await get("/api/v1/workflows/runs/\(Self.escape(id))")
    }

    /// Runs, newest first, optionally of one workflow or status.
    public func runs(workflow: String? = nil, status: WorkflowRunStatus? = nil, limit: Int = 50, before: String? = nil) async throws -> [WorkflowRunRecord] {
        var query = ["limit=\(limit)"]
        if let before { query.append("before=\(Self.escape(before))") }
        if let workflow { query.append("workflow=\(Self.escape(workflow))") }
        if let status { query.append("status=\(status.rawValue)") }
        return try await get("/api/v1/workflows/runs?" + query.joined(separator: "&"), as: ListResponse<WorkflowRunRecord>.self).items
    }

    /// A run's history, oldest first.
    public func history(runID: String, after: Int = 0, limit: Int = 1_000) async throws -> [WorkflowEvent] {
        try await get("/api/v1/workflows/runs/\(Self.escape(runID))/history?after=\(after)&limit=\(limit)", as: ListResponse<WorkflowEvent>.self).items
    }

    public func cancelRun(id: String) async throws -> WorkflowRunView {
        try await decode(send("POST", "/api/v1/workflows/runs/\(Self.escape(id))/cancel", body: Optional<Data>.none))
    }

    public func signal(runID: String, name: String, payload: JSONValue = .null) async throws -> WorkflowRunView {
        try await post("/api/v1/workflows/runs/\(Self.escape(runID))/signal/\(Self.escape(name))", payload)
    }
}
