import DroverCore
import Foundation
import Logging
import Prometheus
import ServiceLifecycle

/// A Drover node: the agent supervisor, the link to the manager and the local API.
///
/// ```swift
/// var configuration = try NodeConfiguration.fromEnvironment(ProcessInfo.processInfo.environment)
/// configuration.token = "..."            // flags over the environment
/// try configuration.validate()
/// let node = DroverNodeApp(configuration: configuration, logger: logger, metrics: registry)
/// try await ServiceGroup(services: node.services(), gracefulShutdownSignals: [.sigterm], logger: logger).run()
/// ```
///
/// On graceful shutdown the services stop in reverse order: the local API, then the
/// supervisor (every agent is stopped and the manager told), then the manager link.
public struct DroverNodeApp: Sendable {
    public let configuration: NodeConfiguration
    /// Changes every time a node is built; tells the manager a restart from a reconnect.
    public let incarnation: String
    private let allServices: [any Service]

    /// Builds the node's services. Nothing runs until the services do. An invalid
    /// `configuration` (see `NodeConfiguration.validate()`) makes the manager link fail at start.
    public init(configuration: NodeConfiguration, logger: Logger, metrics: PrometheusCollectorRegistry) {
        self.configuration = configuration
        let incarnation = UUID().uuidString.lowercased()
        self.incarnation = incarnation
        var logger = logger
        logger[metadataKey: "node"] = "\(configuration.nodeID)"
        let supervisor = AgentSupervisor(
            catalog: configuration.catalog, restartPolicy: configuration.restartPolicy, maxAgents: configuration.maxAgents,
            resultCacheSize: configuration.resultCacheSize, logger: logger
        )
        let outbox = Outbox(maxBuffered: configuration.maxBufferedResults, logger: logger)
        let boundPort = BoundPort()
        let connection = ManagerConnection(
            configuration: configuration, supervisor: supervisor, outbox: outbox, boundPort: boundPort, incarnation: incarnation,
            logger: logger
        )
        let api = LocalAPI.application(
            configuration: configuration, supervisor: supervisor, metrics: metrics, boundPort: boundPort, logger: logger
        )
        allServices = [connection, supervisor, api]
    }

    /// The services to run in one `ServiceGroup`, in start order: manager link, supervisor, local API.
    public func services() -> [any Service] {
        allServices
    }
}
