import DroverCore

extension OpenAPIDocument {
    /// `/health`, `/metrics`, the document itself, and `/api/v1/cluster/...`, tasks and events.
    static var clusterOperations: [OpenAPIOperation] {
        let cluster = "/api/v1/cluster"
        let limit = OpenAPIOperation.query("limit", OAS.integer(minimum: 1, maximum: 1_000), "most items (default 100)")
        let cursor = OpenAPIOperation.query("cursor", OAS.string(), "the `next_cursor` of the previous page")
        let deployed: JSONValue = ["anyOf": [OAS.ref("Agent"), OAS.list(of: OAS.ref("Agent"))]]
        return [
            .init(method: "GET", path: "/health", summary: "Liveness; no credential needed", tag: "meta", responses: [200: ("ok", OAS.ref("Health"))], isPublic: true),
            .init(
                method: "GET", path: "/api/v1/openapi.json", summary: "This document; no credential needed", tag: "meta",
                responses: [200: ("the OpenAPI document", ["type": "object"])], isPublic: true
            ),
            .init(
                method: "GET", path: "/metrics", summary: "Prometheus metrics (admins)", tag: "meta",
                responses: [200: ("Prometheus text format", nil)]
            ),
            .init(method: "GET", path: "\(cluster)/status", summary: "Counts of nodes and agents by status, capacity", tag: "cluster", responses: [200: ("status", OAS.ref("ClusterStatus"))]),
            .init(
                method: "GET", path: "\(cluster)/containers", summary: "The caller's nodes, by id, a page at a time", tag: "nodes",
                query: [
                    limit, cursor,
                    OpenAPIOperation.query("status", OAS.string(enum: NodeStatus.allCases.map(\.rawValue)), "only nodes in this status"),
                    OpenAPIOperation.query("tenant", OAS.string(), "admins: only this tenant's nodes"),
                ],
                responses: [200: ("nodes", OAS.list(of: OAS.ref("Node")))], errors: [400]
            ),
            .init(
                method: "POST", path: "\(cluster)/containers/register", summary: "Register a node over HTTP (the seed platform's way)", tag: "nodes",
                body: OAS.ref("ContainerRegisterRequest"), responses: [201: ("registered", OAS.ref("ContainerRegisterResponse"))], errors: [409]
            ),
            .init(method: "GET", path: "\(cluster)/containers/{id}", summary: "One node", tag: "nodes", responses: [200: ("the node", OAS.ref("Node"))]),
            .init(
                method: "PATCH", path: "\(cluster)/containers/{id}", summary: "Mark a node shared or not (admins)", tag: "nodes",
                body: OAS.ref("NodeUpdateRequest"), responses: [200: ("the node", OAS.ref("Node"))]
            ),
            .init(method: "DELETE", path: "\(cluster)/containers/{id}", summary: "Remove a node and revoke its credentials", tag: "nodes", responses: [204: ("removed", nil)]),
            .init(
                method: "POST", path: "\(cluster)/containers/{id}/heartbeat", summary: "Heartbeat of an HTTP-registered node", tag: "nodes",
                body: OAS.ref("ContainerHeartbeatRequest"), responses: [200: ("recorded", OAS.ref("ContainerRegisterResponse"))]
            ),
            .init(
                method: "POST", path: "\(cluster)/containers/{id}/drain", summary: "Move every agent off a node; it takes no new ones", tag: "nodes",
                responses: [200: ("the node, draining", OAS.ref("Node"))], errors: [409]
            ),
            .init(
                method: "POST", path: "\(cluster)/agents/deploy", summary: "Deploy an agent", tag: "agents",
                query: [OpenAPIOperation.query("dry_run", OAS.boolean, "true: only say where it would go")],
                body: OAS.ref("DeployRequest"),
                responses: [
                    201: ("deployed (with `replicas`: every agent placed)", deployed), 200: ("dry run: where it would go", deployed),
                ], errors: [404, 422]
            ),
            .init(
                method: "GET", path: "\(cluster)/agents", summary: "The caller's agents, oldest first, a page at a time", tag: "agents",
                query: [
                    limit, cursor,
                    OpenAPIOperation.query("node_id", OAS.string(), "only agents on this node"),
                    OpenAPIOperation.query("status", OAS.string(enum: AgentStatus.allCases.map(\.rawValue)), "only agents in this status"),
                    OpenAPIOperation.query("agent_type", OAS.string(), "only agents of this type"),
                    OpenAPIOperation.query("label", OAS.string(pattern: "^[^=]+=.*$"), "only agents with this label (key=value)"),
                    OpenAPIOperation.query("tenant", OAS.string(), "admins: only this tenant's agents"),
                ],
                responses: [200: ("agents", OAS.list(of: OAS.ref("Agent")))], errors: [400]
            ),
            .init(method: "GET", path: "\(cluster)/agents/{id}", summary: "One agent", tag: "agents", responses: [200: ("the agent", OAS.ref("Agent"))]),
            .init(method: "DELETE", path: "\(cluster)/agents/{id}", summary: "Undeploy an agent", tag: "agents", responses: [202: ("stopping", OAS.ref("Agent"))]),
            .init(
                method: "POST", path: "\(cluster)/agents/{id}/tasks", summary: "Send the agent a task", tag: "tasks", query: [OpenAPIOperation.wait],
                body: OAS.ref("TaskSubmitRequest"),
                responses: [202: ("accepted (not final yet)", OAS.ref("Task")), 200: ("final (with wait=true)", OAS.ref("Task"))], errors: [409]
            ),
            .init(
                method: "GET", path: "\(cluster)/agents/{id}/tasks", summary: "The agent's tasks, newest first", tag: "tasks",
                query: [limit, cursor, OpenAPIOperation.query("status", OAS.string(enum: TaskStatus.allCases.map(\.rawValue)), "only tasks in this status")],
                responses: [200: ("tasks", OAS.list(of: OAS.ref("Task")))], errors: [400]
            ),
            .init(
                method: "POST", path: "\(cluster)/agents/{id}/migrate", summary: "Move an agent to another node", tag: "agents",
                body: OAS.ref("MigrateRequest"), bodyRequired: false, responses: [200: ("moved", OAS.ref("MigrateResponse"))], errors: [409, 422]
            ),
            .init(
                method: "POST", path: "\(cluster)/actions", summary: "Rebalance or health-check the cluster (admins)", tag: "cluster",
                body: OAS.ref("ClusterActionRequest"), responses: [200: ("done (or planned)", OAS.ref("ClusterActionResponse"))]
            ),
            .init(
                method: "GET", path: "\(cluster)/metrics/distribution", summary: "Agents per node, type and tenant", tag: "cluster",
                responses: [200: ("distribution", OAS.ref("Distribution"))]
            ),
            .init(
                method: "GET", path: "/api/v1/tasks/{id}", summary: "A task's status and result", tag: "tasks",
                query: [
                    OpenAPIOperation.wait,
                    OpenAPIOperation.query("timeout_s", OAS.number(minimum: 0, maximum: 3_600), "with wait=true: longest wait (default: until the deadline)"),
                    OpenAPIOperation.tenantScope,
                ],
                responses: [200: ("the task", OAS.ref("Task"))], errors: [400, 409]
            ),
            .init(
                method: "GET", path: "/api/v1/events", summary: "Cluster events, oldest first (a tenant sees its own nodes' and agents')", tag: "cluster",
                query: [
                    OpenAPIOperation.query("after", OAS.integer(minimum: 0), "only events after this sequence (the same as cursor)"), limit,
                    OpenAPIOperation.query("cursor", OAS.string(), "the `next_cursor` of the previous page (an event's sequence)"),
                    OpenAPIOperation.query("tenant", OAS.string(), "admins: only this tenant's events"),
                ],
                responses: [200: ("events", OAS.list(of: OAS.ref("ClusterEvent")))], errors: [400]
            ),
        ]
    }
}
