import DroverCore

extension OpenAPIDocument {
    /// Logins, tenants, API and join tokens, and the audit log.
    static var securitySchemas: [String: JSONValue] {
        let tokenFields: [String: JSONValue] = [
            "id": OAS.string(), "tenant": OAS.string(), "name": OAS.string(), "created_at": OAS.dateTime, "expires_at": OAS.dateTime,
        ]
        return [
            "LoginRequest": OAS.object([
                "username": OAS.string(maxLength: 256), "password": OAS.string(maxLength: 1_024),
            ], required: ["username", "password"]),
            "LoginResponse": OAS.object([
                "token": OAS.string("a JWT"), "token_type": OAS.string(), "expires_at": OAS.dateTime,
            ], required: ["token", "token_type", "expires_at"]),
            "TenantCreateRequest": OAS.object(["name": OAS.name()], required: ["name"]),
            "Tenant": OAS.object(["name": OAS.string(), "created_at": OAS.dateTime], required: ["name", "created_at"]),
            "APITokenCreateRequest": OAS.object([
                "name": OAS.name("a label (default `token`)"),
                "ttl_s": OAS.number("seconds until it expires (absent: never)", minimum: 0, maximum: TenantRoutes.maxTokenLifetime, exclusiveMinimum: true),
            ]),
            "JoinTokenCreateRequest": OAS.object([
                "tenant": OAS.string("the joining node's tenant (default: the caller's, or `default`)"),
                "ttl_s": OAS.number("seconds it stays usable (default 3600)", minimum: 0, maximum: JoinTokenRoutes.maxLifetime, exclusiveMinimum: true),
                "name": OAS.name("a label (default `join`)"),
            ]),
            "TokenCreated": OAS.object(
                tokenFields.merging(["token": OAS.string("the secret, shown only this once")]) { $1 },
                required: ["token", "id", "tenant", "name", "created_at"]
            ),
            "TokenInfo": OAS.object(
                tokenFields.merging([
                    "kind": OAS.string(enum: CredentialKind.allCases.map(\.rawValue)), "node_id": OAS.string(), "used_at": OAS.dateTime,
                    "revoked_at": OAS.dateTime,
                ]) { $1 },
                required: ["id", "tenant", "name", "created_at"]
            ),
            "AuditEntry": OAS.object([
                "sequence": OAS.integer(), "at": OAS.dateTime,
                "principal": OAS.object([
                    "role": OAS.string(enum: PrincipalRole.allCases.map(\.rawValue)), "tenant": OAS.string(), "subject": OAS.string(),
                    "credential": OAS.string(),
                ], required: ["role", "subject"]),
                "remote": OAS.string(), "method": OAS.string(), "path": OAS.string(), "status": OAS.integer(), "action": OAS.string(),
            ], required: ["sequence", "at", "method", "path", "status", "action"]),
        ]
    }
}
