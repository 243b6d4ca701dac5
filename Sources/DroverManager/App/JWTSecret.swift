import DroverStore
import Foundation

/// The HMAC secret JWTs are signed with: given (`--jwt-secret`, `JWT_SECRET`), or stored, or generated once.
enum JWTSecret {
    static let metaKey = "jwt_secret"

    /// The configured secret (not stored: it lives where the operator keeps it), else the stored
    /// one, else a new random one that is stored so tokens survive a restart.
    static func resolve(configured: String?, store: any Store) async throws -> String {
        if let configured { return configured }
        if let stored = try await store.metaValue(metaKey) { return stored }
        let secret = Secrets.randomHex(bytes: 32)
        try await store.setMetaValue(metaKey, secret)
        return secret
    }
}
