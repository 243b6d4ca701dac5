import DroverCore

extension OpenAPIDocument {
    /// `/api/v1/workflows/...`: definitions, runs, histories, signals, cancellation.
    static var workflowOperations: [OpenAPIOperation] {
        let base = "/api/v1/workflows"
        let run = OAS.ref("WorkflowRunView")
        // Names and run ids are per tenant; an admin names the tenant when several have one (409 `ambiguous_id` otherwise).
        let tenant = OpenAPIOperation.tenantScope
        return [
            .init(
                method: "POST", path: base, summary: "Register a workflow (a new version when it changed)", tag: "workflows",
                query: [OpenAPIOperation.query("tenant", OAS.name(), "admins: the tenant it belongs to (default `default`)")],
                body: OAS.ref("WorkflowDefinition"),
                responses: [201: ("registered", OAS.ref("Workflow")), 200: ("unchanged: the current version", OAS.ref("Workflow"))],
                errors: [409, 422], extraBodyTypes: ["application/yaml": ["type": "string", "description": "the same document in YAML"]]
            ),
            .init(method: "GET", path: base, summary: "Registered workflows", tag: "workflows", responses: [200: ("workflows", OAS.list(of: OAS.ref("Workflow")))]),
            .init(
                method: "GET", path: "\(base)/runs", summary: "Runs, newest first", tag: "runs",
                query: [
                    OpenAPIOperation.query("workflow", OAS.string(), "only runs of this workflow"),
                    OpenAPIOperation.query("status", OAS.string(enum: WorkflowRunStatus.allCases.map(\.rawValue)), "only runs in this status"),
                    OpenAPIOperation.query("tenant", OAS.string(), "admins: only runs of this tenant"),
                    OpenAPIOperation.query("cursor", OAS.string(), "the `next_cursor` of the previous page"),
                    OpenAPIOperation.query("before", OAS.string(), "paging: runs created before this run id (the same as cursor)"),
                    OpenAPIOperation.query("limit", OAS.integer(minimum: 1, maximum: 1_000), "most runs (default 100)"),
                ],
                responses: [200: ("a page of runs", OAS.ref("RunPage"))], errors: [400]
            ),
            .init(
                method: "GET", path: "\(base)/runs/{id}", summary: "A run: state and every step", tag: "runs", query: [tenant],
                responses: [200: ("the run", run)], errors: [409]
            ),
            .init(
                method: "GET", path: "\(base)/runs/{id}/history", summary: "A run's recorded transitions, oldest first", tag: "runs",
                query: [
                    OpenAPIOperation.query("after", OAS.integer(minimum: 0), "only events after this sequence (the same as cursor)"),
                    OpenAPIOperation.query("cursor", OAS.string(), "the `next_cursor` of the previous page"),
                    OpenAPIOperation.query("limit", OAS.integer(minimum: 1, maximum: 10_000), "most events (default 1000)"), tenant,
                ],
                responses: [200: ("events", OAS.list(of: OAS.ref("WorkflowEvent")))], errors: [400, 409]
            ),
            .init(
                method: "POST", path: "\(base)/runs/{id}/cancel", summary: "Cancel a run", tag: "runs", query: [tenant],
                responses: [202: ("cancelling", run)], errors: [409]
            ),
            .init(
                method: "POST", path: "\(base)/runs/{id}/signal/{name}", summary: "Send a run a signal with an optional JSON payload", tag: "runs",
                query: [tenant], body: OAS.anyJSON("the payload (null when the body is empty)"), bodyRequired: false, responses: [202: ("received", run)],
                errors: [409], pathSchemas: ["name": OAS.name("the signal", maxLength: 64)]
            ),
            .init(
                method: "GET", path: "\(base)/{name}", summary: "A registered workflow", tag: "workflows",
                query: [OpenAPIOperation.query("version", OAS.integer(minimum: 1), "a version (default: the newest)"), tenant],
                responses: [200: ("the workflow", OAS.ref("Workflow"))], errors: [400, 409]
            ),
            .init(
                method: "POST", path: "\(base)/{name}/runs", summary: "Start a run", tag: "runs",
                query: [
                    OpenAPIOperation.wait,
                    OpenAPIOperation.query("timeout_s", OAS.number(minimum: 0, maximum: 3_600), "with wait=true: longest wait (default 60)"), tenant,
                ],
                body: OAS.ref("WorkflowRunRequest"), bodyRequired: false,
                responses: [
                    201: ("started", OAS.ref("WorkflowRun")), 200: ("finished (with wait=true)", run), 202: ("still running (with wait=true)", run),
                ],
                errors: [409, 422]
            ),
        ]
    }

