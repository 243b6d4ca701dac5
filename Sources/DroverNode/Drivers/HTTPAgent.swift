import AsyncHTTPClient
import DroverCore
import Foundation
import Logging
import NIOCore

/// Runs agents that are already HTTP services: each task is POSTed to the entry's URL as
/// `{"task_id", "agent_id", "input", "attempt"}`; a 2xx JSON body is the output, anything
/// else an error.
struct HTTPDriver: AgentDriver {
    /// Largest response body read.
    static let maxBodyBytes = 1 << 20

    func start(_ launch: AgentLaunch, entry: AgentTypeEntry, logger: Logger) async throws -> any AgentInstance {
        guard let url = entry.url, !url.isEmpty else { throw AgentStartError("agent type '\(entry.name)' has no url") }
        return HTTPAgentInstance(url: url, agentID: launch.agentID, client: .shared)
    }
}

/// One agent served over HTTP. It has no process of its own; stopping only stops tasks.
final class HTTPAgentInstance: AgentInstance {
    let pid: Int32? = nil
    private let url: String
    private let agentID: String
    private let client: HTTPClient
    private let stopped: AsyncStream<AgentEvent>
    private let stopper: AsyncStream<AgentEvent>.Continuation

    init(url: String, agentID: String, client: HTTPClient) {
        self.url = url
        self.agentID = agentID
        self.client = client
        (stopped, stopper) = AsyncStream.makeStream(of: AgentEvent.self)
    }

    func monitor(_ onEvent: @escaping @Sendable (AgentEvent) async -> Void) async -> String {
        for await event in stopped { await onEvent(event) }
        return "http agent stopped"
    }

    func perform(_ task: AgentTask) async -> TaskOutcome {
        let body: JSONValue = ["task_id": .string(task.taskID), "agent_id": .string(agentID), "input": task.input, "attempt": .int(task.attempt)]
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        do {
            request.body = .bytes(ByteBuffer(bytes: try JSONCoding.encoder().encode(body)))
            let timeout = TimeAmount.milliseconds(Int64(max(0.001, min(task.timeoutSeconds, 86_400)) * 1000))
            let response = try await client.execute(request, timeout: timeout)
            let buffer = try await response.body.collect(upTo: HTTPDriver.maxBodyBytes)
            let data = Data(buffer.readableBytesView)
            guard (200..<300).contains(response.status.code) else {
                let text = String(decoding: data.prefix(500), as: UTF8.self)
                return .failure("agent HTTP service answered \(response.status.code)\(text.isEmpty ? "" : ": \(text)")")
            }
            if Self.isBlank(data) { return .success(.null) }
            do {
                return .success(try JSONCoding.decoder().decode(JSONValue.self, from: data))
            } catch {
                return .failure("agent HTTP service answered \(response.status.code) with a body that is not JSON")
            }
        } catch {
            return .failure("cannot reach the agent's HTTP service at \(url): \(error)")
        }
    }

    func stop() async {
        stopper.finish()
    }

    private static func isBlank(_ data: Data) -> Bool {
        let whitespace: Set<UInt8> = [0x20, 0x0A, 0x0D, 0x09]
        return data.allSatisfy { whitespace.contains($0) }
    }
}
