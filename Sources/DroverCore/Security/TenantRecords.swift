import Foundation

/// A tenant: the owner of nodes, agents and tasks, and the isolation boundary.
public struct TenantRecord: Codable, Sendable, Hashable {
    public var name: String
    public var createdAt: Date

    public init(name: String, createdAt: Date) {
        self.name = name
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case name
        case createdAt = "created_at"
    }
}

/// A tenant API token as the store keeps it: only the SHA-256 of its secret, never the secret.
public struct APITokenRecord: Codable, Sendable, Hashable {
    public var id: String
    public var tenant: String
    /// A label the admin chose (e.g. "ci"), for the listing.
    public var name: String
    /// Lowercase hex SHA-256 of the whole secret token.
    public var secretHash: String
    public var createdAt: Date
    /// When it stops working; `nil`: never.
    public var expiresAt: Date?
    /// Set once revoked; a revoked token is refused from then on.
    public var revokedAt: Date?

    public init(id: String, tenant: String, name: String, secretHash: String, createdAt: Date, expiresAt: Date? = nil, revokedAt: Date? = nil) {
        self.id = id
        self.tenant = tenant
        self.name = name
        self.secretHash = secretHash
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
    }

    /// Whether the token is accepted at `now`.
    public func isValid(at now: Date) -> Bool {
        revokedAt == nil && (expiresAt.map { now < $0 } ?? true)
    }

    /// The record as the API shows it: without the hash.
    public var info: APITokenInfo {
        APITokenInfo(id: id, tenant: tenant, name: name, createdAt: createdAt, expiresAt: expiresAt, revokedAt: revokedAt)
    }

    enum CodingKeys: String, CodingKey {
        case id, tenant, name
        case secretHash = "secret_hash"
        case createdAt = "created_at"
        case expiresAt = "expires_at"
        case revokedAt = "revoked_at"
    }
}

/// A tenant API token as `GET /api/v1/tenants/{name}/tokens` lists it (no secret, no hash).
public struct APITokenInfo: Codable, Sendable, Hashable {
    public var id: String
    public var tenant: String
    public var name: String
    public var createdAt: Date
    public var expiresAt: Date?
    public var revokedAt: Date?

    public init(id: String, tenant: String, name: String, createdAt: Date, expiresAt: Date?, revokedAt: Date?) {
        self.id = id
        self.tenant = tenant
        self.name = name
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
    }

    enum CodingKeys: String, CodingKey {
        case id, tenant, name
        case createdAt = "created_at"
        case expiresAt = "expires_at"
        case revokedAt = "revoked_at"
    }
}
