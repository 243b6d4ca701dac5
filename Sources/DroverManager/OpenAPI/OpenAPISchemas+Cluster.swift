import DroverCore

extension OpenAPIDocument {
    /// Nodes, agents, tasks, events, placement and the error body.
    static var clusterSchemas: [String: JSONValue] {
        let nodeStatus = OAS.string(enum: NodeStatus.allCases.map(\.rawValue))
        let resourceFields: [String: JSONValue] = [
            "cpu": OAS.number("CPU cores (fractions allowed)"), "memory_mb": OAS.number("memory in MiB"), "gpu": OAS.integer("whole GPUs"),
        ]
        return [
            "ErrorBody": OAS.object([
                "error": OAS.object([
                    "code": OAS.string("machine-readable reason, e.g. not_found, invalid_body, unauthorized"),
                    "message": OAS.string("what went wrong, for people"),
                    "path": OAS.string("where in the request the fault is"),
                    "problems": OAS.array(OAS.object(["path": OAS.string(), "message": OAS.string()], required: ["path", "message"])),
                ], required: ["code", "message"]),
            ], required: ["error"], description: "Every error: {\"error\": {\"code\", \"message\"}}"),
            "Health": OAS.object([
                "status": OAS.string("ok, or degraded while the store refuses writes", enum: ["ok", "degraded"]), "role": OAS.string(), "version": OAS.string(),
                "store": OAS.object([
                    "status": OAS.string(enum: ["ok", "failing"]), "failing_since": OAS.dateTime, "error": OAS.string(),
                    "failed_writes": OAS.integer("writes refused since the manager started", minimum: 0),
                ], required: ["status", "failed_writes"], description: "whether the store takes writes"),
            ], required: ["status", "role", "version"]),
            "Resources": OAS.object(resourceFields, required: ["cpu", "memory_mb", "gpu"]),
            "ResourceRequest": OAS.object([
                "cpu": OAS.number("CPU cores", minimum: 0, maximum: ResourceSpec.maxAmount),
                "memory_mb": OAS.number("memory in MiB", minimum: 0, maximum: ResourceSpec.maxAmount),
                "gpu": OAS.integer("whole GPUs", minimum: 0, maximum: Int(ResourceSpec.maxAmount)),
            ], description: "absent fields are 0"),
            "NodeResources": OAS.object([
                "capacity": OAS.ref("Resources"), "load_1m": OAS.number(), "memory_available_mb": OAS.number(),
            ], required: ["capacity"]),
            "Node": OAS.object([
                "id": OAS.string(), "tenant": OAS.string(), "name": OAS.string(), "host_address": OAS.string(), "api_port": OAS.integer(),
                "capabilities": OAS.array(OAS.string()), "labels": OAS.map(OAS.string()),
                "agent_types": OAS.array(OAS.object(
                    ["name": OAS.string(), "driver": OAS.string(), "resources": OAS.ref("Resources")], required: ["name", "driver", "resources"]
                )),
                "resources": OAS.ref("NodeResources"), "max_agents": OAS.integer(), "status": nodeStatus,
                "connection": OAS.string(enum: ["websocket", "http"]), "health_score": OAS.number(), "metadata": OAS.map(OAS.anyJSON()),
                "registered_at": OAS.dateTime, "last_heartbeat": OAS.dateTime, "incarnation": OAS.string(), "shared": OAS.boolean,
            ], required: [
                "id", "tenant", "name", "host_address", "api_port", "capabilities", "labels", "agent_types", "resources", "max_agents",
                "status", "connection", "metadata", "registered_at", "last_heartbeat", "incarnation",
            ]),
            "ContainerRegisterRequest": OAS.object([
                "container_name": OAS.name("the node id"), "host_address": OAS.string(maxLength: 256), "api_port": OAS.integer(minimum: 0, maximum: 65_535),
                "capabilities": OAS.array(OAS.string(maxLength: 128), maxItems: 64), "resources": nodeResourceMap,
                "metadata": OAS.map(OAS.anyJSON()), "orchestrator_id": OAS.name("the tenant (admins only; others register for their own)"),
            ], required: ["container_name"]),
            "ContainerHeartbeatRequest": OAS.object([
                "health_score": OAS.number(), "resources": nodeResourceMap, "active_agents": OAS.integer(minimum: 0),
            ]),
            "ContainerRegisterResponse": OAS.object([
                "container_id": OAS.string(), "status": nodeStatus, "heartbeat_interval_s": OAS.number(),
            ], required: ["container_id", "status", "heartbeat_interval_s"]),
            "NodeUpdateRequest": OAS.object(["shared": OAS.boolean]),
            "ClusterStatus": OAS.object([
                "version": OAS.string(), "nodes": OAS.map(OAS.integer()), "agents": OAS.map(OAS.integer()), "open_tasks": OAS.integer(),
                "capacity": OAS.ref("Resources"), "allocated": OAS.ref("Resources"), "uptime_s": OAS.number(),
            ], required: ["version", "nodes", "agents", "open_tasks", "capacity", "allocated", "uptime_s"]),
            "DeployRequest": deployRequest,
            "Agent": agent,
            "TaskSubmitRequest": OAS.object([
                "input": OAS.anyJSON("the task's input (null when absent)"),
                "timeout_s": OAS.number(
                    "seconds until the task times out (default 60; at most the manager's --max-task-timeout, 86400 unless set)",
                    minimum: 0, maximum: 86_400, exclusiveMinimum: true
                ),
                "task_id": OAS.name("idempotency key: a second submit with the same id returns the first task"),
            ]),
            "Task": task,
            "MigrateRequest": OAS.object([
                "target_container_id": OAS.string("the node to move to; absent: the scheduler picks one"), "reason": OAS.string(),
                "preserve_state": OAS.boolean,
            ]),
            "MigrateResponse": OAS.object(["agent": OAS.ref("Agent"), "from": OAS.string(), "to": OAS.string()], required: ["agent", "to"]),
            "ClusterActionRequest": OAS.object([
                "action": OAS.string(enum: ClusterActionRequest.Action.allCases.map(\.rawValue)), "dry_run": OAS.boolean,
                "max_moves": OAS.integer("rebalance: most moves (default 10)", minimum: 1, maximum: 1_000),
            ], required: ["action"]),
            "ClusterActionResponse": OAS.object([
                "action": OAS.string(enum: ClusterActionRequest.Action.allCases.map(\.rawValue)), "dry_run": OAS.boolean,
                "moves": OAS.array(OAS.object(["agent_id": OAS.string(), "from": OAS.string(), "to": OAS.string()], required: ["agent_id", "from", "to"])),
                "nodes": OAS.map(nodeStatus),
            ], required: ["action", "dry_run", "moves", "nodes"]),
            "Distribution": OAS.object([
                "agents_per_node": OAS.map(OAS.integer()), "agents_per_type": OAS.map(OAS.integer()), "agents_per_tenant": OAS.map(OAS.integer()),
                "nodes": OAS.array(OAS.object([
                    "node_id": OAS.string(), "status": nodeStatus, "agents": OAS.integer(), "capacity": OAS.ref("Resources"),
                    "used": OAS.ref("Resources"), "free": OAS.ref("Resources"),
                ], required: ["node_id", "status", "agents", "capacity", "used", "free"])),
            ], required: ["agents_per_node", "agents_per_type", "agents_per_tenant", "nodes"]),
            "ClusterEvent": OAS.object([
                "sequence": OAS.integer(), "at": OAS.dateTime, "kind": OAS.string(), "node_id": OAS.string(), "agent_id": OAS.string(),
                "tenant": OAS.string("the tenant it concerns; absent for shared nodes and the cluster"), "message": OAS.string(),
            ], required: ["sequence", "at", "kind", "message"]),
        ]
    }

