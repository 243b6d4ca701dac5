import Foundation

/// What a caller may do: everything, one tenant's things, or one node's protocol session.
public enum PrincipalRole: String, Codable, Sendable, CaseIterable {
    case admin
    case tenant
    case node
}

/// Who is calling, once a credential has been checked.
///
/// An `admin` sees everything; a `tenant` (or a `node`, which belongs to a tenant) sees only
/// records whose `tenant` field is its own.
public struct Principal: Codable, Sendable, Hashable {
    public var role: PrincipalRole
    /// The tenant a `tenant` or `node` principal belongs to; `nil` for an admin.
    public var tenant: String?
    /// Who this is, for the audit log: `admin`, a token id, a node id.
    public var subject: String
    /// The id of the stored credential presented (tenant API token or node credential), if any;
    /// revoking it ends the sessions it opened.
    public var credential: String?

    public init(role: PrincipalRole, tenant: String? = nil, subject: String, credential: String? = nil) {
        self.role = role
        self.tenant = tenant
        self.subject = subject
        self.credential = credential
    }

    /// The built-in administrator.
    public static let admin = Principal(role: .admin, subject: "admin")

    public var isAdmin: Bool { role == .admin }

    /// Whether this caller may see or touch a record owned by `owner`.
    public func canAccess(tenant owner: String) -> Bool {
        isAdmin || tenant == owner
    }
}
