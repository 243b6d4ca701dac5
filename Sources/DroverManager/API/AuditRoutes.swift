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

/// The `after` and `limit` query parameters of a paged listing.
enum Paging {
    static let maxLimit = 1_000

    /// `after` (default 0) and `limit` (default 100); anything else than whole numbers in range is a 400.
    static func read(_ request: Request, defaultLimit: Int = 100) throws -> (after: Int, limit: Int) {
        let query = request.uri.queryParameters
        var after = 0
        if let text = query.get("after") {
            guard let value = Int(text), value >= 0 else { throw APIError.badRequest("after must be a whole number, 0 or more") }
            after = value
        }
        var limit = defaultLimit
        if let text = query.get("limit") {
            guard let value = Int(text), (1...maxLimit).contains(value) else {
                throw APIError.badRequest("limit must be a whole number from 1 to \(maxLimit)")
            }
            limit = value
        }
        return (after, limit)
    }
}
