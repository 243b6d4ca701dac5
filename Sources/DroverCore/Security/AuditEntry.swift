import Foundation

/// One mutating API call as the audit log keeps it: who, what, when, and how it ended.
public struct AuditEntry: Codable, Sendable, Hashable {
    /// Increasing number given by the store; 0 before it is stored.
    public var sequence: Int
    public var at: Date
    /// The caller's role, tenant and subject; `nil` for a public call (a login attempt).
    public var principal: Principal?
    /// The peer address the call came from, when known.
    public var remote: String?
    /// `POST`, `PUT`, `PATCH` or `DELETE`.
    public var method: String
    /// The request path, without the query.
    public var path: String
    /// The HTTP status answered.
    public var status: Int

    public init(sequence: Int = 0, at: Date, principal: Principal?, remote: String? = nil, method: String, path: String, status: Int) {
        self.sequence = sequence
        self.remote = remote
        self.at = at
        self.principal = principal
        self.method = method
        self.path = path
        self.status = status
    }

    /// `METHOD /path`, as the audit listing's `action`.
    public var action: String { "\(method) \(path)" }

    enum CodingKeys: String, CodingKey {
        case sequence, at, principal, remote, method, path, status, action
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        sequence = try container.decodeIfPresent(Int.self, forKey: .sequence) ?? 0
        at = try container.decode(Date.self, forKey: .at)
        principal = try container.decodeIfPresent(Principal.self, forKey: .principal)
        remote = try container.decodeIfPresent(String.self, forKey: .remote)
        method = try container.decode(String.self, forKey: .method)
        path = try container.decode(String.self, forKey: .path)
        status = try container.decode(Int.self, forKey: .status)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(sequence, forKey: .sequence)
        try container.encode(at, forKey: .at)
        try container.encodeIfPresent(principal, forKey: .principal)
        try container.encodeIfPresent(remote, forKey: .remote)
        try container.encode(method, forKey: .method)
        try container.encode(path, forKey: .path)
        try container.encode(status, forKey: .status)
        try container.encode(action, forKey: .action)
    }
}
