import DroverCore

extension OpenAPIDocument {
    /// Workflow definitions, runs, their views and histories (`docs/workflows.md` has the prose).
    static var workflowSchemas: [String: JSONValue] {
        let duration: JSONValue = [
            "description": "seconds (2.5) or a string with a unit: \"500ms\", \"30s\", \"5m\", \"2h\"",
            "anyOf": [OAS.number(minimum: 0, maximum: WorkflowDuration.maxSeconds), OAS.string(pattern: "^[0-9]{1,9}(\\.[0-9]{1,6})?(ms|s|m|h)?$")],
        ]
        let runStatus = OAS.string(enum: WorkflowRunStatus.allCases.map(\.rawValue))
        return [
            "Duration": duration,
            "Condition": [
                "description": "{field, operator, value}, or and / or / not of conditions",
                "anyOf": [
                    OAS.object(["field": OAS.string(), "operator": OAS.string(), "value": OAS.anyJSON()], required: ["field"]),
                    OAS.object(["and": OAS.array(OAS.ref("Condition"))], required: ["and"]),
                    OAS.object(["or": OAS.array(OAS.ref("Condition"))], required: ["or"]),
                    OAS.object(["not": OAS.ref("Condition")], required: ["not"]),
                ],
            ],
            "RetryPolicy": OAS.object([
                "max_attempts": OAS.integer(), "backoff": OAS.string(enum: RetryPolicy.Backoff.allCases.map(\.rawValue)),
                "delay": OAS.ref("Duration"), "max_delay": OAS.ref("Duration"),
            ]),
            "Step": step,
            "Pool": OAS.object([
                "agent_type": OAS.string(), "agent_config": OAS.anyJSON(),
                "pool_config": OAS.object([
                    "min_size": OAS.integer(), "max_size": OAS.integer(), "idle_timeout": OAS.ref("Duration"), "warm_up": OAS.boolean,
                ]),
            ]),
            "WorkflowDefinition": OAS.object([
                "name": OAS.name("the workflow's name ('runs' is reserved)"), "description": OAS.string(),
                "steps": OAS.array(OAS.ref("Step"), minItems: 1, maxItems: WorkflowValidator.maxSteps),
                "config": OAS.object([
                    "cleanup_policy": OAS.string(enum: WorkflowConfig.CleanupPolicy.allCases.map(\.rawValue)),
                    "failure_strategy": OAS.string(enum: WorkflowConfig.FailureStrategy.allCases.map(\.rawValue)),
                    "timeout": OAS.ref("Duration"), "enable_profiling": OAS.boolean,
                ]),
                "input_schema": OAS.anyJSON("checks on the run input: type, required, properties.*.type"),
                "pools": OAS.map(OAS.ref("Pool")),
            ], required: ["name", "steps"], description: "docs/workflows.md describes every field; fields not listed here are refused (422)"),
            "Workflow": OAS.object([
                "name": OAS.string(), "version": OAS.integer(), "tenant": OAS.string(), "definition": OAS.ref("WorkflowDefinition"),
                "created_at": OAS.dateTime,
            ], required: ["name", "version", "tenant", "definition", "created_at"]),
            "WorkflowRunRequest": OAS.object([
                "input": OAS.anyJSON("the run's input (default {})"),
                "run_id": OAS.name("idempotency key: starting a run with an existing id returns that run", maxLength: 96),
                "version": OAS.integer("a registered version (default: the newest)"),
            ]),
            "WorkflowRun": OAS.object([
                "id": OAS.string(), "workflow": OAS.string(), "version": OAS.integer(), "tenant": OAS.string(), "status": runStatus,
                "input": OAS.anyJSON(), "output": OAS.anyJSON(), "error": OAS.string(), "parent_run_id": OAS.string(), "parent_step": OAS.string(),
                "created_at": OAS.dateTime, "updated_at": OAS.dateTime, "finished_at": OAS.dateTime,
            ], required: ["id", "workflow", "version", "tenant", "status", "input", "created_at", "updated_at"]),
            "RunPage": OAS.object([
                "items": OAS.array(OAS.ref("WorkflowRun")), "next_cursor": OAS.string("pass as `cursor` for the next page; absent on the last page"),
                "next": OAS.string("the same as next_cursor (the name of the first version)"),
            ], required: ["items"]),
            "WorkflowRunView": runView,
            "WorkflowEvent": OAS.object([
                "sequence": OAS.integer(), "at": OAS.dateTime, "kind": OAS.string(enum: WorkflowEvent.Kind.allCases.map(\.rawValue)),
                "step": OAS.string(), "item": OAS.integer(), "attempt": OAS.integer(), "task_id": OAS.string(), "agent_id": OAS.string(),
                "agent_type": OAS.string(), "node_id": OAS.string(), "data": OAS.anyJSON(), "error": OAS.string(), "retry_at": OAS.dateTime,
                "until": OAS.dateTime, "next": OAS.string(), "signal": OAS.string(), "child_run_id": OAS.string(), "count": OAS.integer(),
                "propagates": OAS.boolean,
            ], required: ["sequence", "at", "kind"]),
        ]
    }

