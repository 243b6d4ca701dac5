import SQLiteNIO

/// Group commit: write statements that arrive while another batch is being written are run
/// together in one transaction, and each caller is answered only once that transaction has
/// committed. Under load one commit serves many writers; a lone write runs as it is.
///
/// A statement that fails on its own (a constraint: a duplicate id) fails only its caller. An
/// error that means the database cannot take writes (disk full, I/O error; SQLite may have
/// rolled the transaction back by itself) rolls the batch back and fails every caller in it, as
/// does a failed commit: no caller is told its write is stored unless it is.
/// Hand-written: SQLiteNIO runs one statement at a time and has no batching of its own.
actor SQLiteGroupCommit {
    private struct Pending {
        let sql: String
        let binds: [SQLiteData]
        let continuation: CheckedContinuation<[SQLiteRow], any Error>
    }

    private let connection: SQLiteConnection
    private let isFatal: @Sendable (any Error) -> Bool
    private var pending: [Pending] = []
    private var draining = false

    /// Statements written since start, and the transactions they took (for tests and benchmarks).
    private(set) var statements = 0
    private(set) var commits = 0

    /// - Parameter isFatal: whether an error of one statement means the batch cannot commit.
    init(connection: SQLiteConnection, isFatal: @escaping @Sendable (any Error) -> Bool) {
        self.connection = connection
        self.isFatal = isFatal
    }

    /// Runs a write statement in the next batch; returns its rows once the batch committed.
    func write(_ sql: String, _ binds: [SQLiteData]) async throws -> [SQLiteRow] {
        try await withCheckedThrowingContinuation { continuation in
            pending.append(Pending(sql: sql, binds: binds, continuation: continuation))
            if !draining {
                draining = true
                Task { await self.drain() }
            }
        }
    }

    private func drain() async {
        while !pending.isEmpty {
            let batch = pending
            pending = []
            await run(batch)
        }
        draining = false
    }

    private func run(_ batch: [Pending]) async {
        statements += batch.count
        commits += 1
        if batch.count == 1, let only = batch.first {
            do {
                only.continuation.resume(returning: try await connection.query(only.sql, only.binds))
            } catch {
                only.continuation.resume(throwing: error)
            }
            return
        }
        do {
            _ = try await connection.query("BEGIN IMMEDIATE")
        } catch {
            for entry in batch { entry.continuation.resume(throwing: error) }
            return
        }
        var results: [Result<[SQLiteRow], any Error>] = []
        results.reserveCapacity(batch.count)
        for entry in batch {
            do {
                results.append(.success(try await connection.query(entry.sql, entry.binds)))
            } catch where isFatal(error) {
                _ = try? await connection.query("ROLLBACK")
                for entry in batch { entry.continuation.resume(throwing: error) }
                return
            } catch {
                results.append(.failure(error))
            }
        }
        do {
            _ = try await connection.query("COMMIT")
        } catch {
            _ = try? await connection.query("ROLLBACK")
            for (entry, result) in zip(batch, results) {
                if case .failure(let own) = result { entry.continuation.resume(throwing: own) } else { entry.continuation.resume(throwing: error) }
            }
            return
        }
        for (entry, result) in zip(batch, results) { entry.continuation.resume(with: result) }
    }
}
