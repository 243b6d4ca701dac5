import Foundation

/// The payloads of the node ↔ manager protocol (see `NodeMessage`).
public enum NodeProtocol {
    /// Protocol revision; a node and manager with different majors refuse each other.
    /// 2: agent lists in parts (`agents_more`, `agent.list`) and heartbeat digests
    /// (`agents_digest`, `agent.list.request`).
    public static let version = 2

    /// An agent a node is running, with the generation it was given.
    public struct RunningAgent: Codable, Sendable, Hashable {
        /// A short fingerprint of a list of running agents, the same whatever their order:
        /// how many, and a 64-bit FNV-1a hash of each one's id, generation, status and restarts
        /// (sorted by id). Node and manager compute it alike.
        public static func digest(_ agents: some Sequence<RunningAgent>) -> String {
            digest(Array(agents))
        }

        /// `digest` of an array, sorted here (not generic, so nothing goes through witness tables:
        /// a manager computes one per node after each change to what the node runs).
        public static func digest(_ agents: [RunningAgent]) -> String {
            var hash = DigestHash()
            let bar = UInt8(ascii: "|")
            for agent in agents.sorted(by: { $0.agentID < $1.agentID }) {
                // The bytes of "ID|GENERATION|STATUS|RESTARTS\n", fed without building the line.
                hash.feed(agent.agentID)
                hash.feed(bar)
                hash.feedDecimal(agent.generation)
                hash.feed(bar)
                hash.feed(agent.status.rawValue)
                hash.feed(bar)
                hash.feedDecimal(agent.restarts)
                hash.feed(UInt8(ascii: "\n"))
            }
            return "\(agents.count)-" + String(hash.value, radix: 16)
        }

        public var agentID: String
        public var generation: Int
        public var status: AgentStatus
        public var restarts: Int

        public init(agentID: String, generation: Int, status: AgentStatus, restarts: Int = 0) {
            self.agentID = agentID
            self.generation = generation
            self.status = status
            self.restarts = restarts
        }

        enum CodingKeys: String, CodingKey {
            case generation, status, restarts
            case agentID = "agent_id"
        }
    }

    /// First frame from the node: who it is and what it is running.
    public struct Hello: Codable, Sendable, Hashable {
        public var protocolVersion: Int
        public var nodeID: String
        public var tenant: String
        public var name: String
        public var hostAddress: String
        public var apiPort: Int
        public var capabilities: [String]
        public var labels: [String: String]
        public var agentTypes: [AgentTypeInfo]
        public var resources: NodeResources
        public var maxAgents: Int
        public var incarnation: String
        public var agents: [RunningAgent]
        /// `true` when `agents` is only the first part of the list: the rest follows in
        /// `agent.list` frames, the last one with `more: false` (see `AgentList`).
        public var agentsMore: Bool?

        public init(
            protocolVersion: Int = NodeProtocol.version, nodeID: String, tenant: String, name: String,
            hostAddress: String, apiPort: Int, capabilities: [String], labels: [String: String],
            agentTypes: [AgentTypeInfo], resources: NodeResources, maxAgents: Int, incarnation: String,
            agents: [RunningAgent], agentsMore: Bool? = nil
        ) {
            self.protocolVersion = protocolVersion
            self.nodeID = nodeID
            self.tenant = tenant
            self.name = name
            self.hostAddress = hostAddress
            self.apiPort = apiPort
            self.capabilities = capabilities
            self.labels = labels
            self.agentTypes = agentTypes
            self.resources = resources
            self.maxAgents = maxAgents
            self.incarnation = incarnation
            self.agents = agents
            self.agentsMore = agentsMore
        }

        enum CodingKeys: String, CodingKey {
            case name, capabilities, labels, resources, incarnation, agents, tenant
            case agentsMore = "agents_more"
            case protocolVersion = "protocol_version"
            case nodeID = "node_id"
            case hostAddress = "host_address"
            case apiPort = "api_port"
            case agentTypes = "agent_types"
            case maxAgents = "max_agents"
        }
    }

    /// The manager's answer to `hello`: the node is registered; heartbeat at this interval.
    public struct Welcome: Codable, Sendable, Hashable {
        public var nodeID: String
        public var heartbeatIntervalSeconds: Double
        public var heartbeatGraceSeconds: Double
        /// Sent once, to a node that joined with a join token: its own credential (`drn_…`),
        /// to keep and present on every reconnect from then on.
        public var nodeCredential: String?

        public init(nodeID: String, heartbeatIntervalSeconds: Double, heartbeatGraceSeconds: Double, nodeCredential: String? = nil) {
            self.nodeID = nodeID
            self.heartbeatIntervalSeconds = heartbeatIntervalSeconds
            self.heartbeatGraceSeconds = heartbeatGraceSeconds
            self.nodeCredential = nodeCredential
        }

