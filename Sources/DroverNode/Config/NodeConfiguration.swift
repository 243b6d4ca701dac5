import DroverCore
import Foundation

/// Everything a node needs to run: who it is, where its manager is, what it offers.
///
/// Build it with `init` (every field has a default), apply the environment with
/// `fromEnvironment(_:)`, then command-line flags over it, and call `validate()`.
public struct NodeConfiguration: Sendable {
    /// Base URL of the manager, e.g. `http://127.0.0.1:8000`. The node dials
    /// `ws(s)://host:port/api/v1/cluster/connect` (https → wss).
    public var managerURL: String
    /// Join token, sent as `Authorization: Bearer <token>` on the WebSocket upgrade.
    public var token: String
    /// Where the node keeps the credential the manager gives it for a join token (`drj_…`),
    /// and reads it from on the next start; `nil`: kept in memory only.
    public var credentialFile: String?
    /// Node id: 1 to 128 letters, digits, `.`, `_` or `-`.
    public var nodeID: String
    /// Tenant that owns the node.
    public var tenant: String
    /// Display name (the node id when empty).
    public var name: String
    /// Address other machines can reach this node at (EXTERNAL_IP).
    public var hostAddress: String
    /// Address the local API binds to.
    public var apiHost: String
    /// Port of the local API; 0 picks a free one.
    public var apiPort: Int
    /// Capabilities offered to agents that require them (e.g. `gpu`).
    public var capabilities: [String]
    /// Labels matched by agents' node selectors.
    public var labels: [String: String]
    /// Most agents this node runs at once.
    public var maxAgents: Int
    /// When set, the node heartbeats at `min(this, the manager's interval from welcome)`.
    public var heartbeatInterval: Duration?
    /// Resources offered to agents (default: cores and physical memory the OS reports, no GPU).
    public var capacity: ResourceSpec
    /// The agent types this node can run.
    public var catalog: AgentCatalog
    /// What happens when an agent crashes.
    public var restartPolicy: RestartPolicy
    /// Delay between attempts to reach the manager.
    public var reconnectBackoff: Backoff
    /// How long the node waits for `welcome` after `hello`.
    public var welcomeTimeout: Duration
    /// Task results remembered for duplicate `task.run`s (the task id is the key).
    public var resultCacheSize: Int
    /// Task results kept while the manager is unreachable; the oldest are dropped past this.
    public var maxBufferedResults: Int
    /// Largest WebSocket frame, in bytes.
    public var maxFrameBytes: Int
    /// PEM file of the CA that signed the manager's certificate (`--ca`); `nil`: the system's roots.
    public var caFile: String?
    /// The name the manager's certificate must carry when it is not the URL's host (`--tls-server-name`).
    public var tlsServerName: String?

    /// A configuration with defaults for everything not given.
    public init(
        managerURL: String = "http://127.0.0.1:8000",
        token: String = "",
        nodeID: String = NodeConfiguration.defaultNodeID(),
        tenant: String = "default",
        name: String? = nil,
        hostAddress: String = "127.0.0.1",
        apiHost: String = "127.0.0.1",
        apiPort: Int = 8001,
        capabilities: [String] = [],
        labels: [String: String] = [:],
        maxAgents: Int = 50,
        heartbeatInterval: Duration? = nil,
        capacity: ResourceSpec = SystemResources.defaultCapacity(),
        catalog: AgentCatalog = AgentCatalog(),
        restartPolicy: RestartPolicy = RestartPolicy(),
        reconnectBackoff: Backoff = Backoff(base: .milliseconds(250), factor: 2, cap: .seconds(5), jitter: .full),
        welcomeTimeout: Duration = .seconds(10),
        resultCacheSize: Int = 10_000,
        maxBufferedResults: Int = 10_000,
        maxFrameBytes: Int = 1 << 20
    ) {
        self.managerURL = managerURL
        self.token = token
        self.nodeID = nodeID
        self.tenant = tenant
        self.name = name ?? nodeID
        self.hostAddress = hostAddress
        self.apiHost = apiHost
        self.apiPort = apiPort
        self.capabilities = capabilities
        self.labels = labels
        self.maxAgents = maxAgents
        self.heartbeatInterval = heartbeatInterval
        self.capacity = capacity
        self.catalog = catalog
        self.restartPolicy = restartPolicy
        self.reconnectBackoff = reconnectBackoff
        self.welcomeTimeout = welcomeTimeout
        self.resultCacheSize = resultCacheSize
        self.maxBufferedResults = maxBufferedResults
        self.maxFrameBytes = maxFrameBytes
    }

