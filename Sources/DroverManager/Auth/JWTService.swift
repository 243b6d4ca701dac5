import DroverCore
import Foundation
import JWTKit

/// Issues and checks the manager's JWTs: HS256 with a shared secret, or ES256 with a P-256 key.
///
/// Verification refuses any token whose header does not name the one algorithm in use (so
/// `alg: none` and algorithm-confusion tokens, such as an HS256 token signed with the public
/// key, never reach the signature check), then checks the signature, expiry, issuer and audience.
struct JWTService: Sendable {
    let keys: JWTKeyCollection
    /// `HS256` or `ES256`: the only algorithm issued and accepted.
    let algorithm: String
    /// Lifetime of tokens issued by `POST /api/v1/auth/token`.
    let lifetime: TimeInterval

    init(secret: String, lifetime: TimeInterval) async {
        keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: Array(secret.utf8)), digestAlgorithm: .sha256)
        algorithm = "HS256"
        self.lifetime = lifetime
    }

    /// ES256 with the P-256 private key in `pem` (PKCS#8 or SEC1 PEM).
    init(es256PrivateKeyPEM pem: String, lifetime: TimeInterval) async throws {
        let key = try ES256PrivateKey(pem: pem)
        keys = JWTKeyCollection()
        await keys.add(ecdsa: key)
        algorithm = "ES256"
        self.lifetime = lifetime
    }

    /// A signed token for `principal`, and when it expires.
    func issue(for principal: Principal, now: Date = Date()) async throws -> (token: String, expiresAt: Date) {
        // Whole seconds: NumericDate may be fractional, but many clients expect integers.
        let now = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        let expiresAt = now.addingTimeInterval(lifetime.rounded(.down))
        let claims = DroverClaims(
            sub: .init(value: principal.subject), role: principal.role, tenant: principal.tenant, iss: .init(value: DroverClaims.issuer),
            aud: .init(value: [DroverClaims.audience]), exp: .init(value: expiresAt), iat: .init(value: now)
        )
        return (try await keys.sign(claims), expiresAt)
    }

    /// The claims of a valid token, or `nil` for anything else (bad shape, other algorithm,
    /// wrong signature, expired, other issuer or audience).
    func verify(_ token: String) async -> DroverClaims? {
        guard Self.headerAlgorithm(of: token) == algorithm else { return nil }
        return try? await keys.verify(token, as: DroverClaims.self)
    }

    /// Whether `text` has the shape of a JWT (three base64url parts).
    static func looksLikeJWT(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 3 && !parts[0].isEmpty && !parts[1].isEmpty
    }

    /// The `alg` of a token's header, or `nil` when the header cannot be read.
    static func headerAlgorithm(of token: String) -> String? {
        guard looksLikeJWT(token), let first = token.split(separator: ".", omittingEmptySubsequences: false).first,
              let data = base64URLDecode(String(first)),
              let header = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        return header["alg"] as? String
    }

    static func base64URLDecode(_ text: String) -> Data? {
        guard text.count <= 4096 else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while !base64.count.isMultiple(of: 4) { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}
