import DroverCore
import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import Synchronization

/// A node simulated inside the benchmark process: its own WebSocket to the manager, speaking the
/// node protocol as `drover node` does — `hello` with what it runs (in parts when long),
/// heartbeats at the interval `welcome` gives with the agent list when it changed (its digest
/// otherwise, and the list again when the manager asks), `agent.start`/`agent.stop` answered with `agent.status`, `task.run` answered with
/// its input as output — and redialling when the connection ends. It runs no agent code, so a
/// thousand of them cost the machine little: what the benchmark measures is the manager.
final class SimulatedNode: Sendable {
    let id: String
    private let url: String
    private let token: String
    private let hello: NodeProtocol.Hello
    private let codec = NodeMessageCodec()
    private let state = Mutex(State())

    private struct State {
        var running: [String: NodeProtocol.RunningAgent] = [:]
        /// Bumped on every change of `running`: a heartbeat carries the list when it moved.
        var version = 0
        var interval: Duration?
        /// The manager asked for the whole list (`agent.list.request`).
        var listRequested = false
        var session: AsyncStream<NodeMessage>.Continuation?
        var silenced = false
    }

    init(id: String, managerURL: String, token: String, maxAgents: Int, cpu: Double = 64) {
        self.id = id
        url = managerURL.replacingOccurrences(of: "http://", with: "ws://") + "/api/v1/cluster/connect"
        self.token = token
        hello = NodeProtocol.Hello(
            nodeID: id, tenant: "default", name: id, hostAddress: "127.0.0.1", apiPort: 9, capabilities: [], labels: [:],
            agentTypes: [AgentTypeInfo(name: "echo", driver: "builtin")],
            resources: NodeResources(capacity: ResourceSpec(cpu: cpu, memoryMB: 262_144), load1: 0.1, memoryAvailableMB: 200_000),
            maxAgents: maxAgents, incarnation: UUID().uuidString, agents: []
        )
    }

    /// Agents it runs now.
    var agentCount: Int { state.withLock { $0.running.count } }

    /// Whether a session is open (welcomed) now.
    var isConnected: Bool { state.withLock { $0.interval != nil } }

    /// Dials, serves, and dials again (after 0.2–1 s) until silenced or cancelled.
    func run() async {
        var attempt = 0
        while !Task.isCancelled, !state.withLock({ $0.silenced }) {
            do {
                try await serveOneSession()
                attempt = 0
            } catch {
                attempt += 1
            }
            let backoff = min(1.0, 0.2 * Double(attempt + 1)) * Double.random(in: 0.5...1.0)
            try? await Task.sleep(for: .seconds(backoff))
        }
    }

    /// Goes silent like a machine that died: the connection closes and it never dials again.
    func silence() {
        state.withLock { state in
            state.silenced = true
            state.session?.finish()
        }
    }

    private func serveOneSession() async throws {
        var headers = HTTPFields()
        headers[.authorization] = "Bearer \(token)"
        let configuration = WebSocketClientConfiguration(maxFrameSize: codec.maxFrameBytes, additionalHeaders: headers, autoPing: .disabled)
        let logger = Logger(label: "sim") { _ in SwiftLogNoOpLogHandler() }
        try await WebSocketClient.connect(url: url, configuration: configuration, logger: logger) { inbound, outbound, _ in
            let (frames, continuation) = AsyncStream.makeStream(of: NodeMessage.self)
            var greeting = self.hello
            let (first, more, rest) = NodeProtocol.AgentList.split(self.state.withLock { Array($0.running.values) })
            greeting.agents = first
            greeting.agentsMore = more ? true : nil
            try await outbound.write(.text(self.codec.encode(.hello(greeting))))
            for part in rest { try await outbound.write(.text(self.codec.encode(.agentList(part)))) }
            let silenced = self.state.withLock { state in
                state.session = continuation
                return state.silenced
            }
            if silenced { continuation.finish() }
            defer {
                self.state.withLock { state in
                    state.session = nil
                    state.interval = nil
                }
                continuation.finish()
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await message in frames { try await outbound.write(.text(self.codec.encode(message))) }
                }
                group.addTask {
                    for try await frame in inbound.messages(maxSize: self.codec.maxFrameBytes) {
                        guard case .text(let text) = frame, let message = try? self.codec.decode(text) else { continue }
                        self.receive(message)
                    }
                }
                group.addTask { try await self.heartbeat() }
                try await group.next()
                group.cancelAll()
            }
        }
    }

    private func receive(_ message: NodeMessage) {
        state.withLock { state in
            switch message {
            case .welcome(let welcome):
                state.interval = .milliseconds(Int64(max(0.05, welcome.heartbeatIntervalSeconds) * 1_000))
            case .agentStart(let start):
                state.running[start.agentID] = .init(agentID: start.agentID, generation: start.generation, status: .running)
                state.version += 1
                state.session?.yield(.agentStatus(.init(agentID: start.agentID, generation: start.generation, status: .running)))
            case .agentStop(let stop):
                guard let copy = state.running[stop.agentID], copy.generation <= stop.generation else { return }
                state.running[stop.agentID] = nil
                state.version += 1
                state.session?.yield(.agentStatus(.init(agentID: stop.agentID, generation: copy.generation, status: .stopped)))
            case .agentListRequest:
                state.listRequested = true
            case .taskRun(let run):
                let ok = state.running[run.agentID]?.generation == run.generation
                state.session?.yield(.taskResult(.init(
                    taskID: run.taskID, agentID: run.agentID, generation: run.generation, ok: ok, output: ok ? run.input : nil,
                    error: ok ? nil : "not running at this generation", rejected: ok ? nil : true
                )))
            default:
                break
            }
        }
    }

    /// Heartbeats once welcomed: the first after a random part of the interval (a thousand
    /// nodes do not beat in step), then every interval (the last one `welcome` gave).
    private func heartbeat() async throws {
        while state.withLock({ $0.interval == nil }) { try await Task.sleep(for: .milliseconds(50)) }
        try await Task.sleep(for: (state.withLock { $0.interval } ?? .seconds(5)) * Double.random(in: 0...1))
        var sentVersion = -1
        while true {
            state.withLock { state in
                let resources = hello.resources
                guard state.version != sentVersion || state.listRequested else {
                    let digest = NodeProtocol.RunningAgent.digest(state.running.values)
                    state.session?.yield(.heartbeat(.init(resources: resources, agents: nil, agentsDigest: digest)))
                    return
                }
                sentVersion = state.version
                state.listRequested = false
                let (first, more, rest) = NodeProtocol.AgentList.split(Array(state.running.values))
                state.session?.yield(.heartbeat(.init(resources: resources, agents: first, agentsMore: more ? true : nil)))
                for part in rest { state.session?.yield(.agentList(part)) }
            }
            // A later `welcome` changes the interval (the manager paces a large fleet).
            try await Task.sleep(for: state.withLock { $0.interval } ?? .seconds(5))
        }
    }
}
