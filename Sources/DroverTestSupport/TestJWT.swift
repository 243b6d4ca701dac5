import Crypto
import Foundation

/// Hand-made JWTs for attack tests: any header, any claims, signed with any secret (or not at all).
public enum TestJWT {
    /// `header.payload.signature`, HS256-signed with `secret` unless `signature` is given.
    public static func make(header: [String: Any] = ["alg": "HS256", "typ": "JWT"], claims: [String: Any], secret: String, signature: String? = nil) throws -> String {
        let head = base64URL(try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]))
        let body = base64URL(try JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys]))
        let input = "\(head).\(body)"
        if let signature { return "\(input).\(signature)" }
        let mac = HMAC<SHA256>.authenticationCode(for: Data(input.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return "\(input).\(base64URL(Data(mac)))"
    }

    /// Claims the manager accepts: issuer `drover`, audience `drover-api`, expiring `expiresIn` seconds from now.
    public static func claims(sub: String, role: String, tenant: String? = nil, expiresIn: TimeInterval = 600) -> [String: Any] {
        let now = Date().timeIntervalSince1970
        var claims: [String: Any] = [
            "sub": sub, "role": role, "iss": "drover", "aud": "drover-api", "exp": Int(now + expiresIn), "iat": Int(now),
        ]
        if let tenant { claims["tenant"] = tenant }
        return claims
    }

    public static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