    /// `/api/v1/auth`, tenants, tokens and the audit log.
    static var securityOperations: [OpenAPIOperation] {
        let tenants = "/api/v1/tenants"
        return [
            .init(
                method: "POST", path: "/api/v1/auth/token", summary: "Trade the admin's username and password for a JWT", tag: "auth",
                body: OAS.ref("LoginRequest"), responses: [200: ("a token", OAS.ref("LoginResponse"))], errors: [401], isPublic: true
            ),
            .init(
                method: "POST", path: tenants, summary: "Create a tenant (admins)", tag: "tenants", body: OAS.ref("TenantCreateRequest"),
                responses: [201: ("created", OAS.ref("Tenant"))], errors: [409]
            ),
            .init(method: "GET", path: tenants, summary: "Tenants the caller may see", tag: "tenants", responses: [200: ("tenants", OAS.list(of: OAS.ref("Tenant")))]),
            .init(method: "GET", path: "\(tenants)/{name}", summary: "One tenant", tag: "tenants", responses: [200: ("the tenant", OAS.ref("Tenant"))]),
            .init(
                method: "POST", path: "\(tenants)/{name}/tokens", summary: "Issue a tenant API token (admins)", tag: "tenants",
                body: OAS.ref("APITokenCreateRequest"), bodyRequired: false, responses: [201: ("issued; the secret is shown once", OAS.ref("TokenCreated"))]
            ),
            .init(
                method: "GET", path: "\(tenants)/{name}/tokens", summary: "A tenant's API tokens, without secrets", tag: "tenants",
                responses: [200: ("tokens", OAS.list(of: OAS.ref("TokenInfo")))]
            ),
            .init(method: "DELETE", path: "\(tenants)/{name}/tokens/{id}", summary: "Revoke a tenant API token (admins)", tag: "tenants", responses: [204: ("revoked", nil)]),
            .init(
                method: "POST", path: "/api/v1/tokens", summary: "Create a node join token", tag: "tokens", body: OAS.ref("JoinTokenCreateRequest"),
                bodyRequired: false, responses: [201: ("created; the secret is shown once", OAS.ref("TokenCreated"))], errors: [404]
            ),
            .init(
                method: "GET", path: "/api/v1/tokens", summary: "Join tokens the caller may see, without secrets", tag: "tokens",
                query: [OpenAPIOperation.query("tenant", OAS.string(), "only this tenant's")],
                responses: [200: ("tokens", OAS.list(of: OAS.ref("TokenInfo")))]
            ),
            .init(method: "DELETE", path: "/api/v1/tokens/{id}", summary: "Revoke a join token (and the node that used it)", tag: "tokens", responses: [204: ("revoked", nil)]),
            .init(
                method: "GET", path: "/api/v1/audit", summary: "The audit log of mutating calls, oldest first (admins)", tag: "audit",
                query: [
                    OpenAPIOperation.query("after", OAS.integer(minimum: 0), "only entries after this sequence (the same as cursor)"),
                    OpenAPIOperation.query("cursor", OAS.string(), "the `next_cursor` of the previous page"),
                    OpenAPIOperation.query("limit", OAS.integer(minimum: 1, maximum: 1_000), "most entries (default 100)"),
                ],
                responses: [200: ("entries", OAS.list(of: OAS.ref("AuditEntry")))], errors: [400]
            ),
        ]
    }
}
