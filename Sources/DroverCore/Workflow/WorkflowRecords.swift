import Foundation

/// A registered version of a workflow definition.
public struct WorkflowRecord: Codable, Sendable, Hashable {
    public var name: String
    /// 1 for the first registration; each changed definition adds one.
    public var version: Int
    public var tenant: String
    public var definition: WorkflowDefinition
    public var createdAt: Date

    public init(name: String, version: Int, tenant: String, definition: WorkflowDefinition, createdAt: Date) {
        self.name = name
        self.version = version
        self.tenant = tenant
        self.definition = definition
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case name, version, tenant, definition
        case createdAt = "created_at"
    }
}

/// A run as listed: who, what, where it is. The full picture (`steps`, `state`) comes from its history.
public struct WorkflowRunRecord: Codable, Sendable, Hashable {
    public var id: String
    public var workflow: String
    public var version: Int
    public var tenant: String
    public var status: WorkflowRunStatus
    public var input: JSONValue
    /// The final state, once completed.
    public var output: JSONValue?
    public var error: String?
    /// For a sub-workflow run: the run and step that started it.
    public var parentRunID: String?
    public var parentStep: String?
    public var createdAt: Date
    public var updatedAt: Date
    public var finishedAt: Date?

    public init(
        id: String, workflow: String, version: Int, tenant: String, status: WorkflowRunStatus = .running, input: JSONValue,
        output: JSONValue? = nil, error: String? = nil, parentRunID: String? = nil, parentStep: String? = nil,
        createdAt: Date, updatedAt: Date, finishedAt: Date? = nil
    ) {
        self.id = id
        self.workflow = workflow
        self.version = version
        self.tenant = tenant
        self.status = status
        self.input = input
        self.output = output
        self.error = error
        self.parentRunID = parentRunID
        self.parentStep = parentStep
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.finishedAt = finishedAt
    }

    enum CodingKeys: String, CodingKey {
        case id, workflow, version, tenant, status, input, output, error
        case parentRunID = "parent_run_id"
        case parentStep = "parent_step"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case finishedAt = "finished_at"
    }
}

/// Which runs to list.
public struct WorkflowRunFilter: Sendable, Hashable {
    public var workflow: String?
    public var status: WorkflowRunStatus?
    public var tenant: String?
    /// Only runs created before the run with this id, of `tenant` when it is set (paging, newest first).
    public var before: String?
    public var limit: Int

    public init(workflow: String? = nil, status: WorkflowRunStatus? = nil, tenant: String? = nil, before: String? = nil, limit: Int = 50) {
        self.workflow = workflow
        self.status = status
        self.tenant = tenant
        self.before = before
        self.limit = limit
    }
}

extension WorkflowDefinition {
    /// The definition with each pool's `agent_config` passed through `transform` (to seal, open
    /// or redact its secrets).
    public func mappingPoolConfigs(_ transform: (JSONValue) throws -> JSONValue) rethrows -> WorkflowDefinition {
        guard let pools else { return self }
        var copy = self
        copy.pools = try pools.mapValues { pool in
            var changed = pool
            changed.agentConfig = try pool.agentConfig.map(transform)
            return changed
        }
        return copy
    }
}

extension WorkflowRecord {
    /// The record with pool secrets shown as `"***"`: what API answers carry.
    public var redacted: WorkflowRecord {
        var copy = self
        copy.definition = definition.mappingPoolConfigs { ConfigSecrets.redact($0) }
        return copy
    }
}