    /// The host name, made into a valid node id (other characters become `-`).
    public static func defaultNodeID() -> String {
        let host = ProcessInfo.processInfo.hostName
        let cleaned = String(host.unicodeScalars.map { isIDCharacter($0) ? Character($0) : "-" }.prefix(128))
        return cleaned.isEmpty ? "node" : cleaned
    }

    /// The display name sent to the manager.
    var effectiveName: String { name.isEmpty ? nodeID : name }

    /// Checks every field a user can get wrong; the error says which and how.
    public func validate() throws {
        _ = try connectURL()
        _ = try ManagerTLS(caFile: caFile, serverName: tlsServerName)
        if let tlsServerName, tlsServerName.isEmpty || ManagerTLS.isIPAddress(tlsServerName) {
            throw NodeConfigurationError("--tls-server-name must be a DNS name, got '\(tlsServerName.prefix(64))'")
        }
        guard Self.isValidID(nodeID) else {
            throw NodeConfigurationError("node id '\(nodeID.prefix(64))' is invalid: use 1 to 128 letters, digits, '.', '_' or '-'")
        }
        guard Self.isValidID(tenant) else {
            throw NodeConfigurationError("tenant '\(tenant.prefix(64))' is invalid: use 1 to 128 letters, digits, '.', '_' or '-'")
        }
        guard (0...65_535).contains(apiPort) else {
            throw NodeConfigurationError("local API port \(apiPort) is out of range 0-65535")
        }
        guard maxAgents >= 0 else { throw NodeConfigurationError("max agents may not be negative (got \(maxAgents))") }
        if let heartbeatInterval, heartbeatInterval <= .zero {
            throw NodeConfigurationError("heartbeat interval must be positive")
        }
        guard capacity.cpu >= 0, capacity.memoryMB >= 0, capacity.gpu >= 0 else {
            throw NodeConfigurationError("capacity may not be negative")
        }
        guard resultCacheSize >= 0, maxBufferedResults >= 0, maxFrameBytes >= 1024 else {
            throw NodeConfigurationError("result cache, result buffer and frame size must be positive")
        }
    }

    /// The WebSocket URL of the manager's node gateway, derived from `managerURL`.
    public func connectURL() throws -> String {
        var text = managerURL.trimmingCharacters(in: .whitespaces)
        if !text.contains("://") { text = "http://" + text }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty
        else {
            throw NodeConfigurationError("manager URL '\(managerURL)' is not a URL like http://127.0.0.1:8000")
        }
        let wsScheme: String
        switch scheme {
        case "http", "ws": wsScheme = "ws"
        case "https", "wss": wsScheme = "wss"
        default:
            throw NodeConfigurationError("manager URL '\(managerURL)' must start with http://, https://, ws:// or wss://")
        }
        var path = components.path
        while path.hasSuffix("/") { path.removeLast() }
        if !path.hasSuffix("/api/v1/cluster/connect") { path += "/api/v1/cluster/connect" }
        let hostPart = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        let port = components.port.map { ":\($0)" } ?? ""
        return "\(wsScheme)://\(hostPart)\(port)\(path)"
    }

    /// Ids: 1 to 128 letters, digits, `.`, `_` or `-` (the manager's rule).
    static func isValidID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 128 && id.unicodeScalars.allSatisfy(isIDCharacter)
    }

    private static func isIDCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", ".", "_", "-": return true
        default: return false
        }
    }
}

/// A configuration value a user gave is wrong; the message says which and how to fix it.
public struct NodeConfigurationError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension NodeConfiguration: CustomStringConvertible {
    /// The configuration with the token redacted, safe for logs.
    public var description: String {
        "NodeConfiguration(node: \(nodeID), tenant: \(tenant), manager: \(managerURL), token: <redacted>, api: \(apiHost):\(apiPort))"
    }
}
