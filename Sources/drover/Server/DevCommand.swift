import ArgumentParser
import DroverCore
import DroverManager
import DroverNode
import Foundation
import Logging
import ServiceLifecycle

/// `drover dev`: a manager, one local node and an embedded SQLite store, in one process.
struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev", abstract: "Run a manager and one local node with SQLite under ./.drover/ (the first command to try)."
    )

    @OptionGroup var managerOptions: ManagerOptions

    @Option(help: "Folder for the store and the admin token.")
    var dataDir = ".drover"

    @Option(help: "Id of the local node.")
    var nodeId = "local"

    @Option(help: "Port of the local node's API (0 picks a free one).")
    var nodePort = 8001

    @OptionGroup var nodeOptions: NodeOptions

    @Option(help: "With --tls-cert: PEM CA the local node trusts (default: the certificate itself, right for a self-signed one).")
    var ca: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func run() async throws {
        guard managerOptions.port != 0 else { throw ValidationError("drover dev needs a fixed --port for its local node to dial") }
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        let (logger, metrics) = ProcessSetup.bootstrap(logLevel: logLevel, label: "drover.dev")
        var managerConfiguration = try managerOptions.configuration(store: "sqlite:\(dataDir)/drover.db")
        // The store keeps only the admin token's hash: a later `drover dev` takes the token
        // from the file the first one wrote (and the CLI reads).
        let tokenFile = "\(dataDir)/admin-token"
        if managerConfiguration.adminToken == nil,
           let saved = (try? String(contentsOfFile: tokenFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines), !saved.isEmpty {
            managerConfiguration.adminToken = saved
        }
        let manager: DroverManagerApp
        let listening = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        do {
            manager = try await DroverManagerApp.build(
                configuration: managerConfiguration, logger: logger, metrics: metrics,
                onListening: { url in
                    ProcessSetup.say("drover manager listening on \(url)")
                    listening.continuation.yield()
                    listening.continuation.finish()
                }
            )
        } catch {
            throw ValidationError("cannot start the manager: \(error)")
        }
        guard let adminToken = manager.adminToken else {
            throw ValidationError("the admin token of \(dataDir)/drover.db is stored only as a hash and \(tokenFile) is gone: pass --admin-token, or remove \(dataDir) to start afresh")
        }
        _ = FileManager.default.createFile(atPath: tokenFile, contents: Data(adminToken.utf8), attributes: [.posixPermissions: 0o600])

        let scheme = managerConfiguration.tlsEnabled ? "https" : "http"
        var node = NodeConfiguration(
            managerURL: "\(scheme)://\(managerOptions.host == "0.0.0.0" ? "127.0.0.1" : managerOptions.host):\(managerOptions.port)",
            token: adminToken, nodeID: nodeId
        )
        if managerConfiguration.tlsEnabled { node.caFile = ca ?? managerConfiguration.tlsCertificatePath }
        node.apiPort = nodePort
        if nodeOptions.catalog == nil, FileManager.default.fileExists(atPath: "examples/agents.yaml") {
            try? node.catalog.load(yamlFile: "examples/agents.yaml")
        }
        try nodeOptions.apply(to: &node)
        do {
            try node.validate()
        } catch {
            throw ValidationError("\(error)")
        }
        let nodeApp = DroverNodeApp(configuration: node, logger: logger, metrics: metrics)

        let base = "\(scheme)://\(managerOptions.host):\(managerOptions.port)"
        ProcessSetup.say("""

            Drover dev: manager on \(base), node '\(nodeId)', store \(dataDir)/drover.db
            admin token: \(adminToken)   (also in \(tokenFile); the CLI reads it from there)\(manager.generatedAdminPassword.map { "\n    admin password (shown once): \($0)" } ?? "")
            try:  curl -s \(node.caFile.map { "--cacert \($0) " } ?? "")-H "Authorization: Bearer \(adminToken)" \(base)/api/v1/cluster/status
                  swift run drover deploy echo && swift run drover agents
            Ctrl-C stops everything.

            """)
        let group = ServiceGroup(configuration: .init(
            // The node starts once the manager listens, so its first dial does not fail.
            services: (manager.services + [StartWhenReady(gate: listening.stream, services: nodeApp.services())]).map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        try await group.run()
    }
}

/// Runs `services` (together) once `gate` yields or ends; a graceful shutdown before that ends it quietly.
struct StartWhenReady: Service, CustomStringConvertible {
    let gate: AsyncStream<Void>
    let services: [any Service]

    var description: String { "StartWhenReady(\(services.map { "\($0)" }.joined(separator: ", ")))" }

    func run() async throws {
        _ = await cancelWhenGracefulShutdown { () async -> Void in
            for await _ in gate { break }
        }
        guard !Task.isCancelled, !Task.isShuttingDownGracefully else { return }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for service in services { group.addTask { try await service.run() } }
            try await group.waitForAll()
        }
    }
}
