import Logging
import ServiceLifecycle

/// Runs the cluster's periodic work (liveness, reconciliation, dispatch) until shutdown.
struct ManagerLoop: Service, CustomStringConvertible {
    let controller: ClusterController
    let interval: Duration

    var description: String { "ManagerLoop" }

    func run() async throws {
        // Graceful shutdown cancels the loop; ending then is the normal way out, not an error.
        _ = try? await cancelWhenGracefulShutdown {
            var lastRebalance = ContinuousClock.now
            while !Task.isCancelled {
                await controller.tick()
                if let every = controller.configuration.rebalanceInterval, ContinuousClock.now - lastRebalance >= every {
                    lastRebalance = ContinuousClock.now
                    await controller.periodicRebalance()
                }
                try await Task.sleep(for: interval)
            }
        }
    }
}
