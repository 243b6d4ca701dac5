import DroverCore
import DroverYAML
import Foundation
import Yams

/// Reads the YAML form of an agent catalog into entries, with errors that name the field.
enum CatalogYAML {
    static func parse(_ text: String, source: String) throws -> [AgentTypeEntry] {
        let root: Node?
        do {
            root = try BoundedYAML.compose(text)
        } catch {
            throw AgentCatalogError("\(source) is not valid YAML: \(error)")
        }
        guard let mapping = root?.mapping, let types = mapping["agent_types"] else {
            throw AgentCatalogError("\(source): expected a top-level 'agent_types' mapping, like\nagent_types:\n  my_agent: {driver: process, command: \"python3 agent.py\"}")
        }
        if types.null != nil { return [] }
        guard let typeMapping = types.mapping else {
            throw AgentCatalogError("\(source): 'agent_types' must be a mapping of agent type name to its entry")
        }
        var entries: [AgentTypeEntry] = []
        for (key, value) in typeMapping {
            guard let name = key.string else { throw AgentCatalogError("\(source): agent type names must be strings") }
            entries.append(try entry(name: name, node: value, source: source))
        }
        return entries
    }

    private static func entry(name: String, node: Node, source: String) throws -> AgentTypeEntry {
        let path = "\(source): agent_types.\(name)"
        guard let fields = node.mapping else {
            throw AgentCatalogError("\(path) must be a mapping like {driver: process, command: \"python3 agent.py\"}")
        }
        let known: Set = ["driver", "command", "url", "resources", "env"]
        for (key, _) in fields {
            let field = key.string ?? "?"
            guard known.contains(field) else {
                throw AgentCatalogError("\(path): unknown field '\(field)'; fields are \(known.sorted().joined(separator: ", "))")
            }
        }
        guard let driverText = fields["driver"]?.string else {
            throw AgentCatalogError("\(path).driver is required: builtin, process or http")
        }
        guard let driver = AgentDriverKind(rawValue: driverText.lowercased()) else {
            throw AgentCatalogError("\(path).driver '\(driverText.prefix(40))' is unknown; use builtin, process or http")
        }
        var entry = AgentTypeEntry(name: name, driver: driver)
        entry.command = try optionalString(fields["command"], path: "\(path).command")
        entry.url = try optionalString(fields["url"], path: "\(path).url")
        if let resources = fields["resources"], resources.null == nil {
            entry.resources = try self.resources(resources, path: "\(path).resources")
        }
        if let env = fields["env"], env.null == nil {
            guard let envMapping = env.mapping else { throw AgentCatalogError("\(path).env must be a mapping of names to values") }
            for (key, value) in envMapping {
                guard let variable = key.string, let text = value.scalar?.string else {
                    throw AgentCatalogError("\(path).env: each entry must be NAME: value")
                }
                entry.env[variable] = text
            }
        }
        return entry
    }

    private static func optionalString(_ node: Node?, path: String) throws -> String? {
        guard let node, node.null == nil else { return nil }
        guard let scalar = node.scalar else { throw AgentCatalogError("\(path) must be a string") }
        return scalar.string
    }

    private static func resources(_ node: Node, path: String) throws -> ResourceSpec {
        guard let fields = node.mapping else {
            throw AgentCatalogError("\(path) must be a mapping like {cpu: 0.5, memory_mb: 256, gpu: 0}")
        }
        var spec = ResourceSpec()
        for (key, value) in fields {
            let field = key.string ?? "?"
            switch field {
            case "cpu": spec.cpu = try number(value, path: "\(path).cpu")
            case "memory_mb": spec.memoryMB = try number(value, path: "\(path).memory_mb")
            case "gpu":
                guard let gpu = value.int, gpu >= 0 else { throw AgentCatalogError("\(path).gpu must be a whole number ≥ 0") }
                spec.gpu = gpu
            default:
                throw AgentCatalogError("\(path): unknown field '\(field)'; fields are cpu, memory_mb, gpu")
            }
        }
        return spec
    }

    private static func number(_ node: Node, path: String) throws -> Double {
        guard let value = node.int.map(Double.init) ?? node.float, value.isFinite, value >= 0 else {
            throw AgentCatalogError("\(path) must be a number ≥ 0")
        }
        return value
    }
}