        enum CodingKeys: String, CodingKey {
            case nodeID = "node_id"
            case heartbeatIntervalSeconds = "heartbeat_interval_s"
            case heartbeatGraceSeconds = "heartbeat_grace_s"
            case nodeCredential = "node_credential"
        }
    }

    public struct Heartbeat: Codable, Sendable, Hashable {
        public var resources: NodeResources
        /// Every agent the node runs; absent when unchanged since the last list sent on this
        /// session (a node with 10,000 agents does not send them all every few seconds).
        public var agents: [RunningAgent]?
        /// `true` when `agents` is only the first part of the list: the rest follows in
        /// `agent.list` frames, the last one with `more: false` (see `AgentList`).
        public var agentsMore: Bool?
        /// When `agents` is absent: `RunningAgent.digest` of the list the node runs, so the
        /// manager can tell that what it holds is still right without being sent the list
        /// (and sends `agent.list.request` when it is not).
        public var agentsDigest: String?

        public init(resources: NodeResources, agents: [RunningAgent]?, agentsMore: Bool? = nil, agentsDigest: String? = nil) {
            self.resources = resources
            self.agents = agents
            self.agentsMore = agentsMore
            self.agentsDigest = agentsDigest
        }

        enum CodingKeys: String, CodingKey {
            case resources, agents
            case agentsMore = "agents_more"
            case agentsDigest = "agents_digest"
        }
    }

    /// The manager's answer to a heartbeat whose `agents_digest` does not match what it holds:
    /// "send your whole list with the next heartbeat".
    public struct AgentListRequest: Codable, Sendable, Hashable {
        public var reason: String

        public init(reason: String) {
            self.reason = reason
        }
    }

    /// A further part of the running-agent list a `hello` or `heartbeat` began: a node with
    /// many agents (10,000 builtin ones is a normal node) sends its list in a few frames of
    /// at most `AgentList.partSize` agents rather than one frame over the size limit.
    public struct AgentList: Codable, Sendable, Hashable {
        /// Agents per frame: about 200 KB of JSON with long ids, well under the 1 MiB frame limit.
        public static let partSize = 2_000
        /// The longest agent id a list may carry (ids are at most 128 characters).
        public static let maxAgentIDBytes = 128

        /// Agents per frame for a frame limit of `frameBytes`: at most `partSize`, and few
        /// enough that a part of agents with the longest ids still fits.
        public static func partSize(forFrameBytes frameBytes: Int) -> Int {
            max(1, min(partSize, frameBytes / 256))
        }
        /// The longest list a manager assembles for one node.
        public static let maxAgents = 200_000

        public var agents: [RunningAgent]
        /// `false` on the last part.
        public var more: Bool

        public init(agents: [RunningAgent], more: Bool) {
            self.agents = agents
            self.more = more
        }

        /// `agents` cut for sending: the part that goes in the `hello` or `heartbeat` itself,
        /// whether more follows, and the `agent.list` frames that follow it.
        public static func split(_ agents: [RunningAgent], partSize: Int = partSize) -> (first: [RunningAgent], more: Bool, rest: [AgentList]) {
            let size = max(1, partSize)
            guard agents.count > size else { return (agents, false, []) }
            var rest: [AgentList] = []
            var start = size
            while start < agents.count {
                let end = min(start + size, agents.count)
                rest.append(AgentList(agents: Array(agents[start..<end]), more: end < agents.count))
                start = end
            }
            return (Array(agents[..<size]), true, rest)
        }
    }

    /// A running-agent list being put back together from a `hello` or `heartbeat` and the
    /// `agent.list` frames after it.
    public struct AgentListAssembly: Sendable, Hashable {
        public private(set) var agents: [RunningAgent]

        public init(first: [RunningAgent]) {
            agents = first
        }

        /// Adds one part; returns `true` once the list is whole. Throws when the list grows
        /// past `AgentList.maxAgents`.
        public mutating func add(_ part: AgentList) throws -> Bool {
            guard agents.count + part.agents.count <= AgentList.maxAgents else {
                throw NodeMessageError.malformed("the agent list is longer than \(AgentList.maxAgents) agents")
            }
            // Bounded in bytes too: a list cannot grow by ids no agent can have.
            guard part.agents.allSatisfy({ $0.agentID.utf8.count <= AgentList.maxAgentIDBytes }) else {
                throw NodeMessageError.malformed("an agent id in the list is longer than \(AgentList.maxAgentIDBytes) bytes")
            }
            agents += part.agents
            return !part.more
        }
    }

    /// Run `agentID` at `generation`, replacing any older generation of it.
    public struct AgentStart: Codable, Sendable, Hashable {
        public var agentID: String
        public var agentType: String
        public var generation: Int
        public var config: JSONValue
        public var state: JSONValue?

        public init(agentID: String, agentType: String, generation: Int, config: JSONValue, state: JSONValue?) {
            self.agentID = agentID
            self.agentType = agentType
            self.generation = generation
            self.config = config
            self.state = state
        }

