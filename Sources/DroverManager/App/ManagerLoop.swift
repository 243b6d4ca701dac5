import Logging
import ServiceLifecycle

/// Runs the cluster's periodic work (liveness, reconciliation, dispatch) until shutdown.
struct ManagerLoop: Service {
    let controller: ClusterController
    let interval: Duration

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await controller.tick()
                try await Task.sleep(for: interval)
            }
        }
    }
}
