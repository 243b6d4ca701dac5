import DroverCore
import DroverStore
import Foundation

/// Turns the bearer credential of a request into a `Principal`, or refuses it.
///
/// Accepted: the admin token (compared in constant time); a tenant API token (`drt_…`) or a
/// node credential (`drn_…`), looked up by SHA-256 and refused once revoked or expired or when
/// the tenant is gone; and a JWT signed by this manager (HS256 only; expiry, issuer and audience
/// checked). Join tokens (`drj_…`) are never a principal: only the node gateway reads them.
public struct Authenticator: Sendable {
    /// Prefix of tenant API tokens, so they are recognisable in a leak scan.
    static let apiTokenPrefix = "drt_"
    /// Prefix of node join tokens.
    static let joinTokenPrefix = "drj_"
    /// Prefix of node credentials.
    static let nodeCredentialPrefix = "drn_"
    /// Longest credential looked at; anything longer is refused unread.
    static let maxCredentialBytes = 4096

    /// SHA-256 (hex) of the admin token: the token itself is not kept.
    let adminTokenHash: [UInt8]
    let jwt: JWTService
    let store: any Store

    init(adminTokenHash: String, jwt: JWTService, store: any Store) {
        self.adminTokenHash = Array(adminTokenHash.utf8)
        self.jwt = jwt
        self.store = store
    }

    init(adminToken: String, jwt: JWTService, store: any Store) {
        self.init(adminTokenHash: Secrets.sha256Hex(adminToken), jwt: jwt, store: store)
    }

    /// The credential of an `Authorization: Bearer …` header value, or `nil` when there is none.
    static func bearerToken(_ header: String?) -> String? {
        guard let header else { return nil }
        let prefix = "bearer "
        guard header.utf8.count > prefix.utf8.count, header.prefix(prefix.count).lowercased() == prefix else { return nil }
        let token = header.dropFirst(prefix.count).trimmingCharacters(in: .whitespaces)
        guard !token.isEmpty, token.utf8.count <= maxCredentialBytes else { return nil }
        return token
    }

    /// Who sends `header`, or `nil` when the credential is missing or not valid.
    func principal(authorization header: String?, now: Date = Date()) async throws -> Principal? {
        guard let token = Self.bearerToken(header) else { return nil }
        return try await principal(token: token, now: now)
    }

    /// Who holds `token`, or `nil` when it is not valid.
    func principal(token: String, now: Date = Date()) async throws -> Principal? {
        if Secrets.constantTimeEquals(Array(Secrets.sha256Hex(token).utf8), adminTokenHash) { return .admin }
        if token.hasPrefix(Self.apiTokenPrefix) {
            guard let record = try await storedCredential(token, kind: .api, now: now) else { return nil }
            return Principal(role: .tenant, tenant: record.tenant, subject: "token:\(record.id)", credential: record.id)
        }
        if token.hasPrefix(Self.nodeCredentialPrefix) {
            guard let record = try await storedCredential(token, kind: .node, now: now), let nodeID = record.nodeID else { return nil }
            return Principal(role: .node, tenant: record.tenant, subject: nodeID, credential: record.id)
        }
        if token.hasPrefix(Self.joinTokenPrefix) { return nil }
        guard JWTService.looksLikeJWT(token), let claims = await jwt.verify(token) else { return nil }
        let principal = claims.principal
        switch principal.role {
        case .admin:
            return principal
        case .tenant, .node:
            guard let tenant = principal.tenant, try await tenantExists(tenant) else { return nil }
            return principal
        }
    }

    /// What opens the node gateway: any principal, or a join token (used up by the `hello` that follows).
    enum GatewayCredential: Sendable {
        case principal(Principal)
        case join(APITokenRecord)
    }

    /// The gateway credential of an `Authorization` header value, or `nil` when it is not valid.
    func gatewayCredential(authorization header: String?, now: Date = Date()) async throws -> GatewayCredential? {
        guard let token = Self.bearerToken(header) else { return nil }
        if token.hasPrefix(Self.joinTokenPrefix) {
            return try await storedCredential(token, kind: .join, now: now).map { .join($0) }
        }
        return try await principal(token: token, now: now).map { .principal($0) }
    }

    /// The stored record of `token` when it is of `kind` and valid now, and its tenant still exists.
    func storedCredential(_ token: String, kind: CredentialKind, now: Date = Date()) async throws -> APITokenRecord? {
        guard let record = try await store.apiToken(secretHash: Secrets.sha256Hex(token)), record.kind == kind, record.isValid(at: now),
              try await tenantExists(record.tenant)
        else { return nil }
        return record
    }

    /// Whether `name` is a tenant: a created one, or `default`, the tenant of records made before tenants existed.
    func tenantExists(_ name: String) async throws -> Bool {
        name == "default" ? true : try await store.tenant(name: name) != nil
    }

    /// A new tenant API token secret.
    static func makeAPITokenSecret() -> String {
        apiTokenPrefix + Secrets.randomHex(bytes: 32)
    }

    /// A new node join token secret.
    static func makeJoinTokenSecret() -> String {
        joinTokenPrefix + Secrets.randomHex(bytes: 32)
    }

    /// A new node credential secret.
    static func makeNodeCredentialSecret() -> String {
        nodeCredentialPrefix + Secrets.randomHex(bytes: 32)
    }
}
