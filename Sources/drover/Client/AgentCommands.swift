import ArgumentParser
import DroverClient
import DroverCore
import Foundation

/// `drover agents`: every agent with its node, generation and status.
struct AgentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "agents", abstract: "List agents.")
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        try await connection.perform {
            let agents = try await connection.client.agents()
            if connection.json { return try connection.printJSON(ListResponse(items: agents)) }
            var table = TableFormatter(headers: ["ID", "TYPE", "TENANT", "NODE", "GEN", "STATUS", "RESTARTS", "NOTE"])
            for agent in agents {
                table.append([
                    agent.id, agent.agentType, agent.tenant, agent.nodeID ?? "-", "\(agent.generation)",
                    agent.desiredState == .stopped ? "stopping" : agent.status.rawValue, "\(agent.restarts)", agent.lastError ?? "",
                ])
            }
            print(table.render())
        }
    }
}

/// `drover deploy TYPE`: place a new agent.
struct DeployCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "deploy", abstract: "Deploy an agent of a type some node offers.")
    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "Agent type, e.g. echo, counter, or a type from a node's catalog.")
    var type: String

    @Option(help: "Agent config as a JSON object.")
    var config: String?

    @Option(help: "Placement strategy: \(PlacementStrategy.allCases.map(\.rawValue).joined(separator: ", ")).")
    var strategy: String?

    @Option(help: "Place it on this node only.")
    var node: String?

    @Option(help: "Tenant that owns the agent.")
    var tenant: String?

    @Option(help: "CPU cores the agent needs.")
    var cpu: Double?

    @Option(help: "Memory the agent needs, in MiB.")
    var memoryMb: Double?

    @Option(help: "Capability the node must offer (repeatable).")
    var capability: [String] = []

    @Flag(help: "Say where the agent would go without deploying it.")
    var dryRun = false

    @Option(help: "Place this many agents of the spec in one call (1 to 10000): all of them, or none.")
    var replicas: Int?

    func run() async throws {
        if let replicas, !(1...10_000).contains(replicas) { throw ValidationError("--replicas must be from 1 to 10000") }
        let parsedConfig = try config.map { try parseJSONFlag($0, flag: "--config") }
        if let parsedConfig, parsedConfig.objectValue == nil { throw ValidationError("--config must be a JSON object") }
        var parsedStrategy: PlacementStrategy?
        if let strategy {
            guard let value = PlacementStrategy(rawValue: strategy) else {
                throw ValidationError("--strategy must be one of \(PlacementStrategy.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            parsedStrategy = value
        }
        let resources = (cpu != nil || memoryMb != nil) ? ResourceSpec(cpu: cpu ?? 0, memoryMB: memoryMb ?? 0) : nil
        let request = DeployRequest(
            agentType: type, agentConfig: parsedConfig, deploymentStrategy: parsedStrategy, preferredContainer: node,
            orchestratorID: tenant, resourceRequirements: resources, requiredCapabilities: capability.isEmpty ? nil : capability
        )
        if let replicas {
            return try await connection.perform {
                let agents = try await connection.client.deploy(request, replicas: replicas, dryRun: dryRun)
                if connection.json { return try connection.printJSON(agents) }
                var perNode: [String: Int] = [:]
                for agent in agents { perNode[agent.nodeID ?? "-", default: 0] += 1 }
                let spread = perNode.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
                print("\(dryRun ? "would deploy" : "deployed") \(agents.count) \(type) agents (\(spread))\(dryRun ? " (dry run: nothing changed)" : "")")
            }
        }
        try await connection.perform {
            let agent = try await (dryRun ? connection.client.deployDryRun(request) : connection.client.deploy(request))
            if connection.json { return try connection.printJSON(agent) }
            if dryRun { return print("would deploy \(agent.agentType) on \(agent.nodeID ?? "-") (dry run: nothing changed)") }
            print("deployed \(agent.id) (\(agent.agentType)) on \(agent.nodeID ?? "-"), generation \(agent.generation), \(agent.status.rawValue)")
        }
    }
}

/// `drover undeploy AGENT_ID`: stop and remove an agent.
struct UndeployCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "undeploy", abstract: "Stop and remove an agent.")
    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "Agent id.")
    var agentID: String

    func run() async throws {
        try await connection.perform {
            let agent = try await connection.client.undeploy(id: agentID)
            if connection.json { return try connection.printJSON(agent) }
            print("undeploying \(agent.id); its node stops it and the manager forgets it")
        }
    }
}
