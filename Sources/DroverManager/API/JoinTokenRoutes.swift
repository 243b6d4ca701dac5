import DroverCore
import DroverStore
import Foundation
import Hummingbird

/// `/api/v1/tokens...`: node join tokens. An admin makes them for any tenant, a tenant for
/// itself; each lets one node join once. Revoking one also revokes the credential of the node
/// that used it and ends that node's session at once.
struct JoinTokenRoutes: Sendable {
    let controller: ClusterController
    let authenticator: Authenticator

    static let defaultLifetime: Double = 3_600
    static let maxLifetime: Double = 30 * 86_400

    func addRoutes(to group: RouterGroup<ManagerRequestContext>) {
        group.post { request, context in
            let caller = try context.caller
            let body = try await JSONResponse.decodeOptional(JoinTokenCreateRequest.self, from: request, context: context) ?? JoinTokenCreateRequest()
            let tenant = body.tenant ?? caller.tenant ?? "default"
            guard caller.canAccess(tenant: tenant), try await authenticator.tenantExists(tenant) else { throw APIError.notFound("tenant", tenant) }
            let ttl = body.ttlSeconds ?? Self.defaultLifetime
            guard ttl > 0, ttl <= Self.maxLifetime else { throw APIError.badRequest("ttl_s must be greater than 0 and at most \(Int(Self.maxLifetime))") }
            let name = body.name ?? "join"
            guard NodeIdentity.isValidName(name) else {
                throw APIError.badRequest("name '\(name.prefix(64))' is invalid: use 1 to 128 letters, digits, '.', '_' or '-'")
            }
            let secret = Authenticator.makeJoinTokenSecret()
            let now = Date()
            let record = APITokenRecord(
                id: Identifiers.make("jtk"), tenant: tenant, name: name, secretHash: Secrets.sha256Hex(secret), createdAt: now,
                expiresAt: now.addingTimeInterval(ttl), kind: .join
            )
            try await controller.store.insertAPIToken(record)
            return try JSONResponse.make(APITokenCreated(token: secret, info: record.info), status: .created)
        }
        group.get { request, context in
            let caller = try context.caller
            var tenants: [String]
            if let tenant = request.uri.queryParameters.get("tenant") {
                tenants = caller.canAccess(tenant: tenant) ? [tenant] : []
            } else if caller.isAdmin {
                tenants = ["default"] + (try await controller.store.tenants().map(\.name))
            } else {
                tenants = caller.tenant.map { [$0] } ?? []
            }
            var tokens: [APITokenInfo] = []
            for tenant in tenants {
                tokens += try await controller.store.apiTokens(tenant: tenant).filter { $0.kind == .join }.map(\.info)
            }
            return try JSONResponse.make(ListResponse(items: tokens))
        }
        group.delete(":id") { _, context in
            let caller = try context.caller
            let id = try context.parameters.require("id")
            let tenants = caller.isAdmin ? ["default"] + (try await controller.store.tenants().map(\.name)) : (caller.tenant.map { [$0] } ?? [])
            for tenant in tenants where try await controller.revokeCredential(id: id, tenant: tenant, kinds: [.join]) {
                return Response(status: .noContent)
            }
            throw APIError.notFound("token", id)
        }
    }
}
