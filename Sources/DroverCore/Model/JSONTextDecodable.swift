import Foundation

/// A value that reads itself from parsed JSON (`JSONTextReader`) without `JSONDecoder`.
///
/// `init?(json:)` answers `nil` for anything it does not read exactly as the `Decodable`
/// conformance would; `JSONCoding.decode` then asks `JSONDecoder`, which reads the value or
/// gives the error with its field path. A test checks the two agree.
public protocol JSONTextDecodable: Decodable {
    init?(json: JSONValue)
}

extension JSONCoding {
    /// Decodes `type` from JSON: types that read themselves take `JSONTextReader`'s fast path,
    /// everything else (and anything the fast path declines) goes through `decoder`, which is
    /// only made then.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data, using decoder: @autoclosure () -> JSONDecoder) throws -> T {
        if let fast = T.self as? any JSONTextDecodable.Type, let json = JSONTextReader.parse(data), let value = fast.init(json: json) as? T {
            return value
        }
        return try decoder().decode(T.self, from: data)
    }
}

/// Reads the members of one JSON object the way a synthesized `Decodable` does: a required
/// member must be present and of its type; an optional one may be absent or `null`.
struct JSONMembers {
    let members: [String: JSONValue]

    init?(_ json: JSONValue) {
        guard case .object(let members) = json else { return nil }
        self.members = members
    }

    /// A required member, read by `read`; `nil` when absent or unreadable.
    func required<T>(_ key: String, _ read: (JSONValue) -> T?) -> T? {
        members[key].flatMap(read)
    }

    /// An optional member: `.some(nil)` when absent or `null`, `nil` when unreadable.
    func optional<T>(_ key: String, _ read: (JSONValue) -> T?) -> T?? {
        guard let value = members[key], value != .null else { return .some(nil) }
        guard let read = read(value) else { return nil }
        return .some(read)
    }

    static func string(_ json: JSONValue) -> String? {
        if case .string(let text) = json { return text }
        return nil
    }

    static func int(_ json: JSONValue) -> Int? {
        if case .int(let number) = json { return number }
        return nil
    }

    static func bool(_ json: JSONValue) -> Bool? {
        if case .bool(let flag) = json { return flag }
        return nil
    }

    static func double(_ json: JSONValue) -> Double? {
        switch json {
        case .int(let number): Double(number)
        case .double(let number): number
        default: nil
        }
    }

    /// A date as `JSONCoding.decoder()` reads one: seconds since 1970, or ISO 8601 text.
    static func date(_ json: JSONValue) -> Date? {
        switch json {
        case .int, .double: double(json).map { Date(timeIntervalSince1970: $0) }
        case .string(let text): JSONCoding.parseDate(text)
        default: nil
        }
    }

    static func strings(_ json: JSONValue) -> [String]? {
        guard case .array(let elements) = json else { return nil }
        var strings: [String] = []
        strings.reserveCapacity(elements.count)
        for element in elements {
            guard case .string(let text) = element else { return nil }
            strings.append(text)
        }
        return strings
    }

    static func stringMap(_ json: JSONValue) -> [String: String]? {
        guard case .object(let members) = json else { return nil }
        var map: [String: String] = [:]
        map.reserveCapacity(members.count)
        for (key, value) in members {
            guard case .string(let text) = value else { return nil }
            map[key] = text
        }
        return map
    }

    static func raw<T: RawRepresentable>(_ json: JSONValue) -> T? where T.RawValue == String {
        string(json).flatMap(T.init(rawValue:))
    }

    /// Any value, as `JSONValue`'s `Decodable` reads it (`null` is `.null`).
    static func any(_ json: JSONValue) -> JSONValue? { json }
}

extension ResourceSpec: JSONTextDecodable {
    public init?(json: JSONValue) {
        guard let object = JSONMembers(json),
            let cpu = object.optional("cpu", JSONMembers.double),
            let memoryMB = object.optional("memory_mb", JSONMembers.double),
            let gpu = object.optional("gpu", JSONMembers.int)
        else { return nil }
        self.init(cpu: cpu ?? 0, memoryMB: memoryMB ?? 0, gpu: gpu ?? 0)
    }
}

extension AgentRecord: JSONTextDecodable {
    public init?(json: JSONValue) {
        guard let object = JSONMembers(json),
            let id = object.required("id", JSONMembers.string),
            let agentType = object.required("agent_type", JSONMembers.string),
            let tenant = object.required("tenant", JSONMembers.string),
            let config = object.required("config", JSONMembers.any),
            let nodeID = object.optional("node_id", JSONMembers.string),
            let generation = object.required("generation", JSONMembers.int),
            let desiredState: DesiredState = object.required("desired_state", JSONMembers.raw),
            let status: AgentStatus = object.required("status", JSONMembers.raw),
            let state = object.optional("state", JSONMembers.any),
            let resources = object.required("resources", ResourceSpec.init(json:)),
            let requiredCapabilities = object.required("required_capabilities", JSONMembers.strings),
            let nodeSelector = object.required("node_selector", JSONMembers.stringMap),
            let labels = object.required("labels", JSONMembers.stringMap),
            let strategy: PlacementStrategy = object.required("deployment_strategy", JSONMembers.raw),
            let preferredNode = object.optional("preferred_node", JSONMembers.string),
            let restarts = object.required("restarts", JSONMembers.int),
            let lastError = object.optional("last_error", JSONMembers.string),
            let failedNodes = object.optional("failed_nodes", JSONMembers.strings),
            let minNodeCapacity = object.optional("min_node_capacity", ResourceSpec.init(json:)),
            let spreadBy = object.optional("spread_by", JSONMembers.string),
            let createdAt = object.required("created_at", JSONMembers.date),
            let updatedAt = object.required("updated_at", JSONMembers.date)
        else { return nil }
        self.init(
            id: id, agentType: agentType, tenant: tenant, config: config, nodeID: nodeID, generation: generation,
            desiredState: desiredState, status: status, state: state, resources: resources,
            requiredCapabilities: requiredCapabilities, nodeSelector: nodeSelector, labels: labels, strategy: strategy,
            preferredNode: preferredNode, restarts: restarts, lastError: lastError, createdAt: createdAt, updatedAt: updatedAt
        )
        self.failedNodes = failedNodes
        self.minNodeCapacity = minNodeCapacity
        self.spreadBy = spreadBy
    }
}

extension ListResponse: JSONTextDecodable where Item: JSONTextDecodable {
    public init?(json: JSONValue) {
        guard let object = JSONMembers(json), case .array(let elements)? = object.members["items"],
            let nextCursor = object.optional("next_cursor", JSONMembers.string)
        else { return nil }
        var items: [Item] = []
        items.reserveCapacity(elements.count)
        for element in elements {
            guard let item = Item(json: element) else { return nil }
            items.append(item)
        }
        self.init(items: items, nextCursor: nextCursor)
    }
}
