import DroverStore
import Logging
import ServiceLifecycle

/// Runs the cluster's periodic work (liveness, reconciliation, dispatch) until shutdown.
///
/// While the store refuses writes (disk full, database away) the passes back off, doubling the
/// pause up to `StoreBackoff.maxDelay`, and the outage is logged when it starts and when it ends,
/// not on every pass.
struct ManagerLoop: Service, CustomStringConvertible {
    let controller: ClusterController
    let interval: Duration

    var description: String { "ManagerLoop" }

    func run() async throws {
        // Graceful shutdown cancels the loop; ending then is the normal way out, not an error.
        _ = try? await cancelWhenGracefulShutdown {
            var lastRebalance = ContinuousClock.now
            var backoff = StoreBackoff(base: interval)
            while !Task.isCancelled {
                do {
                    try await controller.tick()
                    if backoff.failures > 0 {
                        controller.logger.notice("the store takes writes again; cluster passes resume", metadata: ["failed_passes": "\(backoff.failures)"])
                    }
                    backoff.succeeded()
                } catch {
                    let unavailable = isStoreUnavailable(error)
                    if !unavailable || backoff.failures == 0 {
                        controller.logger.error("cluster pass failed", metadata: ["error": "\(error)"])
                    }
                    if unavailable { backoff.failed() }
                }
                if backoff.failures == 0, let every = controller.configuration.rebalanceInterval, ContinuousClock.now - lastRebalance >= every {
                    lastRebalance = ContinuousClock.now
                    await controller.periodicRebalance()
                }
                await controller.auditLog.flush()
                // A pass requested meanwhile (a node's hello) starts the next one early, while
                // the store takes writes.
                if backoff.failures == 0 {
                    await controller.passTrigger.wait(upTo: backoff.delay)
                } else {
                    try await Task.sleep(for: backoff.delay)
                }
            }
        }
    }
}

/// The pause between passes of a loop that the store may refuse: `base` while it works, then
/// doubling on each refused pass up to `maxDelay`.
struct StoreBackoff: Sendable {
    static let maxDelay: Duration = .seconds(5)
    let base: Duration
    private(set) var failures = 0

    init(base: Duration) { self.base = base }

    var delay: Duration {
        guard failures > 0 else { return base }
        var delay = max(base, .milliseconds(100))
        for _ in 1..<min(failures, 16) { delay = min(delay * 2, Self.maxDelay) }
        return min(delay, Self.maxDelay)
    }

    mutating func failed() { failures += 1 }
    mutating func succeeded() { failures = 0 }
}
