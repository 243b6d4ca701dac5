import Foundation
import Logging
import ServiceLifecycle

/// Where the manager keeps its state, as given on the command line.
public enum StoreLocation: Equatable, Sendable {
    /// `sqlite:PATH` — the embedded default.
    case sqlite(path: String)
    /// `memory:` — nothing survives the process; for experiments and tests.
    case memory

    /// Parses `sqlite:./drover.db`, `sqlite:/abs/path.db` or `memory:`.
    public static func parse(_ text: String) throws -> StoreLocation {
        if text == "memory:" || text == "memory" { return .memory }
        if text.hasPrefix("sqlite:") {
            var path = String(text.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path = String(path.dropFirst(2)) }
            guard !path.isEmpty else { throw StoreLocationError("store 'sqlite:' needs a file path, e.g. sqlite:./drover.db") }
            return .sqlite(path: path)
        }
        if text.hasPrefix("postgres:") || text.hasPrefix("postgresql:") {
            throw StoreLocationError("unsupported store '\(text.prefix(40))': PostgreSQL support is not built yet; use sqlite:PATH")
        }
        throw StoreLocationError("unsupported store '\(text.prefix(40))': use sqlite:PATH or memory:")
    }

    /// Opens the store; `service` (when not `nil`) closes it on graceful shutdown.
    public func open(logger: Logger) async throws -> (store: any Store, service: (any Service)?) {
        switch self {
        case .memory:
            return (InMemoryStore(), nil)
        case .sqlite(let path):
            let store = try await SQLiteStore.open(path: path, logger: logger)
            return (store, store)
        }
    }
}

/// A store location a user got wrong.
public struct StoreLocationError: Error, CustomStringConvertible, Equatable {
    /// What is wrong and what to write instead.
    public var description: String
    /// An error with this message.
    public init(_ description: String) { self.description = description }
}
