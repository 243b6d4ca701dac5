import Foundation

/// One JSON text frame of the node ↔ manager WebSocket: `{"type": ..., ...fields}`.
public enum NodeMessage: Sendable, Hashable {
    case hello(NodeProtocol.Hello)
    case welcome(NodeProtocol.Welcome)
    case heartbeat(NodeProtocol.Heartbeat)
    case agentList(NodeProtocol.AgentList)
    case agentListRequest(NodeProtocol.AgentListRequest)
    case agentStart(NodeProtocol.AgentStart)
    case agentStop(NodeProtocol.AgentStop)
    case agentStatus(NodeProtocol.AgentStatusReport)
    case agentCheckpoint(NodeProtocol.AgentCheckpoint)
    case taskRun(NodeProtocol.TaskRun)
    case taskResult(NodeProtocol.TaskResult)
    case message(NodeProtocol.AgentMessage)
    case drain(NodeProtocol.Drain)
    case error(NodeProtocol.ProtocolError)

    /// The `type` field of the frame.
    public var type: String {
        switch self {
        case .hello: return "hello"
        case .welcome: return "welcome"
        case .heartbeat: return "heartbeat"
        case .agentList: return "agent.list"
        case .agentListRequest: return "agent.list.request"
        case .agentStart: return "agent.start"
        case .agentStop: return "agent.stop"
        case .agentStatus: return "agent.status"
        case .agentCheckpoint: return "agent.checkpoint"
        case .taskRun: return "task.run"
        case .taskResult: return "task.result"
        case .message: return "message"
        case .drain: return "drain"
        case .error: return "error"
        }
    }
}

/// Errors reading a frame.
public enum NodeMessageError: Error, Equatable, CustomStringConvertible {
    case unknownType(String)
    case malformed(String)
    case tooLarge(Int, limit: Int)

    public var description: String {
        switch self {
        case .unknownType(let type): return "unknown message type '\(type)'"
        case .malformed(let detail): return "malformed frame: \(detail)"
        case .tooLarge(let size, let limit): return "frame of \(size) bytes is over the \(limit)-byte limit"
        }
    }
}

extension NodeMessage: Codable {
    private enum TypeKey: String, CodingKey { case type }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: TypeKey.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "hello": self = .hello(try .init(from: decoder))
        case "welcome": self = .welcome(try .init(from: decoder))
        case "heartbeat": self = .heartbeat(try .init(from: decoder))
        case "agent.list": self = .agentList(try .init(from: decoder))
        case "agent.list.request": self = .agentListRequest(try .init(from: decoder))
        case "agent.start": self = .agentStart(try .init(from: decoder))
        case "agent.stop": self = .agentStop(try .init(from: decoder))
        case "agent.status": self = .agentStatus(try .init(from: decoder))
        case "agent.checkpoint": self = .agentCheckpoint(try .init(from: decoder))
        case "task.run": self = .taskRun(try .init(from: decoder))
        case "task.result": self = .taskResult(try .init(from: decoder))
        case "message": self = .message(try .init(from: decoder))
        case "drain": self = .drain(try .init(from: decoder))
        case "error": self = .error(try .init(from: decoder))
        default: throw NodeMessageError.unknownType(type)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .hello(let payload): try payload.encode(to: encoder)
        case .welcome(let payload): try payload.encode(to: encoder)
        case .heartbeat(let payload): try payload.encode(to: encoder)
        case .agentList(let payload): try payload.encode(to: encoder)
        case .agentListRequest(let payload): try payload.encode(to: encoder)
        case .agentStart(let payload): try payload.encode(to: encoder)
        case .agentStop(let payload): try payload.encode(to: encoder)
        case .agentStatus(let payload): try payload.encode(to: encoder)
        case .agentCheckpoint(let payload): try payload.encode(to: encoder)
        case .taskRun(let payload): try payload.encode(to: encoder)
        case .taskResult(let payload): try payload.encode(to: encoder)
        case .message(let payload): try payload.encode(to: encoder)
        case .drain(let payload): try payload.encode(to: encoder)
        case .error(let payload): try payload.encode(to: encoder)
        }
        var container = encoder.container(keyedBy: TypeKey.self)
        try container.encode(type, forKey: .type)
    }
}

/// Turns frames into `NodeMessage`s and back, with a size limit on the way in.
public struct NodeMessageCodec: Sendable {
    /// Largest frame accepted, in bytes.
    public let maxFrameBytes: Int

    public init(maxFrameBytes: Int = 1 << 20) {
        self.maxFrameBytes = maxFrameBytes
    }

    public func encode(_ message: NodeMessage) throws -> String {
        try message.fastJSONText() ?? JSONCoding.string(message)
    }

    public func decode(_ text: String) throws -> NodeMessage {
        let size = text.utf8.count
        guard size <= maxFrameBytes else { throw NodeMessageError.tooLarge(size, limit: maxFrameBytes) }
        // The frequent frames are read by the fast path, straight from the text.
        if let json = JSONTextReader.parse(text), let message = NodeMessage(json: json) { return message }
        do {
            return try JSONCoding.decoder().decode(NodeMessage.self, from: Data(text.utf8))
        } catch let error as NodeMessageError {
            throw error
        } catch {
            throw NodeMessageError.malformed(describeDecodingError(error))
        }
    }
}
