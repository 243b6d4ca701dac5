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

/// What a stored credential is for.
public enum CredentialKind: String, Codable, Sendable, CaseIterable {
    /// A tenant API token (`drt_…`): the REST API as that tenant.
    case api
    /// A node join token (`drj_…`): opens the node gateway once, for one node of the tenant.
    case join
    /// A node credential (`drn_…`): what a node got for its join token; reopens the gateway as that node.
    case node
}

/// A credential as the store keeps it (tenant API token, node join token or node credential):
/// only the SHA-256 of its secret, never the secret.
public struct APITokenRecord: Codable, Sendable, Hashable {
    public var id: String
    public var tenant: String
    public var kind: CredentialKind
    /// The node a `node` credential belongs to, or that used a `join` token.
    public var nodeID: String?
    /// When a `join` token was used (it works once).
    public var usedAt: Date?
    /// The `join` token a `node` credential was issued for.
    public var sourceID: String?
    /// A label the admin chose (e.g. "ci"), for the listing.
    public var name: String
    /// Lowercase hex SHA-256 of the whole secret token.
    public var secretHash: String
    public var createdAt: Date
    /// When it stops working; `nil`: never.
    public var expiresAt: Date?
    /// Set once revoked; a revoked token is refused from then on.
    public var revokedAt: Date?

    public init(
        id: String, tenant: String, name: String, secretHash: String, createdAt: Date, expiresAt: Date? = nil, revokedAt: Date? = nil,
        kind: CredentialKind = .api, nodeID: String? = nil, usedAt: Date? = nil, sourceID: String? = nil
    ) {
        self.id = id
        self.kind = kind
        self.nodeID = nodeID
        self.usedAt = usedAt
        self.sourceID = sourceID
        self.tenant = tenant
        self.name = name
        self.secretHash = secretHash
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
    }

    /// Whether the token is accepted at `now` (a used join token is not).
    public func isValid(at now: Date) -> Bool {
        revokedAt == nil && (expiresAt.map { now < $0 } ?? true) && !(kind == .join && usedAt != nil)
    }

    /// The record as the API shows it: without the hash.
    public var info: APITokenInfo {
        var info = APITokenInfo(id: id, tenant: tenant, name: name, createdAt: createdAt, expiresAt: expiresAt, revokedAt: revokedAt)
        info.kind = kind
        info.nodeID = nodeID
        info.usedAt = usedAt
        return info
    }

    enum CodingKeys: String, CodingKey {
        case id, tenant, name, kind
        case secretHash = "secret_hash"
        case createdAt = "created_at"
        case expiresAt = "expires_at"
        case revokedAt = "revoked_at"
        case nodeID = "node_id"
        case usedAt = "used_at"
        case sourceID = "source_id"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        tenant = try container.decode(String.self, forKey: .tenant)
        name = try container.decode(String.self, forKey: .name)
        secretHash = try container.decode(String.self, forKey: .secretHash)
        createdAt = try container.decode(Date.self, forKey: .createdAt)
        expiresAt = try container.decodeIfPresent(Date.self, forKey: .expiresAt)
        revokedAt = try container.decodeIfPresent(Date.self, forKey: .revokedAt)
        kind = try container.decodeIfPresent(CredentialKind.self, forKey: .kind) ?? .api
        nodeID = try container.decodeIfPresent(String.self, forKey: .nodeID)
        usedAt = try container.decodeIfPresent(Date.self, forKey: .usedAt)
        sourceID = try container.decodeIfPresent(String.self, forKey: .sourceID)
    }
}

/// A credential as the API lists it (no secret, no hash).
public struct APITokenInfo: Codable, Sendable, Hashable {
    public var id: String
    public var kind: CredentialKind?
    /// The node a node credential belongs to, or that used a join token.
    public var nodeID: String?
    /// When a join token was used.
    public var usedAt: Date?
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
        case kind
        case nodeID = "node_id"
        case usedAt = "used_at"
    }
}
