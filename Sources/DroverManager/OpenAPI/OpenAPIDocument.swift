import DroverCore
import Foundation

/// The manager's REST API as an OpenAPI 3.0 document, served at `GET /api/v1/openapi.json`.
///
/// It is built in Swift from the operation lists and schema tables beside this file rather
/// than kept as a resource file: the compiler checks it, enums come from the Swift types
/// themselves (a new placement strategy shows up without an edit here), it lives in the
/// binary (no resource bundle to ship beside `drover`), and it splits into small files by
/// area. `OpenAPIRouteTests` keeps its (method, path) set equal to the router's.
public enum OpenAPIDocument {
    /// Every operation, in the order the document lists them.
    static var operations: [OpenAPIOperation] { clusterOperations + workflowOperations + securityOperations }

    /// Every (method, path) the document describes, e.g. `GET /api/v1/cluster/agents/{id}`.
    public static var routes: Set<APIRoute> { Set(operations.map { APIRoute(method: $0.method, path: $0.path) }) }

    /// The document as a JSON value.
    public static var document: JSONValue {
        var paths: [String: JSONValue] = [:]
        for operation in operations {
            var item = paths[operation.path]?.objectValue ?? [:]
            item[operation.method.lowercased()] = operation.json
            paths[operation.path] = .object(item)
        }
        var schemas = clusterSchemas.merging(workflowSchemas) { $1 }.merging(securitySchemas) { $1 }
        for name in requestSchemas { schemas[name] = schemas[name].map(OAS.request) }
        var responses: [String: JSONValue] = [:]
        for (status, description) in errorDescriptions {
            var response: [String: JSONValue] = [
                "description": .string(description), "content": ["application/json": ["schema": OAS.ref("ErrorBody")]],
            ]
            if status == 429 || status == 503 { response["headers"] = ["Retry-After": ["description": "seconds to wait", "schema": ["type": "integer"]]] }
            if status == 401 { response["headers"] = ["WWW-Authenticate": ["schema": ["type": "string"]]] }
            responses[errorResponseName(status)] = .object(response)
        }
        return [
            "openapi": "3.0.3",
            "info": [
                "title": "Drover manager API", "version": .string(DroverVersion.string),
                "description": """
                    Drover runs long-lived AI agents on nodes that dial out to this manager. Every call but /health, \
                    /api/v1/openapi.json and POST /api/v1/auth/token needs 'Authorization: Bearer <token>' (the admin token, \
                    a tenant API token, or a JWT). Every error is {"error": {"code", "message"}}. Nodes connect to the \
                    WebSocket gateway at /api/v1/cluster/connect, which is not part of this document.
                    """,
            ],
            "paths": .object(paths),
            "components": [
                "schemas": .object(schemas),
                "responses": .object(responses),
                "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer", "description": "admin token, tenant API token or JWT"]],
            ],
        ]
    }

    /// The document as UTF-8 JSON, built once.
    public static let json: Data = (try? JSONCoding.encoder().encode(document)) ?? Data("{}".utf8)

    /// Schemas only requests use: their optional properties also take `null` (read as absent).
    static let requestSchemas = [
        "ContainerRegisterRequest", "ContainerHeartbeatRequest", "NodeUpdateRequest", "ResourceRequest", "DeployRequest", "TaskSubmitRequest",
        "MigrateRequest", "ClusterActionRequest", "WorkflowDefinition", "Step", "Pool", "RetryPolicy", "Condition", "WorkflowRunRequest",
        "LoginRequest", "TenantCreateRequest", "APITokenCreateRequest", "JoinTokenCreateRequest",
    ]

    /// The error responses shared by every operation, by status.
    static let errorDescriptions: [Int: String] = [
        400: "bad request: malformed JSON, a wrong type (the message names the field), or a value out of range",
        401: "no credential, or one that is not accepted",
        403: "the credential may not make this call (admins only, or a node credential)",
        404: "no such thing, or one of another tenant",
        409: "conflicts with the current state",
        405: "the path names a route that does not take this method (the Allow header lists those it takes)",
        413: "the body is over the 1 MiB limit",
        422: "well-formed but cannot be done (nothing can place the agent, an invalid workflow)",
        429: "rate limited; retry after Retry-After seconds",
        503: "the store cannot take writes now (disk full, I/O error, database away): code store_unavailable; retry after Retry-After seconds",
    ]

    /// `Error404` for 404.
    static func errorResponseName(_ status: Int) -> String { "Error\(status)" }
}

/// One (method, path) of the HTTP API, with path parameters written `{name}`.
public struct APIRoute: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var method: String
    public var path: String

    public init(method: String, path: String) {
        self.method = method.uppercased()
        self.path = path
    }

    public var description: String { "\(method) \(path)" }

    public static func < (lhs: APIRoute, rhs: APIRoute) -> Bool { (lhs.path, lhs.method) < (rhs.path, rhs.method) }
}