    /// The seed platform's free-form resource map; the numbers Drover reads are checked.
    private static var nodeResourceMap: JSONValue {
        let amount = OAS.number(minimum: 0, maximum: ResourceSpec.maxAmount)
        var schema = OAS.object(
            [
                "cpu_cores": amount, "cpu": amount, "memory_mb": amount, "memory_gb": OAS.number(minimum: 0, maximum: ResourceSpec.maxAmount / 1024),
                "gpu": amount, "load_1m": amount, "cpu_usage": amount,
            ],
            description: "cpu_cores or cpu, memory_mb or memory_gb, gpu, load_1m or cpu_usage; other keys are kept as given"
        ).objectValue ?? [:]
        schema["additionalProperties"] = OAS.anyJSON()
        return .object(schema)
    }

    private static var deployRequest: JSONValue {
        OAS.object([
            "agent_type": OAS.name("an agent type some node offers"),
            "agent_config": OAS.map(OAS.anyJSON(), description: "the agent's configuration (a JSON object, at most 32 levels deep); `secret://` values and the `secrets` object are stored encrypted and answered as `***`"),
            "deployment_strategy": OAS.string(enum: PlacementStrategy.allCases.map(\.rawValue)),
            "preferred_container": OAS.string("a node to prefer"),
            "orchestrator_id": OAS.name("the tenant (admins only; default `default`)"),
            "resource_requirements": OAS.ref("ResourceRequest"),
            "required_capabilities": OAS.array(OAS.string(), maxItems: 64),
            "node_selector": OAS.map(OAS.string(), maxProperties: 64), "labels": OAS.map(OAS.string(), maxProperties: 64),
            "constraints": OAS.object([
                "min_memory": OAS.number("smallest node memory in MiB", minimum: 0, maximum: ResourceSpec.maxAmount),
                "min_cpu": OAS.number("fewest node CPU cores", minimum: 0, maximum: ResourceSpec.maxAmount),
                "required_capabilities": OAS.array(OAS.string(), maxItems: 64),
            ]),
            "spread_by": OAS.string("for deployment_strategy spread: the node label to spread over (required then)"),
            "replicas": OAS.integer("place this many agents of the spec in one call, all or none; the answer is then a list", minimum: 1, maximum: 10_000),
        ], required: ["agent_type"])
    }

