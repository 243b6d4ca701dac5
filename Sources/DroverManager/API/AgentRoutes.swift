import DroverCore
import DroverStore
import Foundation
import Hummingbird

/// `/api/v1/cluster/agents...`: deploy, list, inspect, undeploy, and send tasks.
///
/// A tenant caller sees only its own agents (another tenant's answer 404 like unknown ones),
/// and its deploys always belong to its own tenant. Secrets in `agent_config` are sealed before
/// anything is stored, and every answer shows them as `"***"`.
struct AgentRoutes: Sendable {
    let controller: ClusterController
    /// The most agents one deploy call places.
    static let maxReplicas = 10_000

    func addRoutes(to group: RouterGroup<ManagerRequestContext>) {
        group.post("agents/deploy") { request, context in
            let body = try await JSONResponse.decode(DeployRequest.self, from: request, context: context)
            let dryRun = try Query.bool(request, "dry_run")
            let template = try makeAgent(body, caller: try context.caller)
            if let replicas = body.replicas {
                guard (1...Self.maxReplicas).contains(replicas) else {
                    throw APIError.badRequest("replicas must be a whole number from 1 to \(Self.maxReplicas), not \(replicas)")
                }
                let agents = try await controller.placeReplicas(template, count: replicas, dryRun: dryRun) { Identifiers.make("agt") }
                return try JSONResponse.make(ListResponse(items: agents.map(\.redacted)), status: dryRun ? .ok : .created)
            }
            let agent = try await controller.place(template, dryRun: dryRun)
            return try JSONResponse.make(agent.redacted, status: dryRun ? .ok : .created)
        }
        group.get("agents") { request, context in
            let query = try Self.pageQuery(request, caller: try context.caller)
            let page = controller.model.page(query)
            return try JSONResponse.make(ListResponse(items: page.items.map(\.redacted), nextCursor: page.next?.cursor))
        }
        group.get("agents/:id") { _, context in
            return try JSONResponse.make(try await visibleAgent(context).redacted)
        }
        group.delete("agents/:id") { _, context in
            let id = try await visibleAgent(context).id
            guard let agent = try await controller.undeploy(agentID: id) else { throw APIError.notFound("agent", id) }
            return try JSONResponse.make(agent.redacted, status: .accepted)
        }
        group.post("agents/:id/tasks") { request, context in
            let id = try await visibleAgent(context).id
            let wait = try Query.bool(request, "wait")
            let body = try await JSONResponse.decode(TaskSubmitRequest.self, from: request, context: context)
            guard wait else { return try JSONResponse.make(try await controller.submitTask(agentID: id, request: body), status: .accepted) }
            let waited = try await controller.submitTaskAndWait(agentID: id, request: body)
            return try JSONResponse.make(waited, status: waited.status.isFinal ? .ok : .accepted)
        }
        group.get("agents/:id/tasks") { request, context in
            let agent = try await visibleAgent(context)
            let limit = try Query.int(request, "limit", in: 1...Paging.maxLimit, default: 100)
            let status = try Query.oneOf(request, "status", TaskStatus.self)
            let cursor = request.uri.queryParameters.get("cursor")
            if let cursor, try await controller.store.task(tenant: agent.tenant, id: cursor)?.agentID != agent.id { throw Paging.invalidCursor(cursor) }
            let tasks = try await controller.store.tasks(agentID: agent.id, status: status, before: cursor, limit: limit)
            return try JSONResponse.make(ListResponse(items: tasks, nextCursor: Paging.nextCursor(count: tasks.count, limit: limit, last: tasks.last?.id)))
        }
    }

    /// The agent named in the path, when the caller may see it; 404 otherwise (unknown and foreign alike).
    private func visibleAgent(_ context: ManagerRequestContext) async throws -> AgentRecord {
        let caller = try context.caller
        let id = try context.parameters.require("id")
        guard let agent = caller.visible(controller.model.agent(id: id)) else { throw APIError.notFound("agent", id) }
        return agent
    }

