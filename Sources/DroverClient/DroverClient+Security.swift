import DroverCore
import Foundation

/// Logging in, tenants, tenant API tokens, shared nodes and the audit log.
extension DroverClient {
    /// Trades the admin username and password for a JWT (no bearer token needed).
    public func login(username: String, password: String) async throws -> LoginResponse {
        try await decodeBody(requireSuccess("POST", "/api/v1/auth/token", try JSONCoding.encoder().encode(LoginRequest(username: username, password: password))))
    }

    /// Creates a tenant (admin only).
    public func createTenant(_ name: String) async throws -> TenantRecord {
        try await decodeBody(requireSuccess("POST", "/api/v1/tenants", try JSONCoding.encoder().encode(TenantCreateRequest(name: name))))
    }

    /// The tenants the caller may see (all for an admin, its own for a tenant).
    public func tenants() async throws -> [TenantRecord] {
        try decodeBody(try await requireSuccess("GET", "/api/v1/tenants", nil), as: ListResponse<TenantRecord>.self).items
    }

    /// Issues an API token for `tenant` (admin only); the answer is the only place its secret appears.
    public func createAPIToken(tenant: String, _ request: APITokenCreateRequest = APITokenCreateRequest()) async throws -> APITokenCreated {
        try await decodeBody(requireSuccess("POST", "/api/v1/tenants/\(Self.escape(tenant))/tokens", try JSONCoding.encoder().encode(request)))
    }

    /// A tenant's API tokens, without their secrets.
    public func apiTokens(tenant: String) async throws -> [APITokenInfo] {
        try decodeBody(try await requireSuccess("GET", "/api/v1/tenants/\(Self.escape(tenant))/tokens", nil), as: ListResponse<APITokenInfo>.self).items
    }

    /// Revokes a tenant API token (admin only); it is refused from then on.
    public func revokeAPIToken(tenant: String, id: String) async throws {
        _ = try await requireSuccess("DELETE", "/api/v1/tenants/\(Self.escape(tenant))/tokens/\(Self.escape(id))", nil)
    }

    /// Marks a node shared (agents of any tenant may run there) or not (admin only).
    public func setNodeShared(id: String, _ shared: Bool) async throws -> NodeRecord {
        try await decodeBody(requireSuccess(
            "PATCH", "/api/v1/cluster/containers/\(Self.escape(id))", try JSONCoding.encoder().encode(NodeUpdateRequest(shared: shared))
        ))
    }

    /// Audit entries numbered above `after`, oldest first (admin only).
    public func audit(after: Int = 0, limit: Int = 100) async throws -> [AuditEntry] {
        try decodeBody(try await requireSuccess("GET", "/api/v1/audit?after=\(after)&limit=\(limit)", nil), as: ListResponse<AuditEntry>.self).items
    }

    /// Creates a node join token (an admin for any tenant, a tenant for itself); its secret is shown only here.
    public func createJoinToken(_ request: JoinTokenCreateRequest) async throws -> APITokenCreated {
        try await decodeBody(requireSuccess("POST", "/api/v1/tokens", try JSONCoding.encoder().encode(request)))
    }

    /// Join tokens the caller may see (of one tenant, when given).
    public func joinTokens(tenant: String? = nil) async throws -> [APITokenInfo] {
        let query = tenant.map { "?tenant=\(Self.escape($0))" } ?? ""
        return try decodeBody(try await requireSuccess("GET", "/api/v1/tokens\(query)", nil), as: ListResponse<APITokenInfo>.self).items
    }

    /// Revokes a join token and the credential of the node that used it; that node is disconnected at once.
    public func revokeJoinToken(id: String) async throws {
        _ = try await requireSuccess("DELETE", "/api/v1/tokens/\(Self.escape(id))", nil)
    }

    private func requireSuccess(_ method: String, _ path: String, _ body: Data?) async throws -> Data {
        let (status, data) = try await raw(method: method, path: path, body: body)
        guard (200..<300).contains(status) else { throw DroverClientError.from(status: status, body: data) }
        return data
    }

    private func decodeBody<T: Decodable>(_ data: Data, as type: T.Type = T.self) throws -> T {
        do {
            return try JSONCoding.decoder().decode(T.self, from: data)
        } catch {
            throw DroverClientError.decoding(describeDecodingError(error))
        }
    }
}
