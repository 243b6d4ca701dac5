import DroverCore
import DroverStore
import Foundation
import Logging
import Synchronization

/// Writes audit entries, and keeps the ones the store refused until it takes writes again.
///
/// Entries are written in the order they were recorded: while some wait, new ones queue behind
/// them. At most `maxPending` wait; with that many waiting, mutating calls are refused (503)
/// before they run, so no call goes unaudited and memory stays bounded.
final class AuditLog: Sendable {
    static let maxPending = 10_000
    private let store: any Store
    private let logger: Logger
    private let pending = Mutex<[AuditEntry]>([])
    private let writer = AsyncSerialLock()

    init(store: any Store, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// Entries waiting for the store.
    var pendingCount: Int { pending.withLock { $0.count } }

    /// Whether no more entries can wait (the next mutating call is refused).
    var isFull: Bool { pendingCount >= Self.maxPending }

    /// Appends an entry now, or keeps it for later when the store refuses it.
    func record(_ entry: AuditEntry) async {
        pending.withLock { $0.append(entry) }
        await flush()
    }

    /// Writes waiting entries, oldest first, until the store refuses them: all that have gathered
    /// in one statement (calls arriving together are audited by one commit).
    func flush() async {
        await writer.withLock {
            while true {
                let batch = pending.withLock { Array($0.prefix(Self.maxBatch)) }
                guard !batch.isEmpty else { return }
                do {
                    try await store.appendAudit(batch)
                    pending.withLock { $0.removeFirst(batch.count) }
                } catch where !isStoreUnavailable(error) {
                    // Not an outage: some entry cannot be written at all. One at a time, so only it is dropped.
                    guard await writeOneByOne(batch.count) else { return }
                } catch {
                    let waiting = pendingCount
                    if waiting == 1 || waiting % 1_000 == 0 {
                        logger.error(
                            "could not write audit entries; they are kept and written when the store takes writes again",
                            metadata: ["action": "\(batch[0].action)", "waiting": "\(waiting)", "error": "\(error)"]
                        )
                    }
                    return
                }
            }
        }
    }

    /// The most entries written in one statement.
    static let maxBatch = 1_000

    /// Writes the first `count` waiting entries one by one, dropping any the store cannot take at
    /// all; `false` when the store stopped taking writes (the rest wait).
    private func writeOneByOne(_ count: Int) async -> Bool {
        for _ in 0..<count {
            guard let next = pending.withLock({ $0.first }) else { return true }
            do {
                try await store.appendAudit(next)
            } catch where !isStoreUnavailable(error) {
                logger.error("an audit entry was refused by the store and dropped", metadata: ["action": "\(next.action)", "error": "\(error)"])
            } catch {
                return false
            }
            pending.withLock { _ = $0.removeFirst() }
        }
        return true
    }
}
