import DroverCore
import DroverStore
import Foundation
import Hummingbird

/// `/api/v1/cluster/status` and `/api/v1/cluster/containers...` (nodes, in the seed's words).
///
/// A tenant caller sees and touches only its own nodes (another tenant's answer 404 like
/// unknown ones) and registers nodes for its own tenant; only an admin marks a node shared.
struct ContainerRoutes: Sendable {
    let controller: ClusterController

    func addRoutes(to group: RouterGroup<ManagerRequestContext>) {
        group.get("status") { _, context in try await status(caller: try context.caller) }
        group.get("containers") { request, context in
            let caller = try context.caller
            return try JSONResponse.make(try Self.page(controller.model.nodes(), request: request, caller: caller))
        }
        group.post("containers/register") { request, context in
            let caller = try context.caller
            return try await register(JSONResponse.decode(ContainerRegisterRequest.self, from: request, context: context), caller: caller)
        }
        group.get("containers/:id") { _, context in
            try JSONResponse.make(try await visibleNode(context))
        }
        group.patch("containers/:id") { request, context in
            _ = try context.requireAdmin()
            let id = try await visibleNode(context).id
            let body = try await JSONResponse.decode(NodeUpdateRequest.self, from: request, context: context)
            let node: NodeRecord = try await controller.planLock.withLock {
                guard var node = controller.model.node(id: id) else { throw APIError.notFound("node", id) }
                if let shared = body.shared { node.shared = shared }
                try await controller.saveNode(node)
                return node
            }
            controller.logger.info("node updated", metadata: ["node": "\(id)", "shared": "\(node.isShared)"])
            return try JSONResponse.make(node)
        }
        group.post("containers/:id/heartbeat") { request, context in
            let id = try await visibleNode(context).id
            let body = try await JSONResponse.decode(ContainerHeartbeatRequest.self, from: request, context: context)
            return try await heartbeat(id: id, body)
        }
        group.delete("containers/:id") { _, context in
            let node = try await visibleNode(context)
            let id = node.id
            // A removed node's credentials stop working at once, and its session ends.
            try await controller.revokeNodeCredentials(nodeID: id, tenant: node.tenant)
            let deleted = try await controller.planLock.withLock { try await controller.deleteNode(id: id) }
            guard deleted else { throw APIError.notFound("node", id) }
            await controller.sessions.disconnect(nodeID: id)
            controller.logger.info("node removed", metadata: ["node": "\(id)"])
            return Response(status: .noContent)
        }
    }

    /// The node named in the path, when the caller may see it; 404 otherwise (unknown and foreign alike).
    private func visibleNode(_ context: ManagerRequestContext) async throws -> NodeRecord {
        let caller = try context.caller
        let id = try context.parameters.require("id")
        guard let node = caller.visible(controller.model.node(id: id)) else { throw APIError.notFound("node", id) }
        return node
    }

    private func status(caller: Principal) async throws -> Response {
        // Nodes are counted (they are few); agents come from the model's running totals, not a scan.
        let nodes = controller.model.nodeSummary { caller.canAccess(tenant: $0) }
        var nodeCounts = Dictionary(uniqueKeysWithValues: NodeStatus.allCases.map { ($0.rawValue, 0) })
        for (status, count) in nodes.byStatus { nodeCounts[status.rawValue, default: 0] += count }
        let totals = controller.model.agentTotals { caller.canAccess(tenant: $0) }
        var agentCounts = Dictionary(uniqueKeysWithValues: AgentStatus.allCases.map { ($0.rawValue, 0) })
        for (status, count) in totals.byStatus { agentCounts[status.rawValue, default: 0] += count }
        let capacity = nodes.liveCapacity
        let allocated = totals.allocated
        let status = ClusterStatus(
            version: DroverVersion.string, nodes: nodeCounts, agents: agentCounts,
            openTasks: try await controller.store.openTaskCount(tenant: caller.isAdmin ? nil : (caller.tenant ?? "")), capacity: capacity, allocated: allocated,
            uptimeSeconds: Date().timeIntervalSince(controller.startedAt)
        )
        return try JSONResponse.make(status)
    }

    private func register(_ body: ContainerRegisterRequest, caller: Principal) async throws -> Response {
        guard NodeIdentity.isValidName(body.containerName) else {
            throw APIError.badRequest("container_name '\(body.containerName.prefix(64))' is invalid: use 1 to 128 letters, digits, '.', '_' or '-'")
        }
        let tenant = caller.isAdmin ? (body.orchestratorID ?? "default") : (caller.tenant ?? "")
        guard NodeIdentity.isValidName(tenant) else { throw APIError.badRequest("orchestrator_id '\(tenant.prefix(64))' is invalid") }
        try Self.check(body)
        let now = Date()
        let existing = controller.model.node(id: body.containerName)
        if let existing, !caller.canAccess(tenant: existing.tenant) {
            throw APIError(.conflict, code: "node_exists", "node id '\(body.containerName)' is taken; choose another container_name")
        }
        if let existing, existing.connection == .websocket, existing.status != .down {
            throw APIError(.conflict, code: "node_exists", "node '\(body.containerName)' is connected through the gateway")
        }
        let node = NodeRecord(
            id: body.containerName, tenant: tenant, name: body.containerName, hostAddress: body.hostAddress ?? "",
            apiPort: body.apiPort ?? 0, capabilities: body.capabilities ?? [], resources: Self.resources(body.resources),
            maxAgents: 0, status: .active, connection: .http, metadata: body.metadata ?? [:],
            registeredAt: existing?.registeredAt ?? now, lastHeartbeat: now, incarnation: UUID().uuidString, shared: existing?.shared
        )
        try await controller.planLock.withLock { try await controller.saveNode(node) }
        controller.logger.info("node registered over HTTP", metadata: ["node": "\(node.id)"])
        let response = ContainerRegisterResponse(
            containerID: node.id, status: node.status, heartbeatIntervalSeconds: NodeLiveness.seconds(controller.announcedLiveness.interval)
        )
        return try JSONResponse.make(response, status: .created)
    }

