import DroverCore
import DroverStore
import DroverYAML
import Foundation
import Hummingbird
import Yams

/// `/api/v1/workflows...`: definitions, runs, their histories, signals and cancellation.
///
/// Workflow names and run ids are per tenant: two tenants may each have a workflow `etl` and a
/// run `r1`. A tenant caller sees only its own workflows and runs (another tenant's answer 404
/// like unknown ones); what it registers and runs belongs to its tenant. An admin registers for
/// `?tenant=NAME` (default `default`) and addresses a name or run id in `?tenant=NAME`, or
/// without it in the one tenant that has it (`TenantScope`).
struct WorkflowRoutes: Sendable {
    let engine: WorkflowEngine

    func addRoutes(to group: RouterGroup<ManagerRequestContext>) {
        group.post { request, context in
            let caller = try context.caller
            let tenant = caller.isAdmin ? (request.uri.queryParameters.get("tenant") ?? "default") : (caller.tenant ?? "")
            guard WorkflowValidator.isValidName(tenant, maxLength: 128) else { throw APIError.badRequest("tenant '\(tenant.prefix(64))' is invalid") }
            let definition = try await Self.decodeDefinition(request, context: context)
            let (record, created) = try await engine.register(definition, tenant: tenant)
            return try JSONResponse.make(record.redacted, status: created ? .created : .ok)
        }
        group.get { _, context in
            let caller = try context.caller
            return try JSONResponse.make(ListResponse(items: try await engine.store.workflows().filter { caller.canAccess(tenant: $0.tenant) }.map(\.redacted)))
        }
        group.get("runs") { request, context in
            let caller = try context.caller
            let query = request.uri.queryParameters
            // `cursor` (a `next_cursor`) and its older spelling `before` both name the last run of the previous page.
            let cursor = query.get("cursor") ?? query.get("before")
            var filter = WorkflowRunFilter(workflow: query.get("workflow"), tenant: caller.isAdmin ? query.get("tenant") : caller.tenant, before: cursor)
            if let status = query.get("status") {
                guard let parsed = WorkflowRunStatus(rawValue: status) else {
                    let names = WorkflowRunStatus.allCases.map(\.rawValue).joined(separator: ", ")
                    throw APIError.badRequest("status '\(status.prefix(40))' is not one of \(names)")
                }
                filter.status = parsed
            }
            filter.limit = try Query.int(request, "limit", in: 1...Paging.maxLimit, default: 100)
            if let cursor, try await !engine.store.runs(id: cursor).contains(where: { filter.tenant == nil || $0.tenant == filter.tenant }) {
                throw Paging.invalidCursor(cursor)
            }
            let runs = try await engine.store.runs(filter)
            let next = Paging.nextCursor(count: runs.count, limit: filter.limit, last: runs.last?.id)
            return try JSONResponse.make(RunPage(items: runs, next: next, nextCursor: next))
        }
        group.get("runs/:id") { request, context in
            let id = try await visibleRun(request, context)
            guard let view = try await engine.view(runID: id) else { throw APIError.notFound("run", id.id) }
            return try JSONResponse.make(view)
        }
        group.get("runs/:id/history") { request, context in
            let id = try await visibleRun(request, context)
            let (after, limit) = try Paging.read(request, defaultLimit: 1_000, maxLimit: 10_000)
            let events = try await engine.store.history(tenant: id.tenant, runID: id.id, after: after, limit: limit)
            return try JSONResponse.make(ListResponse(items: events, nextCursor: Paging.nextCursor(count: events.count, limit: limit, last: events.last.map { String($0.sequence) })))
        }
        group.post("runs/:id/cancel") { request, context in
            let id = try await visibleRun(request, context)
            return try JSONResponse.make(try await engine.cancel(runID: id), status: .accepted)
        }
        group.post("runs/:id/signal/:name") { request, context in
            let id = try await visibleRun(request, context)
            let name = try context.parameters.require("name")
            let payload = try await JSONResponse.decodeOptional(JSONValue.self, from: request, context: context) ?? .null
            return try JSONResponse.make(try await engine.signal(runID: id, name: name, payload: payload), status: .accepted)
        }
        group.get(":name") { request, context in
            let name = try context.parameters.require("name")
            let version = try Query.optionalInt(request, "version", in: 1...Int.max)
            let record = try await engine.workflow(name: name, version: version, scope: try TenantScope(request, context: context))
            return try JSONResponse.make(record.redacted)
        }
        group.post(":name/runs") { request, context in
            let name = try context.parameters.require("name")
            let wait = try Query.bool(request, "wait")
            let limit = try Query.seconds(request, "timeout_s", in: 0...3_600) ?? 60
            let body = try await JSONResponse.decodeOptional(WorkflowRunRequest.self, from: request, context: context) ?? WorkflowRunRequest()
            let run = try await engine.startRun(workflow: name, request: body, scope: try TenantScope(request, context: context))
            guard wait else { return try JSONResponse.make(run, status: .created) }
            if let ended = try await engine.waitForEnd(of: RunKey(run), timeout: .milliseconds(Int64(limit * 1_000))) {
                return try JSONResponse.make(ended, status: .ok)
            }
            guard let view = try await engine.view(runID: RunKey(run)) else { throw APIError.notFound("run", run.id) }
            return try JSONResponse.make(view, status: view.status.isFinal ? .ok : .accepted)
        }
    }