    private static var agent: JSONValue {
        OAS.object([
            "id": OAS.string(), "agent_type": OAS.string(), "tenant": OAS.string(), "config": OAS.anyJSON(), "node_id": OAS.string(),
            "generation": OAS.integer(), "desired_state": OAS.string(enum: ["running", "stopped"]),
            "status": OAS.string(enum: AgentStatus.allCases.map(\.rawValue)), "state": OAS.anyJSON("the last checkpointed state"),
            "resources": OAS.ref("Resources"), "required_capabilities": OAS.array(OAS.string()), "node_selector": OAS.map(OAS.string()),
            "labels": OAS.map(OAS.string()), "deployment_strategy": OAS.string(enum: PlacementStrategy.allCases.map(\.rawValue)),
            "preferred_node": OAS.string(), "restarts": OAS.integer(), "last_error": OAS.string(), "failed_nodes": OAS.array(OAS.string()),
            "min_node_capacity": OAS.ref("Resources"), "spread_by": OAS.string(), "created_at": OAS.dateTime, "updated_at": OAS.dateTime,
        ], required: [
            "id", "agent_type", "tenant", "config", "generation", "desired_state", "status", "resources", "required_capabilities",
            "node_selector", "labels", "deployment_strategy", "restarts", "created_at", "updated_at",
        ])
    }

    private static var task: JSONValue {
        OAS.object([
            "id": OAS.string(), "agent_id": OAS.string(), "tenant": OAS.string(), "input": OAS.anyJSON(),
            "status": OAS.string(enum: TaskStatus.allCases.map(\.rawValue)), "output": OAS.anyJSON(), "error": OAS.string(),
            "attempt": OAS.integer(), "generation": OAS.integer(), "node_id": OAS.string(), "timeout_s": OAS.number(),
            "created_at": OAS.dateTime, "dispatched_at": OAS.dateTime, "completed_at": OAS.dateTime, "deadline": OAS.dateTime,
            "workflow": OAS.object(["run_id": OAS.string(), "step_id": OAS.string(), "item": OAS.integer(), "attempt": OAS.integer()]),
        ], required: ["id", "agent_id", "tenant", "input", "status", "attempt", "timeout_s", "created_at", "deadline"])
    }
}
