import ArgumentParser
import DroverCore
import DroverNode
import Foundation
import Logging
import ServiceLifecycle

/// Options shared by `drover node` and `drover dev` for the node's agents and identity.
struct NodeOptions: ParsableArguments {
    @Option(help: "Capability this node offers (repeatable).")
    var capability: [String] = []

    @Option(help: "Label key=value of this node (repeatable).")
    var label: [String] = []

    @Option(help: "Most agents this node runs at once.")
    var maxAgents: Int?

    @Option(help: "Agent catalog file (YAML) mapping agent types to drivers.")
    var catalog: String?

    @Option(help: "Agent type NAME=DRIVER:COMMAND, e.g. py_echo=process:'python3 echo_agent.py' (repeatable).")
    var agentType: [String] = []

    @Option(help: "CPU cores offered to agents (default: what the OS reports).")
    var cpu: Double?

    @Option(help: "Memory offered to agents in MiB (default: what the OS reports).")
    var memoryMb: Double?

    @Option(help: "Restarts in a row before a crashing agent is failed on this node.")
    var maxRestarts: Int?

    @Option(help: "First restart delay in seconds; it doubles up to 10 s.")
    var restartBackoff: Double?

    /// Applies these flags over `configuration` (which already holds the environment).
    func apply(to configuration: inout NodeConfiguration) throws {
        configuration.capabilities += capability
        for entry in label {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else { throw ValidationError("--label must be key=value, got '\(entry)'") }
            configuration.labels[parts[0]] = parts[1]
        }
        if let maxAgents {
            guard maxAgents >= 0 else { throw ValidationError("--max-agents may not be negative") }
            configuration.maxAgents = maxAgents
        }
        if let cpu {
            guard cpu >= 0 else { throw ValidationError("--cpu may not be negative") }
            configuration.capacity.cpu = cpu
        }
        if let memoryMb {
            guard memoryMb >= 0 else { throw ValidationError("--memory-mb may not be negative") }
            configuration.capacity.memoryMB = memoryMb
        }
        if let maxRestarts {
            guard maxRestarts >= 0 else { throw ValidationError("--max-restarts may not be negative") }
            configuration.restartPolicy.maxRestarts = maxRestarts
        }
        if let restartBackoff {
            guard restartBackoff > 0, restartBackoff <= 3600 else { throw ValidationError("--restart-backoff must be between 0 and 3600 seconds") }
            configuration.restartPolicy.backoff.base = .milliseconds(Int64(restartBackoff * 1000))
        }
        do {
            if let catalog { try configuration.catalog.load(yamlFile: catalog) }
            for entry in agentType { try configuration.catalog.add(flag: entry) }
        } catch {
            throw ValidationError("\(error)")
        }
    }
}

/// `drover node`: runs agents for the manager; dials out, so it needs no inbound port.
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node", abstract: "Run a node: connect to the manager and run the agents it places here."
    )

    @Option(help: "Manager URL (default: $CENTRAL_MANAGER_URL, else http://127.0.0.1:8000).")
    var manager: String?

    @Option(help: "Token to join with (default: $DROVER_TOKEN).")
    var token: String?

    @Option(help: "File the node keeps the credential it gets for a join token in, and reads on start (default: .drover-node/ID.credential).")
    var credentialFile: String?

    @Option(help: "PEM file of the CA that signed the manager's certificate, for an https:// manager (default: $DROVER_CA, else the system's roots).")
    var ca: String?

    @Option(help: "Name the manager's certificate must carry when it is not the --manager host.")
    var tlsServerName: String?

    @Option(help: "Node id (default: the host name).")
    var id: String?

    @Option(help: "Tenant that owns this node (default: $ORCHESTRATOR_ID, else 'default').")
    var tenant: String?

    @Option(help: "Address to bind the local API to.")
    var host: String?

    @Option(help: "Port of the local API (default: $AGENT_PORT, else 8001; 0 picks a free one).")
    var port: Int?

    @Option(help: "Heartbeat interval in seconds (default: $HEARTBEAT_INTERVAL, else the manager's).")
    var heartbeatInterval: Double?

    @OptionGroup var nodeOptions: NodeOptions

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func run() async throws {
        var configuration: NodeConfiguration
        do {
            configuration = try NodeConfiguration.fromEnvironment(ProcessInfo.processInfo.environment)
        } catch {
            throw ValidationError("\(error)")
        }
        if let manager { configuration.managerURL = manager }
        if let token { configuration.token = token }
        if let id { configuration.nodeID = id; configuration.name = id }
        if let tenant { configuration.tenant = tenant }
        configuration.caFile = ca ?? ManagerOptions.environment("DROVER_CA")
        configuration.tlsServerName = tlsServerName
        if let host { configuration.apiHost = host }
        if let port { configuration.apiPort = port }
        if let heartbeatInterval {
            guard heartbeatInterval > 0 else { throw ValidationError("--heartbeat-interval must be positive") }
            configuration.heartbeatInterval = .milliseconds(Int64(heartbeatInterval * 1000))
        }
        try nodeOptions.apply(to: &configuration)
        configuration.credentialFile = credentialFile ?? ".drover-node/\(configuration.nodeID).credential"
        do {
            try configuration.validate()
        } catch {
            throw ValidationError("\(error)")
        }
        guard !configuration.token.isEmpty || configuration.hasStoredCredential else {
            throw ValidationError("no token: pass --token or set DROVER_TOKEN (the manager prints its admin token at start)")
        }
        let (logger, metrics) = ProcessSetup.bootstrap(logLevel: logLevel, label: "drover.node")
        let node = DroverNodeApp(configuration: configuration, logger: logger, metrics: metrics)
        let group = ServiceGroup(configuration: .init(
            services: node.services().map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        try await group.run()
    }
}
