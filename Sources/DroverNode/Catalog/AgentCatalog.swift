import DroverCore
import Foundation

/// How a node runs agents of a type.
public enum AgentDriverKind: String, Sendable, Hashable, CaseIterable {
    /// Compiled into the node: `echo`, `sleep`, `fail`, `counter`, `wordcount`, `sum`.
    case builtin
    /// Any program, speaking JSON Lines on stdin/stdout (docs/agent-protocol.md).
    case process
    /// An HTTP service; the node POSTs each task to it.
    case http
}

/// One agent type a node offers.
public struct AgentTypeEntry: Sendable, Hashable {
    /// The agent type name deployments refer to.
    public var name: String
    /// How agents of this type run.
    public var driver: AgentDriverKind
    /// `process`: the shell command line (run as `/bin/sh -c "exec COMMAND"`).
    /// `builtin`: the builtin to run (default: `name`).
    public var command: String?
    /// `http`: where tasks are posted.
    public var url: String?
    /// Default resources of one agent of this type (advertised to the manager).
    public var resources: ResourceSpec
    /// Extra environment variables of the agent's process.
    public var env: [String: String]

    public init(
        name: String, driver: AgentDriverKind, command: String? = nil, url: String? = nil,
        resources: ResourceSpec = .zero, env: [String: String] = [:]
    ) {
        self.name = name
        self.driver = driver
        self.command = command
        self.url = url
        self.resources = resources
        self.env = env
    }

    /// The builtin this entry runs, for `builtin` entries.
    var builtinName: String { command ?? name }
}

/// The agent types a node can run, by name. The builtins are always present (a catalog
/// entry of the same name replaces one).
public struct AgentCatalog: Sendable {
    /// Every entry, by agent type name.
    public private(set) var entries: [String: AgentTypeEntry]

    /// Names of the agents compiled into the node.
    public static let builtinNames = ["counter", "echo", "fail", "sleep", "sum", "wordcount"]

    /// A catalog holding only the builtins.
    public init() {
        entries = Dictionary(uniqueKeysWithValues: Self.builtinNames.map { ($0, AgentTypeEntry(name: $0, driver: .builtin)) })
    }

    /// The entry for `name`, if the node offers it.
    public func entry(named name: String) -> AgentTypeEntry? { entries[name] }

    /// The agent types as announced in `hello`, sorted by name.
    public var agentTypes: [AgentTypeInfo] {
        entries.values.sorted { $0.name < $1.name }.map {
            AgentTypeInfo(name: $0.name, driver: $0.driver.rawValue, resources: $0.resources)
        }
    }

    /// Adds (or replaces) one entry after checking it.
    public mutating func add(_ entry: AgentTypeEntry) throws {
        try Self.check(entry)
        entries[entry.name] = entry
    }

    /// Adds an entry from a flag `NAME=DRIVER:COMMAND`, e.g. `py_echo=process:python3 echo_agent.py`,
    /// `web=http:http://127.0.0.1:9000/task` or `quick=builtin:echo`.
    public mutating func add(flag: String) throws {
        let example = "e.g. py_echo=process:python3 echo_agent.py or web=http:http://127.0.0.1:9000/task"
        guard let equals = flag.firstIndex(of: "=") else {
            throw AgentCatalogError("agent type '\(flag.prefix(80))' must look like NAME=DRIVER:COMMAND, \(example)")
        }
        let name = String(flag[..<equals]).trimmingCharacters(in: .whitespaces)
        let rest = flag[flag.index(after: equals)...]
        let driverText: String
        let argument: String?
        if let colon = rest.firstIndex(of: ":") {
            driverText = String(rest[..<colon]).trimmingCharacters(in: .whitespaces)
            argument = String(rest[rest.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
        } else {
            driverText = String(rest).trimmingCharacters(in: .whitespaces)
            argument = nil
        }
        guard let driver = AgentDriverKind(rawValue: driverText.lowercased()) else {
            throw AgentCatalogError("agent type '\(name)': unknown driver '\(driverText.prefix(40))'; use builtin, process or http (\(example))")
        }
        var entry = AgentTypeEntry(name: name, driver: driver)
        switch driver {
        case .builtin: entry.command = (argument?.isEmpty ?? true) ? nil : argument
        case .process: entry.command = argument
        case .http: entry.url = argument
        }
        try add(entry)
    }

    /// Adds every entry of a YAML catalog file (see `load(yaml:source:)`).
    public mutating func load(yamlFile path: String) throws {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw AgentCatalogError("cannot read agent catalog '\(path)': \(error.localizedDescription)")
        }
        try load(yaml: text, source: path)
    }

    /// Adds every entry of a YAML catalog:
    ///
    /// ```yaml
    /// agent_types:
    ///   trading_agent: {driver: process, command: "python3 agent.py", resources: {cpu: 0.5, memory_mb: 256}}
    ///   web: {driver: http, url: "http://127.0.0.1:9000/task"}
    /// ```
    ///
    /// Nothing is added when any entry is wrong.
    public mutating func load(yaml: String, source: String = "agent catalog") throws {
        let parsed = try CatalogYAML.parse(yaml, source: source)
        for entry in parsed {
            do {
                try Self.check(entry)
            } catch let error as AgentCatalogError {
                throw AgentCatalogError("\(source): \(error.message)")
            }
        }
        for entry in parsed { entries[entry.name] = entry }
    }

    /// The rules an entry must follow.
    static func check(_ entry: AgentTypeEntry) throws {
        guard NodeConfiguration.isValidID(entry.name) else {
            throw AgentCatalogError("agent type name '\(entry.name.prefix(64))' is invalid: use 1 to 128 letters, digits, '.', '_' or '-'")
        }
        let resources = entry.resources
        guard resources.cpu >= 0, resources.memoryMB >= 0, resources.gpu >= 0, resources.cpu.isFinite, resources.memoryMB.isFinite else {
            throw AgentCatalogError("agent type '\(entry.name)': resources may not be negative")
        }
        switch entry.driver {
        case .builtin:
            guard builtinNames.contains(entry.builtinName) else {
                throw AgentCatalogError(
                    "agent type '\(entry.name)': there is no builtin agent '\(entry.builtinName)'; builtins are \(builtinNames.joined(separator: ", "))"
                )
            }
        case .process:
            guard let command = entry.command, !command.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw AgentCatalogError("agent type '\(entry.name)': driver 'process' needs a command, e.g. \"python3 agent.py\"")
            }
        case .http:
            guard let text = entry.url, let url = URL(string: text), let scheme = url.scheme?.lowercased(),
                scheme == "http" || scheme == "https", url.host?.isEmpty == false
            else {
                throw AgentCatalogError(
                    "agent type '\(entry.name)': driver 'http' needs a url like http://127.0.0.1:9000/task, got '\(entry.url?.prefix(80) ?? "nothing")'"
                )
            }
        }
    }
}

/// An agent catalog entry, flag or file is wrong; the message says which and how.
public struct AgentCatalogError: Error, CustomStringConvertible, Equatable {
    /// What is wrong and how to fix it.
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
