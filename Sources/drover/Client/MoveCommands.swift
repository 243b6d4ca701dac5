import ArgumentParser
import DroverClient
import DroverCore
import Foundation

/// `drover migrate AGENT_ID [--to NODE]`: move an agent with its state.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "migrate", abstract: "Move an agent to another node, with its state.")
    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "Agent id.")
    var agentID: String

    @Option(help: "Target node (default: the scheduler picks one).")
    var to: String?

    @Option(help: "Why, for the log.")
    var reason: String?

    @Flag(help: "Start fresh on the target instead of with the last checkpoint.")
    var dropState = false

    func run() async throws {
        try await connection.perform {
            let request = MigrateRequest(targetContainerID: to, reason: reason, preserveState: !dropState)
            let result = try await connection.client.migrate(agentID: agentID, request)
            if connection.json { return try connection.printJSON(result) }
            print("migrating \(agentID): \(result.from ?? "-") → \(result.to), generation \(result.agent.generation)")
        }
    }
}

/// `drover drain NODE_ID`: no new agents there; its agents move away.
struct DrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "drain", abstract: "Drain a node: no new agents, and its agents move away.")
    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "Node id.")
    var nodeID: String

    func run() async throws {
        try await connection.perform {
            let node = try await connection.client.drain(nodeID: nodeID)
            if connection.json { return try connection.printJSON(node) }
            print("node \(node.id) is \(node.status.rawValue); its agents are moving to other nodes")
        }
    }
}

/// `drover rebalance [--dry-run]`: even out agents per node.
struct RebalanceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rebalance", abstract: "Move agents so that nodes carry a similar number.")
    @OptionGroup var connection: ConnectionOptions

    @Flag(help: "Show the plan without moving anything.")
    var dryRun = false

    @Option(help: "Most agents to move in this run.")
    var maxMoves = 10

    func run() async throws {
        try await connection.perform {
            let response = try await connection.client.action(ClusterActionRequest(action: .rebalance, dryRun: dryRun, maxMoves: maxMoves))
            if connection.json { return try connection.printJSON(response) }
            if response.moves.isEmpty { return print("balanced: nothing to move") }
            var table = TableFormatter(headers: ["AGENT", "FROM", "TO"])
            for move in response.moves { table.append([move.agentID, move.from, move.to]) }
            print(table.render())
            print(dryRun ? "(dry run: nothing moved)" : "\(response.moves.count) agents moving")
        }
    }
}
