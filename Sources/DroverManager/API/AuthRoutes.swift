import DroverCore
import Foundation
import Hummingbird
import NIOPosix

/// `POST /api/v1/auth/token`: the admin's username and password for a JWT.
struct AuthRoutes: Sendable {
    let jwt: JWTService
    let adminPassword: PasswordHash

    func addRoutes(to router: Router<ManagerRequestContext>) {
        router.post("api/v1/auth/token") { request, context in
            let body = try await JSONResponse.decode(LoginRequest.self, from: request, context: context)
            guard body.username.utf8.count <= 256, body.password.utf8.count <= 1024 else { throw Self.invalidCredentials }
            // Hash even for an unknown user, so the answer takes as long either way. PBKDF2 takes
            // tens of milliseconds: on NIO's blocking pool, not the threads every task shares.
            let passwordMatches = try await NIOThreadPool.singleton.runIfActive { [adminPassword] in adminPassword.matches(body.password) }
            guard body.username == AdminPassword.username, passwordMatches else {
                context.logger.warning("login refused", metadata: ["username": "\(body.username.prefix(64))"])
                throw Self.invalidCredentials
            }
            let (token, expiresAt) = try await jwt.issue(for: .admin)
            return try JSONResponse.make(LoginResponse(token: token, expiresAt: expiresAt))
        }
    }

    static let invalidCredentials = APIError(.unauthorized, code: "invalid_credentials", "wrong username or password")
}
