import DroverCore
import DroverStore
import Foundation

/// The admin token: given, or generated once. Only its SHA-256 is stored, so a copy of the
/// database does not make anyone an admin.
enum AdminToken {
    static let hashMetaKey = "admin_token_sha256"
    /// Where releases before the hash kept the token itself; replaced by its hash on first start.
    static let legacyMetaKey = "admin_token"

    /// What `resolve` found: the hash to check against, and the token when it is known on this
    /// start (given, generated now, or taken from an older store); `nil` when only its hash is.
    struct Resolved {
        var hash: String
        var token: String?
        var generated: Bool
    }

    /// The configured token (its hash stored, so later starts without it accept it), else the
    /// stored hash, else a new token.
    static func resolve(configured: String?, store: any Store) async throws -> Resolved {
        let legacy = try await store.metaValue(legacyMetaKey).flatMap { $0.isEmpty ? nil : $0 }
        if legacy != nil { try await store.setMetaValue(legacyMetaKey, "") }
        if let token = configured ?? legacy {
            let hash = Secrets.sha256Hex(token)
            try await store.setMetaValue(hashMetaKey, hash)
            return Resolved(hash: hash, token: token, generated: false)
        }
        if let hash = try await store.metaValue(hashMetaKey), !hash.isEmpty { return Resolved(hash: hash, token: nil, generated: false) }
        let token = generate()
        let hash = Secrets.sha256Hex(token)
        try await store.setMetaValue(hashMetaKey, hash)
        return Resolved(hash: hash, token: token, generated: true)
    }

    /// 32 random bytes, hex, with a `drv_` prefix so it is recognisable in a leak scan.
    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return "drv_" + bytes.map { String(format: "%02x", $0) }.joined()
    }
}
