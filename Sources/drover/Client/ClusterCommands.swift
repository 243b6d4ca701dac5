import ArgumentParser
import DroverClient
import DroverCore
import Foundation

/// `drover status`: node and agent counts, capacity.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show the cluster's status.")
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        try await connection.perform {
            let status = try await connection.client.clusterStatus()
            if connection.json { return try connection.printJSON(status) }
            func counts(_ map: [String: Int]) -> String {
                map.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            }
            print("drover \(status.version), up \(Int(status.uptimeSeconds)) s")
            print("nodes:      \(counts(status.nodes).isEmpty ? "none" : counts(status.nodes))")
            print("agents:     \(counts(status.agents).isEmpty ? "none" : counts(status.agents))")
            print("open tasks: \(status.openTasks)")
            print("capacity:   \(format(status.capacity.cpu)) CPU, \(Int(status.capacity.memoryMB)) MiB; allocated \(format(status.allocated.cpu)) CPU, \(Int(status.allocated.memoryMB)) MiB")
        }
    }
}

/// `drover nodes`: every node the manager knows.
struct NodesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "nodes", abstract: "List nodes.")
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        try await connection.perform {
            let nodes = try await connection.client.nodes()
            if connection.json { return try connection.printJSON(ListResponse(items: nodes)) }
            var table = TableFormatter(headers: ["ID", "TENANT", "STATUS", "CONNECTION", "CPU", "MEMORY", "TYPES", "LAST HEARTBEAT"])
            for node in nodes {
                table.append([
                    node.id, node.tenant, node.status.rawValue, node.connection.rawValue, format(node.resources.capacity.cpu),
                    "\(Int(node.resources.capacity.memoryMB)) MiB", node.agentTypes.map(\.name).joined(separator: ","),
                    "\(Int(Date().timeIntervalSince(node.lastHeartbeat))) s ago",
                ])
            }
            print(table.render())
        }
    }
}

func format(_ value: Double) -> String {
    value.rounded() == value ? String(Int(value)) : String(format: "%.2f", value)
}

/// `drover events`: what happened to nodes and agents, oldest first.
struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "events", abstract: "Show cluster events (nodes down, agents moved, ...).")
    @OptionGroup var connection: ConnectionOptions

    @Option(help: "Only events numbered above this.")
    var after = 0

    @Option(help: "Most events to show.")
    var limit = 100

    func run() async throws {
        try await connection.perform {
            let events = try await connection.client.events(after: after, limit: limit)
            if connection.json { return try connection.printJSON(ListResponse(items: events)) }
            var table = TableFormatter(headers: ["#", "AT", "KIND", "NODE", "AGENT", "MESSAGE"])
            for event in events {
                table.append([
                    "\(event.sequence)", JSONCoding.formatDate(event.at), event.kind, event.nodeID ?? "-", event.agentID ?? "-", event.message,
                ])
            }
            print(table.render())
        }
    }
}
