import Foundation
import Synchronization

/// Whether the store takes writes now: set by the store itself from the outcome of each write.
///
/// A write that fails because the store cannot take it (disk full, I/O error, database away or
/// locked) marks the store failing; the next write that succeeds marks it healthy again. The
/// manager reads this for `/health`, its metrics, and to back off its loops while the store fails.
public final class StoreHealth: Sendable {
    /// What the store looks like now.
    public struct Status: Sendable, Hashable {
        /// When writes started failing, or `nil` while they succeed.
        public var failingSince: Date?
        /// The last write failure, while failing.
        public var lastError: String?
        /// Writes refused since the process started.
        public var failedWrites: Int
        /// The last refused write.
        public var lastFailureAt: Date?

        public var isFailing: Bool { failingSince != nil }
    }

    private struct State {
        var status = Status(failingSince: nil, lastError: nil, failedWrites: 0, lastFailureAt: nil)
        var onFailure: (@Sendable () -> Void)?
        /// Whether a write went through since the last refused one.
        var succeededSinceFailure = false
    }

    private let state = Mutex(State())

    public init() {}

    /// The status now; a failing store that has taken a write since its last refusal, and refused
    /// none for `recoveryWindow`, is healthy again even when no write came after the window.
    public var status: Status { state.withLock { Self.settle(&$0, now: Date()).status } }

    public var isFailing: Bool { status.isFailing }

    private static func settle(_ state: inout State, now: Date) -> State {
        if state.status.failingSince != nil, state.succeededSinceFailure, let last = state.status.lastFailureAt,
            now.timeIntervalSince(last) >= recoveryWindow
        {
            state.status.failingSince = nil
            state.status.lastError = nil
        }
        return state
    }

    /// Calls `observer` once per refused write (the manager counts them in a metric).
    public func onFailure(_ observer: @escaping @Sendable () -> Void) {
        state.withLock { $0.onFailure = observer }
    }

    /// How long writes must go through, with none refused, before a failing store counts as
    /// healthy again. On a full disk, a write that fits in pages the store has already (its WAL)
    /// still succeeds; one such write does not mean the outage is over.
    public static let recoveryWindow: TimeInterval = 2

    /// A write went through.
    public func writeSucceeded(at now: Date = Date()) {
        state.withLock {
            guard $0.status.failingSince != nil else { return }
            $0.succeededSinceFailure = true
            if let last = $0.status.lastFailureAt, now.timeIntervalSince(last) < Self.recoveryWindow { return }
            $0.status.failingSince = nil
            $0.status.lastError = nil
        }
    }

    /// A write was refused because the store cannot take writes now.
    public func writeFailed(_ error: String, at now: Date = Date()) {
        let observer = state.withLock {
            if $0.status.failingSince == nil { $0.status.failingSince = now }
            $0.status.lastError = error
            $0.status.failedWrites += 1
            $0.status.lastFailureAt = now
            $0.succeededSinceFailure = false
            return $0.onFailure
        }
        observer?()
    }
}

/// A store that reports whether it takes writes (`SQLiteStore`; the in-memory store always does).
public protocol StoreHealthReporting {
    var health: StoreHealth { get }
}

extension StoreError {
    /// Whether this error means the store cannot be used for now (as opposed to a bad record):
    /// callers wait and retry, and the API answers 503.
    public var isUnavailable: Bool {
        if case .unavailable = self { return true }
        return false
    }
}

/// Whether `error` says the store cannot be used for now.
public func isStoreUnavailable(_ error: any Error) -> Bool {
    (error as? StoreError)?.isUnavailable ?? false
}
