import DroverCore
import DroverStore
import Foundation

/// Turns the bearer credential of a request into a `Principal`, or refuses it.
///
/// Three kinds are accepted: the admin token (compared in constant time), a tenant API token
/// (`drt_…`, looked up by its SHA-256; refused once revoked or expired, or when its tenant is
/// gone), and a JWT signed by this manager (HS256 only; expiry, issuer and audience checked).
public struct Authenticator: Sendable {
    /// Prefix of tenant API tokens, so they are recognisable in a leak scan.
    static let apiTokenPrefix = "drt_"
    /// Longest credential looked at; anything longer is refused unread.
    static let maxCredentialBytes = 4096

    let adminToken: [UInt8]
    let jwt: JWTService
    let store: any Store

    init(adminToken: String, jwt: JWTService, store: any Store) {
        self.adminToken = Array(adminToken.utf8)
        self.jwt = jwt
        self.store = store
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
        if Secrets.constantTimeEquals(Array(token.utf8), adminToken) { return .admin }
        if token.hasPrefix(Self.apiTokenPrefix) {
            guard let record = try await store.apiToken(secretHash: Secrets.sha256Hex(token)), record.isValid(at: now),
                  try await store.tenant(name: record.tenant) != nil
            else { return nil }
            return Principal(role: .tenant, tenant: record.tenant, subject: "token:\(record.id)")
        }
        guard JWTService.looksLikeJWT(token), let claims = await jwt.verify(token) else { return nil }
        let principal = claims.principal
        switch principal.role {
        case .admin:
            return principal
        case .tenant, .node:
            guard let tenant = principal.tenant, try await store.tenant(name: tenant) != nil || tenant == "default" else { return nil }
            return principal
        }
    }

    /// A new tenant API token secret.
    static func makeAPITokenSecret() -> String {
        apiTokenPrefix + Secrets.randomHex(bytes: 32)
    }
}
