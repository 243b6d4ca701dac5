import Foundation

/// The manager's side of lists sent in parts: puts a `hello` or `heartbeat` whose running-agent
/// list continues in `agent.list` frames back together, so the rest of the manager only ever
/// sees whole lists. One per session; pure (no I/O).
public struct NodeFrameAssembler: Sendable {
    private var pendingHello: (hello: NodeProtocol.Hello, list: NodeProtocol.AgentListAssembly)?
    private var pendingHeartbeat: (heartbeat: NodeProtocol.Heartbeat, list: NodeProtocol.AgentListAssembly)?

    public init() {}

    /// A frame before the session is open: the whole `hello` once it has arrived, `nil` while
    /// parts of its list are still to come. Throws, with the code and sentence to send back,
    /// for anything else (the session must then end).
    public mutating func hello(from message: NodeMessage) throws(NodeProtocol.ProtocolError) -> NodeProtocol.Hello? {
        if pendingHello != nil {
            guard case .agentList(let part) = message else {
                throw .init(code: "hello_incomplete", message: "the hello's agent list continues in 'agent.list' frames; got '\(message.type)'")
            }
            guard try Self.add(part, to: &pendingHello!.list), let pending = pendingHello else { return nil }
            pendingHello = nil
            var hello = pending.hello
            hello.agents = pending.list.agents
            hello.agentsMore = nil
            return hello
        }
        guard case .hello(let hello) = message else {
            throw .init(code: "hello_required", message: "the first frame must be 'hello', got '\(message.type)'")
        }
        guard hello.agentsMore == true else { return hello }
        pendingHello = (hello, .init(first: hello.agents))
        return nil
    }

    /// A frame after `hello`: the frame to handle (a heartbeat with its whole list), or `nil`
    /// while parts of a heartbeat's list are still to come. Throws, with the code and sentence
    /// to send back, for a part that continues nothing or a list past the limit; the session
    /// may go on.
    public mutating func frame(from message: NodeMessage) throws(NodeProtocol.ProtocolError) -> NodeMessage? {
        switch message {
        case .heartbeat(let heartbeat) where heartbeat.agentsMore == true:
            // A new list replaces one left unfinished.
            pendingHeartbeat = (heartbeat, .init(first: heartbeat.agents ?? []))
            return nil
        case .agentList(let part):
            guard pendingHeartbeat != nil else {
                throw .init(code: "unexpected_message", message: "'agent.list' continues a hello or heartbeat with agents_more, and none is open")
            }
            do {
                guard try Self.add(part, to: &pendingHeartbeat!.list), let pending = pendingHeartbeat else { return nil }
                pendingHeartbeat = nil
                var heartbeat = pending.heartbeat
                heartbeat.agents = pending.list.agents
                heartbeat.agentsMore = nil
                return .heartbeat(heartbeat)
            } catch {
                pendingHeartbeat = nil
                throw error
            }
        default:
            return message
        }
    }

    private static func add(_ part: NodeProtocol.AgentList, to list: inout NodeProtocol.AgentListAssembly) throws(NodeProtocol.ProtocolError) -> Bool {
        do {
            return try list.add(part)
        } catch {
            throw .init(code: "too_many_agents", message: "\(error)")
        }
    }
}

extension NodeProtocol.ProtocolError: Error {}
