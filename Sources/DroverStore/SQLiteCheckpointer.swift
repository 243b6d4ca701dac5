import Logging
import SQLiteNIO

/// Moves the write-ahead log into the database file in the background, on a connection of its
/// own, so that no commit waits for a checkpoint.
///
/// SQLite's automatic checkpoint runs inside the commit that crosses 1,000 WAL pages, with an
/// fsync of the database: every writer queued behind that commit waited hundreds of
/// milliseconds (seen as 0.4–1.3 s task round trips). The store turns it off
/// (`wal_autocheckpoint=0`) and this loop runs `PRAGMA wal_checkpoint(PASSIVE)` every
/// `interval`, which copies what it can without blocking readers or the writer.
final class SQLiteCheckpointer: Sendable {
    static let interval: Duration = .milliseconds(500)
    private let connection: SQLiteConnection
    private let loop: Task<Void, Never>

    private init(connection: SQLiteConnection, loop: Task<Void, Never>) {
        self.connection = connection
        self.loop = loop
    }

    /// Opens a second connection to the database at `path` and starts checkpointing.
    static func start(path: String, logger: Logger) async throws -> SQLiteCheckpointer {
        let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        let loop = Task {
            var failing = false
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard !Task.isCancelled else { break }
                do {
                    _ = try await connection.query("PRAGMA wal_checkpoint(PASSIVE)")
                    failing = false
                } catch {
                    // A full disk or a busy database: the log keeps growing until the next try.
                    if !failing { logger.warning("WAL checkpoint failed; retrying", metadata: ["path": "\(path)", "error": "\(error)"]) }
                    failing = true
                }
            }
        }
        return SQLiteCheckpointer(connection: connection, loop: loop)
    }

    /// Stops the loop and closes its connection.
    func stop() async {
        loop.cancel()
        _ = await loop.value
        try? await connection.close().get()
    }
}
