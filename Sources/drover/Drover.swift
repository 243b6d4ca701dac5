import ArgumentParser
import DroverCore

/// The `drover` command: servers (`manager`, `node`, `dev`) and the client commands.
@main
struct Drover: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drover",
        abstract: "Run AI agents across machines you own, from one central manager.",
        version: DroverVersion.string,
        subcommands: [ManagerCommand.self, NodeCommand.self, DevCommand.self] + clientCommands
    )

    /// Sets up the manager's process (`MallocArenas`, `ConcurrencyExecutor`) before any command runs.
    static func main() async {
        let command = CommandLine.arguments.dropFirst().first
        if command == "manager" || command == "dev" { MallocArenas.limitUnlessConfigured() }
        if command == "manager" { ConcurrencyExecutor.installFromEnvironment() }
        await main(nil)
    }
}
