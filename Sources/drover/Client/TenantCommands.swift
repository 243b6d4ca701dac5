import ArgumentParser
import DroverClient
import DroverCore
import Foundation

/// `drover tenant create|list|token`: tenants and their API tokens (admin).
struct TenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenant", abstract: "Create and list tenants; issue tenant API tokens.",
        subcommands: [TenantCreateCommand.self, TenantListCommand.self, TenantTokenCommand.self]
    )
}

/// `drover tenant create NAME`.
struct TenantCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a tenant (admin).")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The tenant's name.") var name: String

    func run() async throws {
        try await connection.perform {
            let tenant = try await connection.client.createTenant(name)
            if connection.json { return try connection.printJSON(tenant) }
            print("created tenant \(tenant.name)")
        }
    }
}

/// `drover tenant list`.
struct TenantListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List tenants.")
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        try await connection.perform {
            let tenants = try await connection.client.tenants()
            if connection.json { return try connection.printJSON(ListResponse(items: tenants)) }
            tenants.forEach { print($0.name) }
        }
    }
}

/// `drover tenant token NAME`: a new API token for a tenant, printed once.
struct TenantTokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "token", abstract: "Issue an API token for a tenant (admin); shown once.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The tenant's name.") var tenant: String
    @Option(help: "A label for the listing.") var name: String?
    @Option(help: "Lifetime: 90s, 30m, 1h, 7d, or seconds (default: no expiry).") var ttl: String?

    func run() async throws {
        let seconds = try ttl.map { text in
            guard let value = parseDuration(text) else { throw ValidationError("--ttl must look like 90s, 30m, 1h, 7d or a number of seconds") }
            return value
        }
        try await connection.perform {
            let created = try await connection.client.createAPIToken(tenant: tenant, APITokenCreateRequest(name: name, ttlSeconds: seconds))
            if connection.json { return try connection.printJSON(created) }
            print(created.token)
            FileHandle.standardError.write(Data("API token \(created.info.id) for tenant '\(tenant)' (shown only now)\n".utf8))
        }
    }
}
