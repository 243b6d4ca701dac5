import DroverCore
import Foundation
import Testing

@testable import DroverManager

/// A heartbeat without a list carries the digest of what the node runs; the session compares it
/// with what it holds, so a list is sent only when something changed or went astray.
@Suite("Session digests")
struct SessionDigestTests {
    static func agent(_ id: String, generation: Int = 1, status: AgentStatus = .running) -> NodeProtocol.RunningAgent {
        .init(agentID: id, generation: generation, status: status)
    }

    @Test("a digest matches what the session holds, through lists and status reports; a stale one does not")
    func digestFollowsTheSession() async {
        let sessions = NodeSessions()
        let (_, outbound) = AsyncStream.makeStream(of: NodeMessage.self)
        let held = [Self.agent("a"), Self.agent("b")]
        await sessions.open(nodeID: "n1", sessionID: UUID(), outbound: outbound, reported: held, now: Date())
        #expect(await sessions.heard(from: "n1", reported: nil, digest: NodeProtocol.RunningAgent.digest(held), now: Date()))
        #expect(await !sessions.heard(from: "n1", reported: nil, digest: NodeProtocol.RunningAgent.digest([Self.agent("a")]), now: Date()))
        #expect(await sessions.heard(from: "n1", reported: nil, digest: nil, now: Date()), "no digest: nothing to compare")

        // A status report changes one agent: the digest of the node's new list matches.
        await sessions.updateReported(nodeID: "n1", agent: Self.agent("b", generation: 2), now: Date())
        let now = [Self.agent("a"), Self.agent("b", generation: 2)]
        #expect(await sessions.heard(from: "n1", reported: nil, digest: NodeProtocol.RunningAgent.digest(now), now: Date()))
        #expect(await !sessions.heard(from: "n1", reported: nil, digest: NodeProtocol.RunningAgent.digest(held), now: Date()))

        // A stopped agent leaves the list; a whole list replaces what was held.
        await sessions.updateReported(nodeID: "n1", agent: Self.agent("a", status: .stopped), now: Date())
        #expect(await sessions.heard(from: "n1", reported: nil, digest: NodeProtocol.RunningAgent.digest([Self.agent("b", generation: 2)]), now: Date()))
        #expect(await sessions.heard(from: "n1", reported: [Self.agent("c")], now: Date()))
        #expect(await sessions.heard(from: "n1", reported: nil, digest: NodeProtocol.RunningAgent.digest([Self.agent("c")]), now: Date()))
        #expect(await sessions.heard(from: "unknown", reported: nil, digest: "0-0", now: Date()), "no session: nothing to ask for")
    }
}
