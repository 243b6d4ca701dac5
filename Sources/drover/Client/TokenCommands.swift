import ArgumentParser
import DroverClient
import DroverCore
import Foundation

/// `drover token create|list|revoke`: node join tokens.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Make, list and revoke node join tokens.",
        subcommands: [TokenCreateCommand.self, TokenListCommand.self, TokenRevokeCommand.self]
    )
}

/// `drover token create --tenant T --ttl 1h`.
struct TokenCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Make a join token: one node joins with it once (drover node --token TOKEN --tenant T)."
    )
    @OptionGroup var connection: ConnectionOptions

    @Option(help: "Tenant the node will belong to (default: your own, or 'default' for an admin).")
    var tenant: String?

    @Option(help: "How long the token stays usable: 90s, 30m, 1h, 7d, or seconds.")
    var ttl = "1h"

    @Option(help: "A label for the listing.")
    var name: String?

    func run() async throws {
        guard let seconds = parseDuration(ttl) else { throw ValidationError("--ttl must look like 90s, 30m, 1h, 7d or a number of seconds, got '\(ttl)'") }
        try await connection.perform {
            let created = try await connection.client.createJoinToken(JoinTokenCreateRequest(tenant: tenant, ttlSeconds: seconds, name: name))
            if connection.json { return try connection.printJSON(created) }
            print(created.token)
            FileHandle.standardError.write(Data("""
                join token \(created.info.id) for tenant '\(created.info.tenant)', usable once until \(JSONCoding.formatDate(created.info.expiresAt ?? Date()))
                (shown only now) start the node with: drover node --tenant \(created.info.tenant) --token \(created.token)

                """.utf8))
        }
    }
}

/// `drover token list`.
struct TokenListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List join tokens (never their secrets).")
    @OptionGroup var connection: ConnectionOptions

    @Option(help: "Only this tenant's tokens.")
    var tenant: String?

    func run() async throws {
        try await connection.perform {
            let tokens = try await connection.client.joinTokens(tenant: tenant)
            if connection.json { return try connection.printJSON(ListResponse(items: tokens)) }
            var table = TableFormatter(headers: ["ID", "TENANT", "NAME", "EXPIRES", "USED BY", "REVOKED"])
            for token in tokens {
                table.append([
                    token.id, token.tenant, token.name, token.expiresAt.map(JSONCoding.formatDate) ?? "-", token.nodeID ?? "-",
                    token.revokedAt.map(JSONCoding.formatDate) ?? "-",
                ])
            }
            print(table.render())
        }
    }
}

/// `drover token revoke ID`.
struct TokenRevokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke", abstract: "Revoke a join token; the node that used it is disconnected at once and refused after."
    )
    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "The token id (jtk-…).")
    var id: String

    func run() async throws {
        try await connection.perform {
            try await connection.client.revokeJoinToken(id: id)
            print("revoked \(id)")
        }
    }
}

/// Seconds in `90s`, `30m`, `1h`, `7d` or a plain number; `nil` when it is none of those or not positive.
func parseDuration(_ text: String) -> Double? {
    let units: [Character: Double] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400]
    var number = text.trimmingCharacters(in: .whitespaces)
    var factor = 1.0
    if let last = number.last, let unit = units[last] {
        factor = unit
        number.removeLast()
    }
    guard let value = Double(number), value.isFinite, value > 0 else { return nil }
    return value * factor
}
