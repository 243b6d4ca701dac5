import Foundation

/// A workflow as users write it (YAML or JSON): named steps over a shared JSON state.
/// `docs/workflows.md` describes every field.
public struct WorkflowDefinition: Codable, Sendable, Hashable {
    public var name: String
    public var description: String?
    public var steps: [StepDefinition]
    public var config: WorkflowConfig?
    /// Optional JSON-Schema-like checks on the run input: `required` keys and `properties.*.type`.
    public var inputSchema: JSONValue?
    /// Warm agent pools the steps may take agents from, by pool name.
    public var pools: [String: PoolDefinition]?

    public init(
        name: String, description: String? = nil, steps: [StepDefinition], config: WorkflowConfig? = nil,
        inputSchema: JSONValue? = nil, pools: [String: PoolDefinition]? = nil
    ) {
        self.name = name
        self.description = description
        self.steps = steps
        self.config = config
        self.inputSchema = inputSchema
        self.pools = pools
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, description, steps, config, pools
        case inputSchema = "input_schema"
    }

    /// The configuration with defaults filled in.
    public var effectiveConfig: WorkflowConfig { config ?? WorkflowConfig() }
}

/// Run-wide settings.
public struct WorkflowConfig: Codable, Sendable, Hashable {
    public enum CleanupPolicy: String, Codable, Sendable, CaseIterable {
        /// Agents the run deployed are removed when it ends, whatever the outcome.
        case always
        /// Removed when the run succeeds, kept for inspection when it fails.
        case onSuccess = "on_success"
        /// Never removed by the run.
        case never
    }

    public enum FailureStrategy: String, Codable, Sendable, CaseIterable {
        /// The first step that fails for good fails the run; running steps are abandoned.
        case failFast = "fail_fast"
        /// Steps that do not depend on the failed one go on; the run fails at the end.
        case `continue`
    }

    public var cleanupPolicy: CleanupPolicy
    public var failureStrategy: FailureStrategy
    /// The whole run's time limit.
    public var timeout: WorkflowDuration?
    /// Add a `profile` to the run view: per-step durations and map item latency percentiles.
    public var enableProfiling: Bool

    public init(cleanupPolicy: CleanupPolicy = .always, failureStrategy: FailureStrategy = .failFast, timeout: WorkflowDuration? = nil, enableProfiling: Bool = false) {
        self.cleanupPolicy = cleanupPolicy
        self.failureStrategy = failureStrategy
        self.timeout = timeout
        self.enableProfiling = enableProfiling
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        cleanupPolicy = try container.decodeIfPresent(CleanupPolicy.self, forKey: .cleanupPolicy) ?? .always
        failureStrategy = try container.decodeIfPresent(FailureStrategy.self, forKey: .failureStrategy) ?? .failFast
        timeout = try container.decodeIfPresent(WorkflowDuration.self, forKey: .timeout)
        enableProfiling = try container.decodeIfPresent(Bool.self, forKey: .enableProfiling) ?? false
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case timeout
        case cleanupPolicy = "cleanup_policy"
        case failureStrategy = "failure_strategy"
        case enableProfiling = "enable_profiling"
    }
}

/// The kinds of step.
public enum StepType: String, Codable, Sendable, CaseIterable {
    case task, parallel, map, decision
    case subWorkflow = "sub_workflow"
    case wait
}

/// One step. Which fields matter depends on `type`; the validator says which are missing.
public struct StepDefinition: Codable, Sendable, Hashable {
    public var id: String
    /// Kept as written so an unknown type is reported with its path, not as a decoding error.
    public var type: String
    public var agentType: String?
    public var pool: String?
    public var input: JSONValue?
    public var outputPath: String?
    /// Steps that must end first. Absent: the step listed before (none for the first).
    /// `[]`: none. Targets of a decision depend on the decision.
    public var dependsOn: [String]?
    public var condition: WorkflowCondition?
    public var retryPolicy: RetryPolicy?
    public var timeout: WorkflowDuration?
    /// `parallel`: the steps run at once.
    public var steps: [StepDefinition]?
    public var mapConfig: MapConfig?
    public var decisionNode: DecisionNode?
    /// `sub_workflow`: the registered workflow to run; `input` is its input.
    public var subWorkflowID: String?
    /// `wait`: the signal to wait for.
    public var signal: String?
    /// `wait`: how long to wait (or, with `signal`, the longest to wait for it).
    public var duration: WorkflowDuration?

    public init(
        id: String, type: StepType, agentType: String? = nil, pool: String? = nil, input: JSONValue? = nil,
        outputPath: String? = nil, dependsOn: [String]? = nil, condition: WorkflowCondition? = nil,
        retryPolicy: RetryPolicy? = nil, timeout: WorkflowDuration? = nil, steps: [StepDefinition]? = nil,
        mapConfig: MapConfig? = nil, decisionNode: DecisionNode? = nil, subWorkflowID: String? = nil,
        signal: String? = nil, duration: WorkflowDuration? = nil
    ) {
        self.id = id
        self.type = type.rawValue
        self.agentType = agentType
        self.pool = pool
        self.input = input
        self.outputPath = outputPath
        self.dependsOn = dependsOn
        self.condition = condition
        self.retryPolicy = retryPolicy
        self.timeout = timeout
        self.steps = steps
        self.mapConfig = mapConfig
        self.decisionNode = decisionNode
        self.subWorkflowID = subWorkflowID
        self.signal = signal
        self.duration = duration
    }

