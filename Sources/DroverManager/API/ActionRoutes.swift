import DroverCore
import DroverStore
import Foundation
import Hummingbird

/// Moving agents and looking at the spread: migrate, drain, rebalance, health check, distribution.
/// Cluster-wide actions are for admins; a tenant moves and drains only its own agents and nodes.
struct ActionRoutes: Sendable {
    let controller: ClusterController

    func addRoutes(to group: RouterGroup<ManagerRequestContext>) {
        group.post("agents/:id/migrate") { request, context in
            let caller = try context.caller
            let id = try context.parameters.require("id")
            guard caller.visible(controller.model.agent(id: id)) != nil else { throw APIError.notFound("agent", id) }
            let body = try await JSONResponse.decodeOptional(MigrateRequest.self, from: request, context: context) ?? MigrateRequest()
            if let target = body.targetContainerID {
                guard let node = controller.model.node(id: target), caller.canPlace(on: node) else { throw APIError.notFound("node", target) }
            }
            return try JSONResponse.make(try await controller.migrate(agentID: id, request: body))
        }
        group.post("containers/:id/drain") { _, context in
            let id = try context.parameters.require("id")
            guard try context.caller.visible(controller.model.node(id: id)) != nil else { throw APIError.notFound("node", id) }
            return try JSONResponse.make(try await controller.drain(nodeID: id))
        }
        group.post("actions") { request, context in
            _ = try context.requireAdmin()
            let body = try await JSONResponse.decode(ClusterActionRequest.self, from: request, context: context)
            let dryRun = body.dryRun ?? false
            switch body.action {
            case .rebalance:
                let maxMoves = body.maxMoves ?? 10
                guard (1...1_000).contains(maxMoves) else { throw APIError.badRequest("max_moves must be between 1 and 1000") }
                let moves = try await controller.rebalance(dryRun: dryRun, maxMoves: maxMoves)
                return try JSONResponse.make(ClusterActionResponse(action: .rebalance, dryRun: dryRun, moves: moves))
            case .healthCheck:
                if !dryRun { try await controller.checkLiveness() }
                let nodes = controller.model.nodes()
                return try JSONResponse.make(ClusterActionResponse(
                    action: .healthCheck, dryRun: dryRun, nodes: Dictionary(uniqueKeysWithValues: nodes.map { ($0.id, $0.status) })
                ))
            }
        }
        group.get("metrics/distribution") { _, context in
            let caller = try context.caller
            let distribution = Distribution.make(
                agents: controller.model.agents().filter { caller.canAccess(tenant: $0.tenant) },
                nodes: controller.model.nodes().filter { caller.canAccess(tenant: $0.tenant) }
            )
            return try JSONResponse.make(distribution)
        }
    }
}