    /// The page `GET /api/v1/cluster/agents` asks for: `limit` (1–1,000, default 100), `cursor`
    /// (a `next_cursor`), and filters `node_id`, `status`, `agent_type`, `label` (`key=value`,
    /// repeatable) and, for an admin, `tenant`. A tenant caller always sees only its own.
    static func pageQuery(_ request: Request, caller: Principal) throws -> AgentPageQuery {
        let parameters = request.uri.queryParameters
        var query = AgentPageQuery(limit: try Query.int(request, "limit", in: 1...Paging.maxLimit, default: 100))
        if let cursor = parameters.get("cursor") {
            guard let key = AgentOrderKey(cursor: cursor) else { throw APIError.badRequest("cursor '\(cursor.prefix(40))' is not a next_cursor of this list") }
            query.after = key
        }
        query.tenant = caller.isAdmin ? parameters.get("tenant") : (caller.tenant ?? "")
        query.nodeID = parameters.get("node_id")
        query.status = try Query.oneOf(request, "status", AgentStatus.self)
        query.agentType = parameters.get("agent_type")
        for label in parameters[values: "label"] {
            let parts = label.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else { throw APIError.badRequest("label must be key=value, not '\(label.prefix(40))'") }
            query.labels[parts[0]] = parts[1]
        }
        return query
    }

    /// Turns a deploy body into a new agent record, rejecting what cannot be right. An admin
    /// deploys for the tenant it names (`orchestrator_id`); anyone else for its own tenant.
    private func makeAgent(_ body: DeployRequest, caller: Principal) throws -> AgentRecord {
        guard NodeIdentity.isValidName(body.agentType) else {
            throw APIError.badRequest("agent_type '\(body.agentType.prefix(64))' is invalid: use 1 to 128 letters, digits, '.', '_' or '-'")
        }
        let tenant = caller.isAdmin ? (body.orchestratorID ?? "default") : (caller.tenant ?? "")
        guard NodeIdentity.isValidName(tenant) else { throw APIError.badRequest("orchestrator_id '\(tenant.prefix(64))' is invalid") }
        let config = body.agentConfig ?? .object([:])
        guard case .object = config else { throw APIError.badRequest("agent_config must be a JSON object") }
        guard config.depth <= 32 else { throw APIError.badRequest("agent_config nests deeper than 32 levels") }
        // Secrets are sealed here, before the record exists anywhere: the store only ever sees ciphertext.
        let sealed = try controller.sealSecrets(in: config)
        if body.deploymentStrategy == .spread, (body.spreadBy ?? "").isEmpty {
            throw APIError.badRequest("deployment_strategy 'spread' needs spread_by, the node label to spread over (e.g. \"zone\")")
        }
        let resources = body.resourceRequirements ?? .zero
        let minimum = ResourceSpec(cpu: body.constraints?.minCPU ?? 0, memoryMB: body.constraints?.minMemory ?? 0)
        guard minimum.cpu >= 0, minimum.memoryMB >= 0 else { throw APIError.badRequest("constraints may not be negative") }
        let capabilities = Array(Set((body.requiredCapabilities ?? []) + (body.constraints?.requiredCapabilities ?? []))).sorted()
        guard resources.isWithinLimits, minimum.isWithinLimits else {
            throw APIError.badRequest("resource_requirements and constraints must be from 0 to \(Int(ResourceSpec.maxAmount))")
        }
        guard (body.labels?.count ?? 0) <= 64, (body.requiredCapabilities?.count ?? 0) + (body.constraints?.requiredCapabilities?.count ?? 0) <= 64, (body.nodeSelector?.count ?? 0) <= 64 else {
            throw APIError.badRequest("at most 64 labels, required_capabilities and node_selector entries")
        }
        let now = Date()
        var agent = AgentRecord(
            id: Identifiers.make("agt"), agentType: body.agentType, tenant: tenant, config: sealed, resources: resources,
            requiredCapabilities: capabilities, nodeSelector: body.nodeSelector ?? [:], labels: body.labels ?? [:],
            strategy: body.deploymentStrategy ?? controller.configuration.defaultStrategy, preferredNode: body.preferredContainer,
            createdAt: now, updatedAt: now
        )
        agent.minNodeCapacity = minimum == .zero ? nil : minimum
        agent.spreadBy = body.spreadBy
        return agent
    }
}
