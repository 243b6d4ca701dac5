import DroverCore
import DroverStore
import Foundation
import Hummingbird

/// `/api/v1/tenants...`: tenants and their API tokens. An admin creates both; a tenant sees
/// only itself and its own tokens (never a secret after it was first shown).
struct TenantRoutes: Sendable {
    let controller: ClusterController
    var store: any Store { controller.store }

    /// Longest lifetime a tenant API token may be given: ten years.
    static let maxTokenLifetime: Double = 10 * 365 * 86_400

    func addRoutes(to group: RouterGroup<ManagerRequestContext>) {
        group.post { request, context in
            _ = try context.requireAdmin()
            let body = try await JSONResponse.decode(TenantCreateRequest.self, from: request, context: context)
            guard NodeIdentity.isValidName(body.name) else {
                throw APIError.badRequest("name '\(body.name.prefix(64))' is invalid: use 1 to 128 letters, digits, '.', '_' or '-'")
            }
            let tenant = TenantRecord(name: body.name, createdAt: Date())
            do {
                try await store.insertTenant(tenant)
            } catch StoreError.duplicate {
                throw APIError(.conflict, code: "tenant_exists", "tenant '\(body.name)' already exists")
            }
            return try JSONResponse.make(tenant, status: .created)
        }
        group.get { _, context in
            let caller = try context.caller
            let tenants = try await store.tenants().filter { caller.canAccess(tenant: $0.name) }
            return try JSONResponse.make(ListResponse(items: tenants))
        }
        group.get(":name") { _, context in
            try JSONResponse.make(try await visibleTenant(context))
        }
        group.post(":name/tokens") { request, context in
            _ = try context.requireAdmin()
            let tenant = try await visibleTenant(context)
            let body = try await JSONResponse.decodeOptional(APITokenCreateRequest.self, from: request, context: context) ?? APITokenCreateRequest()
            let name = body.name ?? "token"
            guard NodeIdentity.isValidName(name) else {
                throw APIError.badRequest("name '\(name.prefix(64))' is invalid: use 1 to 128 letters, digits, '.', '_' or '-'")
            }
            if let ttl = body.ttlSeconds, !(ttl > 0 && ttl <= Self.maxTokenLifetime) {
                throw APIError.badRequest("ttl_s must be greater than 0 and at most \(Int(Self.maxTokenLifetime))")
            }
            let secret = Authenticator.makeAPITokenSecret()
            let now = Date()
            let record = APITokenRecord(
                id: Identifiers.make("tok"), tenant: tenant.name, name: name, secretHash: Secrets.sha256Hex(secret), createdAt: now,
                expiresAt: body.ttlSeconds.map { now.addingTimeInterval($0) }
            )
            try await store.insertAPIToken(record)
            return try JSONResponse.make(APITokenCreated(token: secret, info: record.info), status: .created)
        }
        group.get(":name/tokens") { _, context in
            let tenant = try await visibleTenant(context)
            let tokens = try await store.apiTokens(tenant: tenant.name).filter { $0.kind == .api }
            return try JSONResponse.make(ListResponse(items: tokens.map(\.info)))
        }
        group.delete(":name/tokens/:id") { _, context in
            _ = try context.requireAdmin()
            let tenant = try await visibleTenant(context)
            let id = try context.parameters.require("id")
            guard try await controller.revokeCredential(id: id, tenant: tenant.name, kinds: [.api]) else { throw APIError.notFound("token", id) }
            return Response(status: .noContent)
        }
    }

    /// The tenant named in the path, when the caller may see it; 404 otherwise (unknown and foreign alike).
    private func visibleTenant(_ context: ManagerRequestContext) async throws -> TenantRecord {
        let caller = try context.caller
        let name = try context.parameters.require("name")
        guard caller.canAccess(tenant: name), let tenant = try await store.tenant(name: name) else { throw APIError.notFound("tenant", name) }
        return tenant
    }
}
