import DroverCore
import Foundation
import Logging

/// Everything the node sends the manager passes through here, connected or not.
///
/// While a session is registered, frames go straight to its writer. Between sessions,
/// task results are kept (the oldest dropped past `maxBuffered`) and sent after the next
/// `welcome`, with the latest checkpoint of every agent still running; statuses and
/// messages are dropped (`hello` reports what runs). A result handed to a writer counts as
/// sent only once the writer confirms it (`written(_:)`); unconfirmed ones are kept again
/// when the session ends.
final class Outbox: @unchecked Sendable {
    private let lock = NSLock()
    private let maxBuffered: Int
    private let logger: Logger
    private let metrics = NodeMetrics()
    private var session: AsyncStream<NodeMessage>.Continuation?
    private var buffered: [NodeProtocol.TaskResult] = []
    private var unconfirmed: [String: (sequence: Int, result: NodeProtocol.TaskResult)] = [:]
    private var sequence = 0
    private var pendingWrites = 0
    private var dropped = 0
    private var checkpoints: [String: NodeProtocol.AgentCheckpoint] = [:]

    init(maxBuffered: Int, logger: Logger) {
        self.maxBuffered = max(0, maxBuffered)
        self.logger = logger
    }

    /// Task results waiting for a session.
    var bufferedCount: Int { lock.withLock { buffered.count } }

    /// Frames handed to the writer and not yet confirmed.
    var pendingWriteCount: Int { lock.withLock { pendingWrites } }

    /// Takes one frame from the supervisor.
    func deliver(_ message: NodeMessage) {
        lock.withLock {
            switch message {
            case .agentCheckpoint(let checkpoint):
                checkpoints[checkpoint.agentID] = checkpoint
            case .agentStatus(let report) where report.status == .stopped:
                if checkpoints[report.agentID]?.generation == report.generation { checkpoints[report.agentID] = nil }
            default:
                break
            }
            if let session {
                handOver(message, to: session)
            } else if case .taskResult(let result) = message {
                keep([result])
            }
        }
    }

    /// Sends frames, in order and with no other frame between them, only if a session is
    /// registered (a heartbeat, and the parts of its agent list).
    func sendIfConnected(_ messages: [NodeMessage]) {
        lock.withLock {
            guard let session else { return }
            for message in messages { handOver(message, to: session) }
        }
    }

    /// A session is registered: it gets the kept results, then the latest checkpoints of the
    /// agents in `running`, then every new frame.
    func attach(_ continuation: AsyncStream<NodeMessage>.Continuation, running: [NodeProtocol.RunningAgent]) {
        lock.withLock {
            let current = Set(running.map { "\($0.agentID)#\($0.generation)" })
            checkpoints = checkpoints.filter { current.contains("\($0.value.agentID)#\($0.value.generation)") }
            let results = buffered
            buffered.removeAll()
            if dropped > 0 {
                logger.warning("\(dropped) task results were dropped while the manager was unreachable (buffer limit \(maxBuffered)); the manager sends those tasks again")
                dropped = 0
            }
            if !results.isEmpty { logger.info("sending \(results.count) task results kept while disconnected") }
            for result in results { handOver(.taskResult(result), to: continuation) }
            for checkpoint in checkpoints.values.sorted(by: { $0.agentID < $1.agentID }) {
                handOver(.agentCheckpoint(checkpoint), to: continuation)
            }
            session = continuation
            metrics.bufferedResults.record(0)
        }
    }

    /// The session ended: results not confirmed are kept for the next one.
    func detach() {
        lock.withLock {
            session?.finish()
            session = nil
            pendingWrites = 0
            let unsent = unconfirmed.values.sorted { $0.sequence < $1.sequence }.map(\.result)
            unconfirmed.removeAll()
            let waiting = buffered
            buffered.removeAll()
            keep(unsent + waiting)
        }
    }

    /// The writer put `message` on the wire.
    func written(_ message: NodeMessage) {
        lock.withLock {
            pendingWrites = max(0, pendingWrites - 1)
            if case .taskResult(let result) = message { unconfirmed[NodeProtocol.deliveryKey(agentID: result.agentID, taskID: result.taskID)] = nil }
        }
    }

    /// Waits (polling) until the writer has sent everything handed to it, or `timeout` passes.
    func drain(timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        while pendingWriteCount > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    // MARK: - Under the lock

    private func handOver(_ message: NodeMessage, to continuation: AsyncStream<NodeMessage>.Continuation) {
        if case .taskResult(let result) = message {
            sequence += 1
            unconfirmed[NodeProtocol.deliveryKey(agentID: result.agentID, taskID: result.taskID)] = (sequence, result)
        }
        pendingWrites += 1
        continuation.yield(message)
    }

    private func keep(_ results: [NodeProtocol.TaskResult]) {
        buffered.append(contentsOf: results)
        if buffered.count > maxBuffered {
            let excess = buffered.count - maxBuffered
            buffered.removeFirst(excess)
            dropped += excess
        }
        metrics.bufferedResults.record(buffered.count)
    }
}
