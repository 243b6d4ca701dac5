import DroverCore
import DroverStore
import Foundation
import Hummingbird

/// `GET /api/v1/audit?cursor=SEQ&limit=N`: the audit log, oldest first, for admins only.
struct AuditRoutes: Sendable {
    let store: any Store

    func addRoutes(to router: Router<ManagerRequestContext>) {
        router.get("api/v1/audit") { request, context in
            _ = try context.requireAdmin()
            let (after, limit) = try Paging.read(request)
            let entries = try await store.audit(after: after, limit: limit)
            return try JSONResponse.make(ListResponse(items: entries, nextCursor: Paging.nextCursor(count: entries.count, limit: limit, last: entries.last.map { String($0.sequence) })))
        }
    }
}
