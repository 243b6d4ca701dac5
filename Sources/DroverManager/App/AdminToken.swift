import DroverStore
import Foundation

/// The one admin token of this access control: given, stored, or generated once.
enum AdminToken {
    static let metaKey = "admin_token"

    /// The token to require: the configured one (then stored), else the stored one, else a new one.
    static func resolve(configured: String?, store: any Store) async throws -> (token: String, generated: Bool) {
        if let configured {
            try await store.setMetaValue(metaKey, configured)
            return (configured, false)
        }
        if let stored = try await store.metaValue(metaKey) { return (stored, false) }
        let token = generate()
        try await store.setMetaValue(metaKey, token)
        return (token, true)
    }

    /// 32 random bytes, hex, with a `drv_` prefix so it is recognisable in a leak scan.
    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return "drv_" + bytes.map { String(format: "%02x", $0) }.joined()
    }
}