    private static var step: JSONValue {
        OAS.object([
            "id": OAS.string("unique in the workflow: letters, digits, '_' or '-'"),
            "type": OAS.string("task, parallel, map, decision, sub_workflow or wait"),
            "agent_type": OAS.string(), "pool": OAS.string(), "input": OAS.anyJSON("literal JSON with references into the state"),
            "output_path": OAS.string(), "depends_on": OAS.array(OAS.string()), "condition": OAS.ref("Condition"),
            "retry_policy": OAS.ref("RetryPolicy"), "timeout": OAS.ref("Duration"), "steps": OAS.array(OAS.ref("Step")),
            "map_config": OAS.object([
                "input_path": OAS.string(), "item_alias": OAS.string(), "max_concurrency": OAS.integer(),
                "error_handling": OAS.string(enum: MapConfig.ErrorHandling.allCases.map(\.rawValue)),
            ], required: ["input_path"]),
            "decision_node": OAS.object([
                "input_path": OAS.string(),
                "choices": OAS.array(OAS.object(["condition": OAS.ref("Condition"), "next": OAS.string()], required: ["condition", "next"])),
                "default": OAS.string(),
            ], required: ["choices"]),
            "sub_workflow_id": OAS.string(), "signal": OAS.string(), "duration": OAS.ref("Duration"),
        ], required: ["id", "type"])
    }

    /// When a step started and ended, relative to the run's start.
    private static var timelineEntry: JSONValue {
        OAS.object([
            "step": OAS.string(), "status": OAS.string(enum: WorkflowStepStatus.allCases.map(\.rawValue)),
            "start_ms": OAS.number(), "end_ms": OAS.number(),
        ], required: ["step", "status", "start_ms"])
    }

    /// Per-step durations and map item latencies (only with `config.enable_profiling`).
    private static var profile: JSONValue {
        let items = OAS.object(
            ["count": OAS.integer(), "retried": OAS.integer(), "p50_ms": OAS.number(), "p95_ms": OAS.number(), "max_ms": OAS.number()],
            required: ["count", "retried", "p50_ms", "p95_ms", "max_ms"]
        )
        let step = OAS.object(
            ["step": OAS.string(), "duration_ms": OAS.number(), "attempts": OAS.integer(), "items": items],
            required: ["step", "attempts"]
        )
        return OAS.object(["total_ms": OAS.number(), "steps": OAS.array(step)], required: ["steps"])
    }

    private static var runView: JSONValue {
        let stepView = OAS.object([
            "id": OAS.string(), "type": OAS.string(), "status": OAS.string(enum: WorkflowStepStatus.allCases.map(\.rawValue)),
            "attempts": OAS.integer(), "started_at": OAS.dateTime, "finished_at": OAS.dateTime, "duration_ms": OAS.number(),
            "agent_id": OAS.string(), "node_id": OAS.string(), "error": OAS.string(), "next": OAS.string(), "child_run_id": OAS.string(),
            "items": OAS.object(
                ["total": OAS.integer(), "completed": OAS.integer(), "failed": OAS.integer(), "running": OAS.integer(), "retrying": OAS.integer()],
                required: ["total", "completed", "failed", "running", "retrying"]
            ),
        ], required: ["id", "type", "status", "attempts"])
        return OAS.object([
            "id": OAS.string(), "workflow": OAS.string(), "version": OAS.integer(), "tenant": OAS.string(),
            "status": OAS.string(enum: WorkflowRunStatus.allCases.map(\.rawValue)), "input": OAS.anyJSON(), "state": OAS.anyJSON(),
            "error": OAS.string(), "parent_run_id": OAS.string(), "created_at": OAS.dateTime, "started_at": OAS.dateTime,
            "finished_at": OAS.dateTime, "duration_ms": OAS.number(), "steps": OAS.array(stepView),
            "pending_signals": OAS.array(OAS.string()), "history_length": OAS.integer(),
            "timeline": OAS.array(timelineEntry), "profile": profile,
        ], required: [
            "id", "workflow", "version", "tenant", "status", "input", "state", "created_at", "steps", "pending_signals", "history_length",
            "timeline",
        ])
    }
}
