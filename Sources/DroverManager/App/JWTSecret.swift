import DroverStore
import Foundation

/// The HMAC secret JWTs are signed with: given (`--jwt-secret`, `JWT_SECRET`), or kept in a
/// file beside the SQLite store (`PATH.jwt-secret`, mode 0600; generated once), never in the
/// database: a copy of the database must not let anyone sign tokens.
enum JWTSecret {
    /// Where releases before the file kept it; moved to the file on first start.
    static let legacyMetaKey = "jwt_secret"

    /// The configured secret, else the file's, else a new one written to the file (a secret
    /// found in the database is moved there). Without a file (the `memory:` store), a random
    /// secret for the life of the process.
    static func resolve(configured: String?, file: String?, store: any Store) async throws -> String {
        if let configured { return configured }
        guard let file else { return Secrets.randomHex(bytes: 32) }
        if let text = try SecretFile.read(file, what: "JWT secret") {
            guard !text.isEmpty else { throw SecretFileError("the JWT secret file \(file) is empty; delete it to have one generated") }
            return text
        }
        let legacy = try await store.metaValue(legacyMetaKey).flatMap { $0.isEmpty ? nil : $0 }
        let secret = legacy ?? Secrets.randomHex(bytes: 32)
        try SecretFile.create(file, secret + "\n", what: "JWT secret", hint: "set JWT_SECRET or make its folder writable")
        if legacy != nil { try await store.setMetaValue(legacyMetaKey, "") }
        return secret
    }

    /// The secret file of a SQLite store at `databasePath`.
    static func file(forDatabase databasePath: String) -> String {
        databasePath + ".jwt-secret"
    }
}
