import Foundation

/// Exponential backoff with jitter: `base × factor^attempt`, capped at `cap`.
///
/// Used for restarting crashed agents (`RestartPolicy`) and for reconnecting to the
/// manager (`NodeConfiguration.reconnectBackoff`).
public struct Backoff: Sendable, Hashable {
    /// How the computed delay is randomised so that many nodes or agents do not retry in step.
    public enum Jitter: Sendable, Hashable {
        /// Exactly `base × factor^attempt` (capped).
        case none
        /// The delay ± this fraction of itself (0.2 = ±20 %).
        case proportional(Double)
        /// "Full jitter": a uniformly random delay between zero and the capped delay.
        case full
    }

    /// Delay before the first retry (attempt 0).
    public var base: Duration
    /// Growth per attempt.
    public var factor: Double
    /// Largest delay, before jitter.
    public var cap: Duration
    public var jitter: Jitter

    public init(base: Duration, factor: Double = 2, cap: Duration, jitter: Jitter = .proportional(0.2)) {
        self.base = base
        self.factor = factor
        self.cap = cap
        self.jitter = jitter
    }

    /// The delay before retry number `attempt` (0-based). `random` is a number in `0..<1`
    /// (pass a fixed one in tests).
    public func delay(attempt: Int, random: Double = Double.random(in: 0..<1)) -> Duration {
        let baseSeconds = max(0, base.seconds)
        let capSeconds = max(0, cap.seconds)
        let growth = pow(max(1, factor), Double(min(max(0, attempt), 62)))
        let capped = min(capSeconds, baseSeconds * growth)
        let unit = min(max(random, 0), 1)
        let seconds: Double
        switch jitter {
        case .none:
            seconds = capped
        case .proportional(let fraction):
            let spread = min(max(fraction, 0), 1)
            seconds = capped * (1 - spread + 2 * spread * unit)
        case .full:
            seconds = capped * unit
        }
        return .milliseconds(Int64((max(0.001, seconds) * 1000).rounded()))
    }
}

/// What the supervisor does when an agent's process exits on its own.
///
/// The agent is started again after `backoff.delay(attempt: crashes - 1)` with its last
/// checkpointed state; after `maxRestarts` restarts in a row it is `failed`. A copy that
/// ran for `resetAfter` counts as healthy: its crash starts the count again.
public struct RestartPolicy: Sendable, Hashable {
    public var backoff: Backoff
    /// Restarts allowed in a row before the agent is `failed`.
    public var maxRestarts: Int
    /// A run at least this long resets the count of restarts in a row.
    public var resetAfter: Duration

    /// Defaults: 0.5 s doubling to at most 10 s, ±20 % jitter, 5 restarts, reset after 60 s of running.
    public init(
        backoff: Backoff = Backoff(base: .milliseconds(500), factor: 2, cap: .seconds(10), jitter: .proportional(0.2)),
        maxRestarts: Int = 5,
        resetAfter: Duration = .seconds(60)
    ) {
        self.backoff = backoff
        self.maxRestarts = maxRestarts
        self.resetAfter = resetAfter
    }
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }

    /// A duration of `seconds` seconds (fractions kept to the microsecond).
    static func seconds(double seconds: Double) -> Duration {
        .microseconds(Int64((max(0, min(seconds, 1e9)) * 1_000_000).rounded()))
    }
}
