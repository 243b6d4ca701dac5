import Foundation

/// `POST /api/v1/auth/token`.
public struct LoginRequest: Codable, Sendable, Hashable {
    public var username: String
    public var password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }
}

/// The answer to a login: a signed JWT and when it expires.
public struct LoginResponse: Codable, Sendable, Hashable {
    public var token: String
    public var tokenType: String
    public var expiresAt: Date

    public init(token: String, expiresAt: Date, tokenType: String = "Bearer") {
        self.token = token
        self.tokenType = tokenType
        self.expiresAt = expiresAt
    }

    enum CodingKeys: String, CodingKey {
        case token
        case tokenType = "token_type"
        case expiresAt = "expires_at"
    }
}

/// `POST /api/v1/tenants`.
public struct TenantCreateRequest: Codable, Sendable, Hashable {
    public var name: String
    public init(name: String) { self.name = name }
}

/// `POST /api/v1/tenants/{name}/tokens`: an optional label and lifetime.
public struct APITokenCreateRequest: Codable, Sendable, Hashable {
    public var name: String?
    /// Seconds until the token expires; `nil`: never.
    public var ttlSeconds: Double?

    public init(name: String? = nil, ttlSeconds: Double? = nil) {
        self.name = name
        self.ttlSeconds = ttlSeconds
    }

    enum CodingKeys: String, CodingKey {
        case name
        case ttlSeconds = "ttl_s"
    }
}

/// A new tenant API token: the only time its secret is shown.
public struct APITokenCreated: Codable, Sendable, Hashable {
    public var token: String
    public var info: APITokenInfo

    public init(token: String, info: APITokenInfo) {
        self.token = token
        self.info = info
    }

    enum CodingKeys: String, CodingKey {
        case token, id, tenant, name
        case createdAt = "created_at"
        case expiresAt = "expires_at"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        token = try container.decode(String.self, forKey: .token)
        info = APITokenInfo(
            id: try container.decode(String.self, forKey: .id), tenant: try container.decode(String.self, forKey: .tenant),
            name: try container.decode(String.self, forKey: .name), createdAt: try container.decode(Date.self, forKey: .createdAt),
            expiresAt: try container.decodeIfPresent(Date.self, forKey: .expiresAt), revokedAt: nil
        )
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(token, forKey: .token)
        try container.encode(info.id, forKey: .id)
        try container.encode(info.tenant, forKey: .tenant)
        try container.encode(info.name, forKey: .name)
        try container.encode(info.createdAt, forKey: .createdAt)
        try container.encodeIfPresent(info.expiresAt, forKey: .expiresAt)
    }
}

/// `PATCH /api/v1/cluster/containers/{id}`: what an admin may change on a node.
public struct NodeUpdateRequest: Codable, Sendable, Hashable {
    /// Whether agents of any tenant may be placed on the node.
    public var shared: Bool?

    public init(shared: Bool? = nil) { self.shared = shared }
}

/// `POST /api/v1/tokens`: a node join token for a tenant.
public struct JoinTokenCreateRequest: Codable, Sendable, Hashable {
    /// The tenant the joining node will belong to (a tenant caller may name only its own; default: the caller's, or `default`).
    public var tenant: String?
    /// Seconds the token stays usable (default 3600).
    public var ttlSeconds: Double?
    public var name: String?

    public init(tenant: String? = nil, ttlSeconds: Double? = nil, name: String? = nil) {
        self.tenant = tenant
        self.ttlSeconds = ttlSeconds
        self.name = name
    }

    enum CodingKeys: String, CodingKey {
        case tenant, name
        case ttlSeconds = "ttl_s"
    }
}
