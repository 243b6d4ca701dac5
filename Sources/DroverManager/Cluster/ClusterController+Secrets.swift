import DroverCore
import Foundation

extension ClusterController {
    /// Sends `agent.start` with the agent's secrets decrypted: the only place a secret leaves the
    /// manager in clear, and only to the node that runs the agent (over TLS when it is on).
    ///
    /// When a secret cannot be decrypted (the master key changed), the agent is not started and the
    /// error is logged and recorded, without any secret value.
    func sendStart(_ start: NodeProtocol.AgentStart, to nodeID: String) async {
        guard let opened = await opened(start, on: nodeID) else { return }
        await sessions.send(.agentStart(opened), to: nodeID)
    }

    /// Sends the `agent.start` of many agents, with one hand-over to the sessions for all of them.
    func sendStarts(_ starts: [String: [NodeProtocol.AgentStart]]) async {
        var messages: [String: [NodeMessage]] = [:]
        for (nodeID, list) in starts {
            for start in list {
                guard let opened = await opened(start, on: nodeID) else { continue }
                messages[nodeID, default: []].append(.agentStart(opened))
            }
        }
        await sessions.send(messages)
    }

    /// `start` with its secrets decrypted, or `nil` (logged and recorded) when they cannot be.
    private func opened(_ start: NodeProtocol.AgentStart, on nodeID: String) async -> NodeProtocol.AgentStart? {
        var opened = start
        do {
            opened.config = try secrets.openSecrets(in: start.config)
        } catch {
            logger.error("cannot start agent: \(error)", metadata: ["agent": "\(start.agentID)", "node": "\(nodeID)"])
            await recordEvent("agent.secret_error", node: nodeID, agent: start.agentID, "not started: \(error)")
            return nil
        }
        return opened
    }

    /// `config` with its secrets sealed for the store; a 400 when a value uses the reserved prefix.
    func sealSecrets(in config: JSONValue) throws -> JSONValue {
        if let secrets = config[ConfigSecrets.secretsKey] {
            guard case .object = secrets else { throw APIError.badRequest("agent_config.secrets must be a JSON object of secret values") }
        }
        do {
            return try secrets.sealSecrets(in: config)
        } catch let error as ConfigSecretsError {
            throw APIError.badRequest(error.description)
        }
    }
}
