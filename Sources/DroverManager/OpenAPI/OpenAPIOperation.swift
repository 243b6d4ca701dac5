import DroverCore

/// One operation of the document: a method on a path, what it takes and what it answers.
struct OpenAPIOperation: Sendable {
    /// `GET`, `POST`, `PATCH`, `DELETE`.
    var method: String
    /// The path with `{name}` parameters, e.g. `/api/v1/cluster/agents/{id}`.
    var path: String
    var summary: String
    var tag: String
    /// Query parameters (path parameters are derived from `path`).
    var query: [JSONValue] = []
    /// The JSON body's schema, if the operation reads one.
    var body: JSONValue?
    /// Whether an empty body is refused (`false`: an empty body means all defaults).
    var bodyRequired = true
    /// Status code → (description, JSON schema or `nil` for no body).
    var responses: [Int: (String, JSONValue?)]
    /// The error statuses the operation answers besides the common ones.
    var errors: [Int] = []
    /// Callable without a credential.
    var isPublic = false
    /// Schemas of path parameters by name; a parameter not listed is a non-empty string.
    var pathSchemas: [String: JSONValue] = [:]
    /// Other media types the body may come in (e.g. YAML for workflows), with their schema.
    var extraBodyTypes: [String: JSONValue] = [:]

    /// The names in `{...}` in the path, in order.
    var pathParameters: [String] {
        path.split(separator: "/").compactMap { part in
            part.hasPrefix("{") && part.hasSuffix("}") ? String(part.dropFirst().dropLast()) : nil
        }
    }

    /// The operation as an OpenAPI Operation Object.
    var json: JSONValue {
        var operation: [String: JSONValue] = [
            "operationId": .string(operationID), "summary": .string(summary), "tags": [.string(tag)],
        ]
        let pathParams = pathParameters.map { name in
            JSONValue.object([
                "name": .string(name), "in": "path", "required": true,
                "schema": pathSchemas[name] ?? OAS.string(minLength: 1, maxLength: 256),
            ])
        }
        if !(pathParams + query).isEmpty { operation["parameters"] = .array(pathParams + query) }
        if let body {
            var content: [String: JSONValue] = ["application/json": ["schema": body]]
            for (type, schema) in extraBodyTypes { content[type] = ["schema": schema] }
            operation["requestBody"] = ["required": .bool(bodyRequired), "content": .object(content)]
        }
        var answers: [String: JSONValue] = [:]
        for (status, (description, schema)) in responses {
            var response: [String: JSONValue] = ["description": .string(description)]
            if let schema { response["content"] = ["application/json": ["schema": schema]] }
            answers[String(status)] = .object(response)
        }
        for status in allErrors { answers[String(status)] = OAS.responseRef(OpenAPIDocument.errorResponseName(status)) }
        operation["responses"] = .object(answers)
        operation["security"] = isPublic ? [] : [["bearer": []]]
        return .object(operation)
    }

    /// Every error status: the listed ones, plus what any call may answer (429; 401 and 403
    /// without an accepted API credential; 400 and 413 for a body; 404 for a path parameter,
    /// and 405 when its value spells a sibling route, as `agents/deploy` for `agents/{id}`; 503 for
    /// a call that writes while the store refuses writes).
    var allErrors: Set<Int> {
        var statuses = Set(errors).union([429])
        if !isPublic { statuses.formUnion([401, 403]) }
        if body != nil { statuses.formUnion([400, 413]) }
        if !pathParameters.isEmpty { statuses.formUnion([404, 405]) }
        if method != "GET", !isPublic { statuses.insert(503) }
        return statuses
    }

    /// `get_api_v1_cluster_agents_id`-like ids, unique per (method, path).
    var operationID: String {
        let words = path.split(separator: "/").map { $0.trimmingCharacters(in: ["{", "}"]) }
        return ([method.lowercased()] + words).joined(separator: "_").replacingOccurrences(of: ".", with: "_")
    }

    /// A query parameter.
    static func query(_ name: String, _ schema: JSONValue, _ description: String) -> JSONValue {
        ["name": .string(name), "in": "query", "required": false, "description": .string(description), "schema": schema]
    }

    /// `tenant=NAME` on a call that names a task, run or workflow (those are per tenant).
    static let tenantScope = query(
        "tenant", OAS.string(),
        "admins: the tenant whose id or name this is (needed only when several tenants have it: 409 `ambiguous_id`); ignored for a tenant's token"
    )

    /// `wait=true|false`.
    static let wait = query("wait", OAS.boolean, "true: answer once the result is final (or the time limit passes)")
}
