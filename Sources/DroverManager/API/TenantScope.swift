import DroverCore
import Hummingbird

/// The tenant a call that names a task, run or workflow addresses: those ids are per tenant.
///
/// A tenant's token addresses its own tenant only (a `?tenant=` naming another changes
/// nothing), so another tenant's id answers exactly like an unknown one. An admin addresses the
/// tenant named by `?tenant=`; without it, the one tenant that has the id, and when several
/// have it a 409 `ambiguous_id` asks for `?tenant=`.
struct TenantScope: Sendable {
    /// The tenant to look in; `nil` for an admin who named none (every tenant is searched).
    let tenant: String?

    init(tenant: String?) {
        self.tenant = tenant
    }

    init(_ request: Request, caller: Principal) {
        self.init(tenant: caller.isAdmin ? request.uri.queryParameters.get("tenant") : (caller.tenant ?? ""))
    }

    init(_ request: Request, context: ManagerRequestContext) throws {
        self.init(request, caller: try context.caller)
    }

    /// The record `id` names in this scope: `one` looks in one tenant, `all` in every tenant.
    /// None is a 404 (the same for an unknown id and another tenant's).
    func find<Record>(
        _ kind: String, _ id: String, tenantOf: (Record) -> String,
        one: (String) async throws -> Record?, all: () async throws -> [Record]
    ) async throws -> Record {
        if let tenant {
            guard let record = try await one(tenant) else { throw APIError.notFound(kind, id) }
            return record
        }
        let found = try await all()
        guard let first = found.first else { throw APIError.notFound(kind, id) }
        guard found.count == 1 else {
            let tenants = found.map(tenantOf).joined(separator: ", ")
            throw APIError(.conflict, code: "ambiguous_id", "\(kind) '\(id)' exists in the tenants \(tenants); name one with ?tenant=")
        }
        return first
    }
}
