import DroverCore
import Foundation
import JWTKit

/// The claims of a Drover JWT: who (`sub`), as what (`role`, `tenant`), for whom (`iss`, `aud`), until when (`exp`).
struct DroverClaims: JWTPayload {
    static let issuer = "drover"
    static let audience = "drover-api"

    var sub: SubjectClaim
    var role: PrincipalRole
    var tenant: String?
    var iss: IssuerClaim
    var aud: AudienceClaim
    var exp: ExpirationClaim
    var iat: IssuedAtClaim

    /// Checked by jwt-kit after the signature: not expired, our issuer, our audience.
    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
        guard iss.value == Self.issuer else {
            throw JWTError.claimVerificationFailure(failedClaim: iss, reason: "issuer is not '\(Self.issuer)'")
        }
        try aud.verifyIntendedAudience(includes: Self.audience)
    }

    /// The caller these claims describe.
    var principal: Principal {
        Principal(role: role, tenant: role == .admin ? nil : tenant, subject: sub.value)
    }
}
