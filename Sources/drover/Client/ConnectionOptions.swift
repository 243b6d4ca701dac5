import ArgumentParser
import DroverClient
import DroverCore
import Foundation

/// `--manager`, `--token` and `--json`, shared by every client command.
struct ConnectionOptions: ParsableArguments {
    @Option(help: "Manager URL (default: $DROVER_MANAGER, else http://127.0.0.1:8000).")
    var manager: String?

    @Option(help: "API token (default: $DROVER_TOKEN, else ./.drover/admin-token written by `drover dev`).")
    var token: String?

    @Option(help: "PEM file of the CA that signed an https:// manager's certificate (default: $DROVER_CA, else the system's roots).")
    var ca: String?

    @Flag(help: "Print raw JSON, for scripts.")
    var json = false

    var client: DroverClient {
        get throws {
            let environment = ProcessInfo.processInfo.environment
            let url = manager ?? environment["DROVER_MANAGER"] ?? "http://127.0.0.1:8000"
            let fileToken = (try? String(contentsOfFile: ".drover/admin-token", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            let caFile = ca ?? environment["DROVER_CA"].flatMap { $0.isEmpty ? nil : $0 }
            do {
                return try DroverClient(baseURL: url, token: token ?? environment["DROVER_TOKEN"] ?? fileToken, caFile: caFile)
            } catch {
                throw ValidationError("\(error)")
            }
        }
    }

    /// Runs `body`, printing API and transport errors as one line on stderr with exit code 1.
    func perform(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as DroverClientError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    /// Prints `value` as sorted JSON.
    func printJSON(_ value: some Encodable) throws {
        let encoder = JSONCoding.encoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}

/// Parses a JSON flag value, naming the flag when it is not JSON.
func parseJSONFlag(_ text: String, flag: String) throws -> JSONValue {
    do {
        return try JSONCoding.decoder().decode(JSONValue.self, from: Data(text.utf8))
    } catch {
        throw ValidationError("\(flag) is not valid JSON: \(text.prefix(80))")
    }
}

/// Every client command, for the root command's subcommand list.
let clientCommands: [any ParsableCommand.Type] = [
    StatusCommand.self, NodesCommand.self, AgentsCommand.self, DeployCommand.self, UndeployCommand.self,
    TaskCommand.self, TaskStatusCommand.self, MigrateCommand.self, DrainCommand.self, RebalanceCommand.self, EventsCommand.self,
    WorkflowCommand.self,
    TokenCommand.self, TenantCommand.self,
]