        enum CodingKeys: String, CodingKey {
            case generation, config, state
            case agentID = "agent_id"
            case agentType = "agent_type"
        }
    }

    /// Stop `agentID` if the node runs it at `generation` or older.
    public struct AgentStop: Codable, Sendable, Hashable {
        public var agentID: String
        public var generation: Int
        public var reason: String

        public init(agentID: String, generation: Int, reason: String) {
            self.agentID = agentID
            self.generation = generation
            self.reason = reason
        }

        enum CodingKeys: String, CodingKey {
            case generation, reason
            case agentID = "agent_id"
        }
    }

    /// A change in an agent's life on the node.
    public struct AgentStatusReport: Codable, Sendable, Hashable {
        public var agentID: String
        public var generation: Int
        public var status: AgentStatus
        public var restarts: Int
        public var error: String?

        public init(agentID: String, generation: Int, status: AgentStatus, restarts: Int = 0, error: String? = nil) {
            self.agentID = agentID
            self.generation = generation
            self.status = status
            self.restarts = restarts
            self.error = error
        }

        enum CodingKeys: String, CodingKey {
            case generation, status, restarts, error
            case agentID = "agent_id"
        }
    }

    /// State the agent asked to keep; it is given back when the agent starts again anywhere.
    public struct AgentCheckpoint: Codable, Sendable, Hashable {
        public var agentID: String
        public var generation: Int
        public var state: JSONValue

        public init(agentID: String, generation: Int, state: JSONValue) {
            self.agentID = agentID
            self.generation = generation
            self.state = state
        }

        enum CodingKeys: String, CodingKey {
            case generation, state
            case agentID = "agent_id"
        }
    }

    /// What identifies one task on a node: its agent and its id together. Task ids are per
    /// tenant, and a shared node runs agents of several tenants, so two of its agents may each
    /// get a task with the same id; an agent belongs to one tenant, so the pair is unique.
    public static func deliveryKey(agentID: String, taskID: String) -> String { "\(agentID)/\(taskID)" }

    /// Run one task on one agent.
    public struct TaskRun: Codable, Sendable, Hashable {
        public var taskID: String
        public var agentID: String
        public var generation: Int
        public var input: JSONValue
        public var attempt: Int
        public var timeoutSeconds: Double
        /// For a workflow's task: the run, step and step attempt, so the agent can be idempotent.
        public var workflow: WorkflowTaskContext?

        public init(
            taskID: String, agentID: String, generation: Int, input: JSONValue, attempt: Int, timeoutSeconds: Double,
            workflow: WorkflowTaskContext? = nil
        ) {
            self.workflow = workflow
            self.taskID = taskID
            self.agentID = agentID
            self.generation = generation
            self.input = input
            self.attempt = attempt
            self.timeoutSeconds = timeoutSeconds
        }

        enum CodingKeys: String, CodingKey {
            case generation, input, attempt, workflow
            case taskID = "task_id"
            case agentID = "agent_id"
            case timeoutSeconds = "timeout_s"
        }
    }

    /// The answer to a `task.run`: `output` when `ok`, otherwise `error`.
    ///
    /// `rejected` means the node did not run the task at all (it does not run that agent at
    /// that generation); the manager may send it again once the agent runs.
    public struct TaskResult: Codable, Sendable, Hashable {
        public var taskID: String
        public var agentID: String
        public var generation: Int
        public var ok: Bool
        public var output: JSONValue?
        public var error: String?
        public var rejected: Bool?

        public init(
            taskID: String, agentID: String, generation: Int, ok: Bool, output: JSONValue? = nil, error: String? = nil,
            rejected: Bool? = nil
        ) {
            self.taskID = taskID
            self.agentID = agentID
            self.generation = generation
            self.ok = ok
            self.output = output
            self.error = error
            self.rejected = rejected
        }

        enum CodingKeys: String, CodingKey {
            case generation, ok, output, error, rejected
            case taskID = "task_id"
            case agentID = "agent_id"
        }
    }

    /// A free-form message from an agent (logs, events) to the manager.
    public struct AgentMessage: Codable, Sendable, Hashable {
        public var agentID: String
        public var generation: Int
        public var payload: JSONValue

        public init(agentID: String, generation: Int, payload: JSONValue) {
            self.agentID = agentID
            self.generation = generation
            self.payload = payload
        }

        enum CodingKeys: String, CodingKey {
            case generation, payload
            case agentID = "agent_id"
        }
    }

    /// The manager asks the node to take no new agents.
    public struct Drain: Codable, Sendable, Hashable {
        public var reason: String
        public init(reason: String) { self.reason = reason }
    }

    /// A refusal: the frame could not be read, or the session is not allowed.
    public struct ProtocolError: Codable, Sendable, Hashable {
        public var code: String
        public var message: String
        public init(code: String, message: String) {
            self.code = code
            self.message = message
        }
    }
}
