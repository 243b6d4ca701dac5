import DroverCore
import Foundation

extension NodeConfiguration {
    /// A configuration with defaults, overridden by the environment variables that are set
    /// (empty ones count as unset). Apply command-line flags over the result.
    ///
    /// - `CENTRAL_MANAGER_URL`: manager URL.
    /// - `DROVER_TOKEN`: join token.
    /// - `ORCHESTRATOR_ID`: tenant.
    /// - `AGENT_PORT`: local API port (0-65535).
    /// - `AGENT_CONFIG`: JSON object with optional `capabilities` (array of strings),
    ///   `max_agents` (non-negative integer) and `labels` (object of strings).
    /// - `HEARTBEAT_INTERVAL`: seconds (positive number).
    /// - `EXTERNAL_IP`: advertised host address.
    ///
    /// Throws `NodeConfigurationError` naming the variable when a value is malformed.
    public static func fromEnvironment(_ environment: [String: String]) throws -> NodeConfiguration {
        var configuration = NodeConfiguration()
        try configuration.apply(environment: environment)
        return configuration
    }

    /// Overrides the fields set in `environment` (see `fromEnvironment(_:)`).
    public mutating func apply(environment: [String: String]) throws {
        func value(_ name: String) -> String? {
            guard let raw = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !raw.isEmpty else { return nil }
            return raw
        }
        if let url = value("CENTRAL_MANAGER_URL") {
            var probe = self
            probe.managerURL = url
            do { _ = try probe.connectURL() } catch { throw NodeConfigurationError("CENTRAL_MANAGER_URL: \(error)") }
            managerURL = url
        }
        if let token = value("DROVER_TOKEN") { self.token = token }
        if let tenant = value("ORCHESTRATOR_ID") {
            guard Self.isValidID(tenant) else {
                throw NodeConfigurationError("ORCHESTRATOR_ID '\(tenant.prefix(64))' is not a valid tenant: use 1 to 128 letters, digits, '.', '_' or '-'")
            }
            self.tenant = tenant
        }
        if let port = value("AGENT_PORT") {
            guard let number = Int(port), (0...65_535).contains(number) else {
                throw NodeConfigurationError("AGENT_PORT must be a port number 0-65535, got '\(port.prefix(64))'")
            }
            apiPort = number
        }
        if let interval = value("HEARTBEAT_INTERVAL") {
            guard let seconds = Double(interval), seconds.isFinite, seconds > 0, seconds <= 86_400 else {
                throw NodeConfigurationError("HEARTBEAT_INTERVAL must be a positive number of seconds, got '\(interval.prefix(64))'")
            }
            heartbeatInterval = .seconds(double: seconds)
        }
        if let address = value("EXTERNAL_IP") { hostAddress = address }
        if let json = value("AGENT_CONFIG") { try apply(agentConfig: json) }
    }

    /// Reads `AGENT_CONFIG`: `{"capabilities": [...], "max_agents": n, "labels": {...}}`.
    private mutating func apply(agentConfig json: String) throws {
        let document: JSONValue
        do {
            document = try JSONCoding.decode(JSONValue.self, from: json)
        } catch {
            throw NodeConfigurationError("AGENT_CONFIG is not valid JSON: expected an object like {\"capabilities\": [\"gpu\"], \"max_agents\": 10}")
        }
        guard let object = document.objectValue else {
            throw NodeConfigurationError("AGENT_CONFIG must be a JSON object, like {\"capabilities\": [\"gpu\"], \"max_agents\": 10}")
        }
        if let value = object["capabilities"], value != .null {
            let strings = value.arrayValue?.compactMap(\.stringValue)
            guard let strings, strings.count == value.arrayValue?.count else {
                throw NodeConfigurationError("AGENT_CONFIG.capabilities must be an array of strings")
            }
            capabilities = strings
        }
        if let value = object["max_agents"], value != .null {
            guard let number = value.intValue, number >= 0 else {
                throw NodeConfigurationError("AGENT_CONFIG.max_agents must be a non-negative integer")
            }
            maxAgents = number
        }
        if let value = object["labels"], value != .null {
            guard let members = value.objectValue else {
                throw NodeConfigurationError("AGENT_CONFIG.labels must be an object of strings, like {\"region\": \"eu\"}")
            }
            var labels: [String: String] = [:]
            for (key, member) in members {
                guard let text = member.stringValue else {
                    throw NodeConfigurationError("AGENT_CONFIG.labels.\(key) must be a string")
                }
                labels[key] = text
            }
            self.labels = labels
        }
    }
}
