import DroverCore
import Foundation
import JWTKit

/// Issues and checks the manager's HS256 JWTs.
///
/// Verification refuses any token whose header does not say `HS256` (so `alg: none` and
/// algorithm-confusion tokens never reach the signature check), then checks the signature,
/// expiry, issuer and audience.
struct JWTService: Sendable {
    let keys: JWTKeyCollection
    /// Lifetime of tokens issued by `POST /api/v1/auth/token`.
    let lifetime: TimeInterval

    init(secret: String, lifetime: TimeInterval) async {
        keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: Array(secret.utf8)), digestAlgorithm: .sha256)
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
        guard Self.headerAlgorithm(of: token) == "HS256" else { return nil }
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