    /// The run named in the path, in the caller's tenant (an admin's `?tenant=`); 404 otherwise (unknown and foreign alike).
    private func visibleRun(_ request: Request, _ context: ManagerRequestContext) async throws -> RunKey {
        let id = try context.parameters.require("id")
        return RunKey(try await engine.run(id: id, scope: try TenantScope(request, context: context)))
    }

    /// Reads a definition sent as JSON or (with a YAML content type) YAML. Fields Drover does
    /// not know are a 422 naming each, so that a typo is not silently ignored.
    static func decodeDefinition(_ request: Request, context: ManagerRequestContext) async throws -> WorkflowDefinition {
        let data = try await JSONResponse.body(of: request, context: context)
        let type = request.headers[.contentType]?.lowercased() ?? ""
        guard type.contains("yaml") else {
            try rejectUnknownFields(try JSONResponse.decode(JSONValue.self, from: data))
            return try JSONResponse.decode(WorkflowDefinition.self, from: data)
        }
        let text = String(decoding: data, as: UTF8.self)
        let root: Node?
        do {
            // Within limits: an alias bomb or deep nesting is refused before anything is built from it.
            root = try BoundedYAML.compose(text)
        } catch let error as YAMLReadError {
            let code = error.kind == .syntax ? "invalid_yaml" : "yaml_too_large"
            throw APIError(.badRequest, code: code, "body is not valid YAML: \(String(describing: error).prefix(300))")
        }
        guard let root else { throw APIError.badRequest("request body is empty; expected a workflow") }
        do {
            // Only the field names are read from this copy: the definition itself is decoded
            // from the YAML, where each field's own type decides how a scalar reads.
            if let document = try? BoundedYAML.decode(JSONValue.self, from: root) { try rejectUnknownFields(document) }
            return try BoundedYAML.decode(WorkflowDefinition.self, from: root)
        } catch let error as APIError {
            throw error
        } catch let error as DecodingError {
            throw APIError(.badRequest, code: "invalid_body", describeDecodingError(error))
        } catch {
            throw APIError(.badRequest, code: "invalid_yaml", "body is not valid YAML: \(String(describing: error).prefix(300))")
        }
    }

    private static func rejectUnknownFields(_ document: JSONValue) throws {
        let unknown = WorkflowValidator.unknownFields(in: document)
        if let first = unknown.first { throw APIError.invalidWorkflow(first, all: unknown) }
    }
}

/// A page of runs, newest first; `next_cursor` (and `next`, its first name) is the `cursor` of the following page.
struct RunPage: Codable, Sendable {
    var items: [WorkflowRunRecord]
    /// The same as `next_cursor`, under the name the first version of this listing used.
    var next: String?
    var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case items, next
        case nextCursor = "next_cursor"
    }
}
