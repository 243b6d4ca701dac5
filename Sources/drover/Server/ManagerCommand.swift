import ArgumentParser
import DroverCore
import DroverManager
import Foundation
import Logging
import ServiceLifecycle

/// Options shared by `drover manager` and `drover dev`.
struct ManagerOptions: ParsableArguments {
    @Option(help: "Address to bind the API and node gateway to.")
    var host = "127.0.0.1"

    @Option(help: "Port of the API and node gateway (0 picks a free one).")
    var port = 8000

    @Option(help: "Heartbeat interval nodes are told to use, in seconds.")
    var heartbeatInterval = 5.0

    @Option(help: "Seconds without a heartbeat before a node is marked down.")
    var heartbeatGrace = 15.0

    @Option(help: "Heartbeats per second all nodes together may send (0: no limit); a larger fleet is told a longer interval, and its grace grows by as much.")
    var maxHeartbeatsPerSecond = 50.0

    @Option(help: "Seconds nodes have to reconnect after the manager starts before their silence counts toward --heartbeat-grace.")
    var reconnectGrace = 10.0

    @Option(help: "Seconds between reconciler passes.")
    var reconcileInterval = 1.0

    @Option(help: "Admin token to require (default: $DROVER_ADMIN_TOKEN, else stored, else generated).")
    var adminToken: String?

    @Option(help: "Placement strategy of deploys that name none: \(PlacementStrategy.allCases.map(\.rawValue).joined(separator: ", ")).")
    var defaultStrategy = "least_loaded"

    @Option(help: "How many times its cores a node may promise in CPU requests (memory never overcommits).")
    var cpuOvercommit = 1.5

    @Option(help: "How many other nodes an agent that crashed past its restart limit is tried on.")
    var maxFailovers = 1

    @Option(help: "Rebalance on its own every this many seconds (0: only when asked).")
    var rebalanceInterval = 0.0

    @Option(help: "HMAC secret (32+ bytes) JWTs are signed with (default: $JWT_SECRET, else stored, else generated).")
    var jwtSecret: String?

    @Option(help: "Admin password for POST /api/v1/auth/token (default: $ADMIN_PASSWORD, else stored hash, else generated and printed once).")
    var adminPassword: String?

    @Option(help: "Seconds a JWT from POST /api/v1/auth/token is valid.")
    var jwtTtl = 3600.0

    @Option(help: "A P-256 private key (PEM file): sign JWTs with ES256 instead of HS256 (default: $JWT_ES256_KEY_FILE).")
    var jwtEs256Key: String?

    @Option(help: "Requests per second one credential may sustain (0: no limit).")
    var rateLimit = 50.0

    @Option(help: "Requests one credential may make at once.")
    var rateBurst = 100.0

    @Option(help: "PEM certificate chain: serve the API and node gateway over HTTPS and wss (needs --tls-key).")
    var tlsCert: String?

    @Option(help: "PEM private key of --tls-cert.")
    var tlsKey: String?

    func configuration(store: String) throws -> ManagerConfiguration {
        for (name, value) in [("--heartbeat-interval", heartbeatInterval), ("--heartbeat-grace", heartbeatGrace), ("--reconcile-interval", reconcileInterval)] {
            guard value > 0, value < 86_400 else { throw ValidationError("\(name) must be between 0 and 86400 seconds") }
        }
        guard reconnectGrace >= 0, reconnectGrace <= 3_600 else { throw ValidationError("--reconnect-grace must be between 0 and 3600 seconds") }
        guard rebalanceInterval >= 0, rebalanceInterval < 86_400 else { throw ValidationError("--rebalance-interval must be between 0 and 86400 seconds") }
        guard let strategy = PlacementStrategy(rawValue: defaultStrategy) else {
            throw ValidationError("--default-strategy must be one of \(PlacementStrategy.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var keyPEM: String?
        if let path = jwtEs256Key ?? Self.environment("JWT_ES256_KEY_FILE") {
            do {
                keyPEM = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw ValidationError("cannot read the ES256 key \(path): \(error.localizedDescription)")
            }
        }
        var configuration = ManagerConfiguration(
            host: host, port: port, store: store,
            adminToken: adminToken ?? ProcessInfo.processInfo.environment["DROVER_ADMIN_TOKEN"].flatMap { $0.isEmpty ? nil : $0 },
            heartbeatInterval: .milliseconds(Int64(heartbeatInterval * 1000)),
            heartbeatGrace: .milliseconds(Int64(heartbeatGrace * 1000)),
            reconcileInterval: .milliseconds(Int64(reconcileInterval * 1000)),
            defaultStrategy: strategy, cpuOvercommit: cpuOvercommit, maxFailovers: maxFailovers,
            rebalanceInterval: rebalanceInterval > 0 ? .milliseconds(Int64(rebalanceInterval * 1000)) : nil,
            jwtSecret: jwtSecret ?? Self.environment("JWT_SECRET"), adminPassword: adminPassword ?? Self.environment("ADMIN_PASSWORD"),
            jwtLifetime: jwtTtl, rateLimit: rateLimit, rateBurst: rateBurst
        )
        configuration.reconnectGrace = .milliseconds(Int64(reconnectGrace * 1000))
        configuration.maxHeartbeatsPerSecond = maxHeartbeatsPerSecond
        configuration.jwtES256KeyPEM = keyPEM
        configuration.tlsCertificatePath = tlsCert
        configuration.tlsKeyPath = tlsKey
        // Only from the environment: a flag would show the key in `ps`.
        configuration.masterSecretKey = Self.environment("MASTER_SECRET_KEY")
        return configuration
    }

    /// A non-empty environment variable.
    static func environment(_ name: String) -> String? {
        ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// `drover manager`: the central service.
struct ManagerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "manager", abstract: "Run the manager: REST API, node gateway, scheduler and store."
    )

    @OptionGroup var options: ManagerOptions

    @Option(help: "Where state lives: sqlite:PATH or memory:.")
    var store = "sqlite:./drover.db"

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func run() async throws {
        let (logger, metrics) = ProcessSetup.bootstrap(logLevel: logLevel, label: "drover.manager")
        let manager: DroverManagerApp
        do {
            manager = try await DroverManagerApp.build(
                configuration: try options.configuration(store: store), logger: logger, metrics: metrics,
                onListening: { url in ProcessSetup.say("drover manager listening on \(url)") }
            )
        } catch let error as ValidationError {
            throw error
        } catch {
            throw ValidationError("cannot start the manager: \(error)")
        }
        if let password = manager.generatedAdminPassword {
            ProcessSetup.say("admin password (generated, shown once; only its hash is stored): \(password)")
        }
        if manager.tokenWasGenerated, let token = manager.adminToken {
            ProcessSetup.say("admin token (generated, shown once; only its hash is stored): \(token)")
        } else if manager.configuration.adminToken == nil {
            ProcessSetup.say("admin token: the one generated at first start (only its hash is stored; pass --admin-token to set another)")
        }
        let group = ServiceGroup(configuration: .init(
            services: manager.services.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        try await group.run()
    }
}
