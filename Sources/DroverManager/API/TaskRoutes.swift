import DroverCore
import Foundation
import Hummingbird

/// `/api/v1/tasks/{id}`: a task's status and result; `?wait=true` blocks until it is final.
/// Task ids are per tenant: another tenant's task answers 404, like an unknown one; an admin
/// names the tenant with `?tenant=` when several have the id (`TenantScope`).
struct TaskRoutes: Sendable {
    let controller: ClusterController

    func addRoutes(to group: RouterGroup<ManagerRequestContext>) {
        group.get(":id") { request, context in
            let id = try context.parameters.require("id")
            let store = controller.store
            let task = try await TenantScope(request, context: context).find(
                "task", id, tenantOf: \.tenant, one: { try await store.task(tenant: $0, id: id) }, all: { try await store.tasks(id: id) }
            )
            let wait = try Query.bool(request, "wait")
            let timeout = try Query.seconds(request, "timeout_s", in: 0...3_600)
            guard wait, !task.status.isFinal else { return try JSONResponse.make(task) }
            let limit = timeout ?? max(0, task.deadline.timeIntervalSinceNow)
            let waited = try await controller.awaitTask(tenant: task.tenant, id: id, timeout: .milliseconds(Int64(min(max(limit, 0), 3_600) * 1000))) ?? task
            return try JSONResponse.make(waited)
        }
    }
}
