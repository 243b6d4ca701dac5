import DroverCore
import Foundation
import Hummingbird

/// `/api/v1/tasks/{id}`: a task's status and result; `?wait=true` blocks until it is final.
/// Another tenant's task answers 404, like an unknown one.
struct TaskRoutes: Sendable {
    let controller: ClusterController

    func addRoutes(to group: RouterGroup<ManagerRequestContext>) {
        group.get(":id") { request, context in
            let id = try context.parameters.require("id")
            guard let task = try context.caller.visible(try await controller.store.task(id: id)) else { throw APIError.notFound("task", id) }
            let wait = try Query.bool(request, "wait")
            let timeout = try Query.seconds(request, "timeout_s", in: 0...3_600)
            guard wait, !task.status.isFinal else { return try JSONResponse.make(task) }
            let limit = timeout ?? max(0, task.deadline.timeIntervalSinceNow)
            let waited = try await controller.awaitTask(id: id, timeout: .milliseconds(Int64(min(max(limit, 0), 3_600) * 1000))) ?? task
            return try JSONResponse.make(waited)
        }
    }
}