    /// The type, when it is one Drover knows.
    public var kind: StepType? { StepType(rawValue: type) }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, type, pool, input, condition, timeout, steps, signal, duration
        case agentType = "agent_type"
        case outputPath = "output_path"
        case dependsOn = "depends_on"
        case retryPolicy = "retry_policy"
        case mapConfig = "map_config"
        case decisionNode = "decision_node"
        case subWorkflowID = "sub_workflow_id"
    }
}

/// How a `map` step fans out over a list.
public struct MapConfig: Codable, Sendable, Hashable {
    public enum ErrorHandling: String, Codable, Sendable, CaseIterable {
        /// A failed item leaves `null` in the results; the step succeeds.
        case continueOnError = "continue_on_error"
        /// The first item that fails for good fails the step.
        case failFast = "fail_fast"
    }

    /// Where the list is in the state.
    public var inputPath: String
    /// The name the current item has in `input` references (`$.item` by default); its index
    /// is `$.<alias>_index`.
    public var itemAlias: String
    /// Most items in flight at once.
    public var maxConcurrency: Int
    public var errorHandling: ErrorHandling

    public init(inputPath: String, itemAlias: String = "item", maxConcurrency: Int = 10, errorHandling: ErrorHandling = .failFast) {
        self.inputPath = inputPath
        self.itemAlias = itemAlias
        self.maxConcurrency = maxConcurrency
        self.errorHandling = errorHandling
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        inputPath = try container.decode(String.self, forKey: .inputPath)
        itemAlias = try container.decodeIfPresent(String.self, forKey: .itemAlias) ?? "item"
        maxConcurrency = try container.decodeIfPresent(Int.self, forKey: .maxConcurrency) ?? 10
        errorHandling = try container.decodeIfPresent(ErrorHandling.self, forKey: .errorHandling) ?? .failFast
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case inputPath = "input_path"
        case itemAlias = "item_alias"
        case maxConcurrency = "max_concurrency"
        case errorHandling = "error_handling"
    }
}

/// A `decision` step: the first choice whose condition holds names the next step.
public struct DecisionNode: Codable, Sendable, Hashable {
    public struct Choice: Codable, Sendable, Hashable {
        public var condition: WorkflowCondition
        public var next: String

        public init(condition: WorkflowCondition, next: String) {
            self.condition = condition
            self.next = next
        }
    }

    /// What the conditions test (the whole state when absent).
    public var inputPath: String?
    public var choices: [Choice]
    /// The step taken when no choice holds; without one the decision fails.
    public var `default`: String?

    public init(inputPath: String? = nil, choices: [Choice], default: String? = nil) {
        self.inputPath = inputPath
        self.choices = choices
        self.default = `default`
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case choices, `default`
        case inputPath = "input_path"
    }

    /// Every step a choice or the default can lead to.
    public var targets: [String] { choices.map(\.next) + (self.default.map { [$0] } ?? []) }
}

/// A pool of warm agents of one type that steps share.
public struct PoolDefinition: Codable, Sendable, Hashable {
    /// The agent type (the pool's name when absent).
    public var agentType: String?
    public var agentConfig: JSONValue?
    public var poolConfig: PoolConfig

    public init(agentType: String? = nil, agentConfig: JSONValue? = nil, poolConfig: PoolConfig = PoolConfig()) {
        self.agentType = agentType
        self.agentConfig = agentConfig
        self.poolConfig = poolConfig
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        agentType = try container.decodeIfPresent(String.self, forKey: .agentType)
        agentConfig = try container.decodeIfPresent(JSONValue.self, forKey: .agentConfig)
        poolConfig = try container.decodeIfPresent(PoolConfig.self, forKey: .poolConfig) ?? PoolConfig()
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case agentType = "agent_type"
        case agentConfig = "agent_config"
        case poolConfig = "pool_config"
    }
}

/// Size and lifetime of a pool.
public struct PoolConfig: Codable, Sendable, Hashable {
    /// Agents kept even when idle.
    public var minSize: Int
    /// Most agents the pool grows to.
    public var maxSize: Int
    /// An agent above `min_size` idle this long is removed.
    public var idleTimeout: WorkflowDuration
    /// Deploy `min_size` agents when the workflow is registered, not at first use.
    public var warmUp: Bool

    public init(minSize: Int = 0, maxSize: Int = 4, idleTimeout: WorkflowDuration = .init(seconds: 300), warmUp: Bool = false) {
        self.minSize = minSize
        self.maxSize = maxSize
        self.idleTimeout = idleTimeout
        self.warmUp = warmUp
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        minSize = try container.decodeIfPresent(Int.self, forKey: .minSize) ?? 0
        maxSize = try container.decodeIfPresent(Int.self, forKey: .maxSize) ?? 4
        idleTimeout = try container.decodeIfPresent(WorkflowDuration.self, forKey: .idleTimeout) ?? .init(seconds: 300)
        warmUp = try container.decodeIfPresent(Bool.self, forKey: .warmUp) ?? false
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case minSize = "min_size"
        case maxSize = "max_size"
        case idleTimeout = "idle_timeout"
        case warmUp = "warm_up"
    }
}
