import Foundation

/// How a failed step is tried again: `max_attempts` in all, waiting `delay` grown by `backoff`
/// and capped at `max_delay` between attempts.
public struct RetryPolicy: Codable, Sendable, Hashable {
    public enum Backoff: String, Codable, Sendable, CaseIterable {
        /// Every wait is `delay`.
        case constant
        /// The wait after attempt n is `delay × n`.
        case linear
        /// The wait after attempt n is `delay × 2^(n−1)`.
        case exponential
    }

    /// Attempts in all, the first included (1 means no retry).
    public var maxAttempts: Int
    public var backoff: Backoff
    public var delay: WorkflowDuration
    public var maxDelay: WorkflowDuration?

    public init(maxAttempts: Int, backoff: Backoff = .exponential, delay: WorkflowDuration = .init(seconds: 1), maxDelay: WorkflowDuration? = nil) {
        self.maxAttempts = maxAttempts
        self.backoff = backoff
        self.delay = delay
        self.maxDelay = maxDelay
    }

    /// One attempt, no retry: what a step without a policy gets.
    public static let none = RetryPolicy(maxAttempts: 1, backoff: .constant, delay: .init(seconds: 0))

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        maxAttempts = try container.decodeIfPresent(Int.self, forKey: .maxAttempts) ?? 3
        backoff = try container.decodeIfPresent(Backoff.self, forKey: .backoff) ?? .exponential
        delay = try container.decodeIfPresent(WorkflowDuration.self, forKey: .delay) ?? .init(seconds: 1)
        maxDelay = try container.decodeIfPresent(WorkflowDuration.self, forKey: .maxDelay)
    }

    /// Seconds to wait after the failed attempt number `attempt` (1-based) before the next.
    public func delay(afterAttempt attempt: Int) -> Double {
        let n = max(1, attempt)
        let raw: Double
        switch backoff {
        case .constant: raw = delay.seconds
        case .linear: raw = delay.seconds * Double(n)
        case .exponential: raw = delay.seconds * pow(2, Double(min(n - 1, 60)))
        }
        if let maxDelay { return min(raw, maxDelay.seconds) }
        return raw
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case backoff, delay
        case maxAttempts = "max_attempts"
        case maxDelay = "max_delay"
    }
}
