import DroverCore
import DroverStore
import Foundation
import Hummingbird

/// `GET /api/v1/audit?after=SEQ&limit=N`: the audit log, oldest first, for admins only.
struct AuditRoutes: Sendable {
    let store: any Store

    func addRoutes(to router: Router<ManagerRequestContext>) {
        router.get("api/v1/audit") { request, context in
            _ = try context.requireAdmin()
            let (after, limit) = try Paging.read(request)
            return try JSONResponse.make(ListResponse(items: try await store.audit(after: after, limit: limit)))
        }
    }
}
