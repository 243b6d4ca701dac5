import DroverStore
import Foundation

/// The admin password `POST /api/v1/auth/token` checks: given (`--admin-password`,
/// `ADMIN_PASSWORD`), or the stored hash, or generated at first start and printed once.
///
/// Only a salted PBKDF2 hash is ever stored.
enum AdminPassword {
    static let metaKey = "admin_password_hash"
    static let username = "admin"

    /// The hash to check logins against, and the password when it was generated on this start (print it once).
    static func resolve(configured: String?, store: any Store) async throws -> (hash: PasswordHash, generated: String?) {
        if let configured {
            let hash = try PasswordHash.make(configured)
            try await store.setMetaValue(metaKey, hash.encoded)
            return (hash, nil)
        }
        if let stored = try await store.metaValue(metaKey), let hash = PasswordHash(encoded: stored) { return (hash, nil) }
        let password = Secrets.randomHex(bytes: 16)
        let hash = try PasswordHash.make(password)
        try await store.setMetaValue(metaKey, hash.encoded)
        return (hash, password)
    }
}