    private func heartbeat(id: String, _ body: ContainerHeartbeatRequest) async throws -> Response {
        guard (body.activeAgents ?? 0) >= 0 else { throw APIError.badRequest("active_agents may not be negative") }
        guard body.healthScore?.isFinite ?? true else { throw APIError.badRequest("health_score must be a finite number") }
        try Self.checkResources(body.resources)
        // Under the plan lock, like every change to a node record (no lost update of `shared` or a drain).
        let node: NodeRecord = try await controller.planLock.withLock {
            guard var node = controller.model.node(id: id) else { throw APIError.notFound("node", id) }
            node.lastHeartbeat = Date()
            node.status = node.status == .down ? .active : NodeLiveness.statusOnHeartbeat(node.status)
            if let score = body.healthScore { node.healthScore = score }
            if let resources = body.resources { node.resources = Self.resources(resources, base: node.resources) }
            if let active = body.activeAgents { node.metadata["active_agents"] = .int(active) }
            try await controller.saveNode(node)
            return node
        }
        let response = ContainerRegisterResponse(
            containerID: node.id, status: node.status, heartbeatIntervalSeconds: NodeLiveness.seconds(controller.announcedLiveness.interval)
        )
        return try JSONResponse.make(response)
    }

    /// One page of nodes by id: `limit` (1–1,000, default 100), `cursor` (a `next_cursor`: the
    /// last id of the previous page), filters `status` and, for an admin, `tenant`.
    static func page(_ nodes: [NodeRecord], request: Request, caller: Principal) throws -> ListResponse<NodeRecord> {
        let limit = try Query.int(request, "limit", in: 1...Paging.maxLimit, default: 100)
        let parameters = request.uri.queryParameters
        var after: String?
        if let cursor = parameters.get("cursor") {
            guard let data = Data(base64URLEncoded: cursor), let id = String(data: data, encoding: .utf8), !id.isEmpty else {
                throw APIError.badRequest("cursor '\(cursor.prefix(40))' is not a next_cursor of this list")
            }
            after = id
        }
        let status = try Query.oneOf(request, "status", NodeStatus.self)
        let tenant = caller.isAdmin ? parameters.get("tenant") : caller.tenant
        var items: [NodeRecord] = []
        for node in nodes where after.map({ node.id > $0 }) ?? true {
            guard caller.canAccess(tenant: node.tenant), tenant.map({ node.tenant == $0 }) ?? true, status.map({ node.status == $0 }) ?? true else { continue }
            if items.count == limit { return ListResponse(items: items, nextCursor: Data(items[items.count - 1].id.utf8).base64URLEncoded) }
            items.append(node)
        }
        return ListResponse(items: items)
    }

    /// Refuses registrations a node could not have sent: ports out of range, oversized fields.
    static func check(_ body: ContainerRegisterRequest) throws {
        if let port = body.apiPort, !(0...65_535).contains(port) { throw APIError.badRequest("api_port must be between 0 and 65535") }
        guard (body.hostAddress?.utf8.count ?? 0) <= 256 else { throw APIError.badRequest("host_address is longer than 256 bytes") }
        guard (body.capabilities?.count ?? 0) <= 64, body.capabilities?.allSatisfy({ $0.utf8.count <= 128 }) ?? true else {
            throw APIError.badRequest("at most 64 capabilities of at most 128 bytes each")
        }
        try checkResources(body.resources)
    }

    /// The numbers of a resource map must be numbers from 0 to `maxResourceAmount`, so that
    /// capacities (and their sums) stay finite.
    static func checkResources(_ map: [String: JSONValue]?) throws {
        for key in ["cpu_cores", "cpu", "memory_mb", "memory_gb", "gpu", "load_1m", "cpu_usage"] {
            guard let value = map?[key], value != .null else { continue }
            guard let number = value.doubleValue, number >= 0, number <= maxResourceAmount(key) else {
                throw APIError.badRequest("resources.\(key) must be a number from 0 to \(Int(maxResourceAmount(key)))")
            }
        }
    }

    /// The largest value of a key of the resource map (GiB are converted to MiB).
    static func maxResourceAmount(_ key: String) -> Double {
        key == "memory_gb" ? ResourceSpec.maxAmount / 1024 : ResourceSpec.maxAmount
    }

    /// Reads the seed's free-form resource map (`cpu_cores`/`cpu`, `memory_mb`/`memory_gb`, `gpu`).
    static func resources(_ map: [String: JSONValue]?, base: NodeResources = NodeResources(capacity: .zero)) -> NodeResources {
        var result = base
        guard let map else { return result }
        if let cpu = (map["cpu_cores"] ?? map["cpu"])?.doubleValue { result.capacity.cpu = cpu }
        if let memory = map["memory_mb"]?.doubleValue { result.capacity.memoryMB = memory }
        if let memory = map["memory_gb"]?.doubleValue { result.capacity.memoryMB = memory * 1024 }
        if let gpu = map["gpu"]?.intValue { result.capacity.gpu = gpu }
        if let load = (map["load_1m"] ?? map["cpu_usage"])?.doubleValue { result.load1 = load }
        return result
    }
}
