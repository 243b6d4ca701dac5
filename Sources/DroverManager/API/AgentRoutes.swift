import DroverCore
import DroverStore
import Foundation
import Hummingbird

/// `/api/v1/cluster/agents...`: deploy, list, inspect, undeploy, and send tasks.
struct AgentRoutes: Sendable {
    let controller: ClusterController

    func addRoutes(to group: RouterGroup<ManagerRequestContext>) {
        group.post("agents/deploy") { request, context in
            let body = try await JSONResponse.decode(DeployRequest.self, from: request, context: context)
            let dryRun = request.uri.queryParameters.get("dry_run") == "true"
            let agent = try await controller.place(try makeAgent(body), dryRun: dryRun)
            return try JSONResponse.make(agent, status: dryRun ? .ok : .created)
        }
        group.get("agents") { request, _ in
            var agents = try await controller.store.agents()
            if let node = request.uri.queryParameters.get("node_id") { agents = agents.filter { $0.nodeID == node } }
            if let status = request.uri.queryParameters.get("status") { agents = agents.filter { $0.status.rawValue == status } }
            return try JSONResponse.make(ListResponse(items: agents))
        }
        group.get("agents/:id") { _, context in
            let id = try context.parameters.require("id")
            guard let agent = try await controller.store.agent(id: id) else { throw APIError.notFound("agent", id) }
            return try JSONResponse.make(agent)
        }
        group.delete("agents/:id") { _, context in
            let id = try context.parameters.require("id")
            guard let agent = try await controller.undeploy(agentID: id) else { throw APIError.notFound("agent", id) }
            return try JSONResponse.make(agent, status: .accepted)
        }
        group.post("agents/:id/tasks") { request, context in
            let id = try context.parameters.require("id")
            let body = try await JSONResponse.decode(TaskSubmitRequest.self, from: request, context: context)
            let task = try await controller.submitTask(agentID: id, request: body)
            guard request.uri.queryParameters.get("wait") == "true" else { return try JSONResponse.make(task, status: .accepted) }
            let waited = try await controller.awaitTask(id: task.id, timeout: .seconds(task.timeoutSeconds)) ?? task
            return try JSONResponse.make(waited, status: waited.status.isFinal ? .ok : .accepted)
        }
        group.get("agents/:id/tasks") { request, context in
            let id = try context.parameters.require("id")
            guard try await controller.store.agent(id: id) != nil else { throw APIError.notFound("agent", id) }
            let limit = request.uri.queryParameters.get("limit").flatMap(Int.init) ?? 100
            return try JSONResponse.make(ListResponse(items: try await controller.store.tasks(agentID: id, limit: min(max(limit, 1), 1_000))))
        }
    }

    /// Turns a deploy body into a new agent record, rejecting what cannot be right.
    private func makeAgent(_ body: DeployRequest) throws -> AgentRecord {
        guard NodeIdentity.isValidName(body.agentType) else {
            throw APIError.badRequest("agent_type '\(body.agentType.prefix(64))' is invalid: use 1 to 128 letters, digits, '.', '_' or '-'")
        }
        let tenant = body.orchestratorID ?? "default"
        guard NodeIdentity.isValidName(tenant) else { throw APIError.badRequest("orchestrator_id '\(tenant.prefix(64))' is invalid") }
        let config = body.agentConfig ?? .object([:])
        guard case .object = config else { throw APIError.badRequest("agent_config must be a JSON object") }
        guard config.depth <= 32 else { throw APIError.badRequest("agent_config nests deeper than 32 levels") }
        if body.deploymentStrategy == .spread, (body.spreadBy ?? "").isEmpty {
            throw APIError.badRequest("deployment_strategy 'spread' needs spread_by, the node label to spread over (e.g. \"zone\")")
        }
        let resources = body.resourceRequirements ?? .zero
        let minimum = ResourceSpec(cpu: body.constraints?.minCPU ?? 0, memoryMB: body.constraints?.minMemory ?? 0)
        guard minimum.cpu >= 0, minimum.memoryMB >= 0 else { throw APIError.badRequest("constraints may not be negative") }
        let capabilities = Array(Set((body.requiredCapabilities ?? []) + (body.constraints?.requiredCapabilities ?? []))).sorted()
        guard resources.cpu >= 0, resources.memoryMB >= 0, resources.gpu >= 0 else {
            throw APIError.badRequest("resource_requirements may not be negative")
        }
        guard (body.labels?.count ?? 0) <= 64, (body.requiredCapabilities?.count ?? 0) + (body.constraints?.requiredCapabilities?.count ?? 0) <= 64, (body.nodeSelector?.count ?? 0) <= 64 else {
            throw APIError.badRequest("at most 64 labels, required_capabilities and node_selector entries")
        }
        let now = Date()
        var agent = AgentRecord(
            id: Identifiers.make("agt"), agentType: body.agentType, tenant: tenant, config: config, resources: resources,
            requiredCapabilities: capabilities, nodeSelector: body.nodeSelector ?? [:], labels: body.labels ?? [:],
            strategy: body.deploymentStrategy ?? controller.configuration.defaultStrategy, preferredNode: body.preferredContainer,
            createdAt: now, updatedAt: now
        )
        agent.minNodeCapacity = minimum == .zero ? nil : minimum
        agent.spreadBy = body.spreadBy
        return agent
    }
}
