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

    /// Writes waiting entries, oldest first, until the store refuses one.
    func flush() async {
        await writer.withLock {
            while let next = pending.withLock({ $0.first }) {
                do {
                    try await store.appendAudit(next)
                    pending.withLock { _ = $0.removeFirst() }
                } catch where !isStoreUnavailable(error) {
                    // Not an outage: this entry cannot be written at all; it must not hold up the rest.
                    pending.withLock { _ = $0.removeFirst() }
                    logger.error("an audit entry was refused by the store and dropped", metadata: ["action": "\(next.action)", "error": "\(error)"])
                } catch {
                    let waiting = pendingCount
                    if waiting == 1 || waiting % 1_000 == 0 {
                        logger.error(
                            "could not write an audit entry; it is kept and written when the store takes writes again",
                            metadata: ["action": "\(next.action)", "waiting": "\(waiting)", "error": "\(error)"]
                        )
                    }
                    return
                }
            }
        }
    }
}
