import Foundation

/// A value that writes its own JSON text, for the records the manager encodes by the thousand
/// (agents: a bulk deploy stores and answers 10,000 of them in one call).
///
/// The text decodes to the same value as `JSONCoding.encoder()`'s (sorted keys, dates as
/// `JSONCoding.formatDate`, absent optionals left out), so either may be read back with
/// `JSONCoding.decoder()`; a test checks the two agree.
public protocol JSONTextEncodable {
    func writeJSON(to writer: inout JSONTextWriter) throws
}

extension JSONTextEncodable {
    /// The value's JSON text.
    public func jsonText() throws -> String {
        var writer = JSONTextWriter()
        try writeJSON(to: &writer)
        return writer.text
    }
}

/// Writes JSON text straight into a byte buffer.
///
/// Hand-written: Foundation's `JSONEncoder` builds a tree of boxed values before it writes, and
/// costs about 1 µs per field on this project's machines (50 µs per agent record); none of the
/// project's dependencies offers a faster encoder. Only what the project's own records need.
public struct JSONTextWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 1_024) {
        bytes.reserveCapacity(capacity)
    }

    /// The text written so far.
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// Appends JSON text the caller wrote (punctuation, a member name with its colon).
    public mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Appends text that is already valid JSON.
    public mutating func rawJSON(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    public mutating func null() { raw("null") }

    public mutating func bool(_ value: Bool) { value ? raw("true") : raw("false") }

    public mutating func int(_ value: Int) {
        bytes.append(contentsOf: String(value).utf8)
    }

    /// A finite number as `JSONEncoder` writes it (`1.5`, `2` for `2.0`); NaN and infinities
    /// are refused as `JSONEncoder` refuses them.
    public mutating func double(_ value: Double) throws {
        guard value.isFinite else {
            throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: "\(value) is not a JSON number"))
        }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        bytes.append(contentsOf: text.utf8)
    }

    public mutating func date(_ value: Date) {
        string(JSONCoding.formatDate(value))
    }

    /// A string in quotes, with `"`, `\` and control characters escaped (`/` is not).
    public mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            var start = 0
            for index in utf8.indices {
                let byte = utf8[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
                start = index + 1
                switch byte {
                case UInt8(ascii: "\""): raw("\\\"")
                case UInt8(ascii: "\\"): raw("\\\\")
                case 0x0A: raw("\\n")
                case 0x0D: raw("\\r")
                case 0x09: raw("\\t")
                case 0x08: raw("\\b")
                case 0x0C: raw("\\f")
                default:
                    raw("\\u00")
                    bytes.append(Self.hexDigits[Int(byte >> 4)])
                    bytes.append(Self.hexDigits[Int(byte & 0x0F)])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Starts a member of an object whose first member may be absent: a comma unless it is the
    /// first, then `name` (written with its quotes and colon).
    public mutating func key(_ name: StaticString, first: inout Bool) {
        if !first { raw(",") }
        first = false
        raw(name)
    }

    // Optional members: `name` (with its comma and colon) and the value when there is one,
    // nothing otherwise, as `JSONEncoder` leaves out `nil`.

    public mutating func member(_ name: StaticString, _ value: String?) {
        guard let value else { return }
        raw(name)
        string(value)
    }

    public mutating func member(_ name: StaticString, _ value: Int?) {
        guard let value else { return }
        raw(name)
        int(value)
    }

    public mutating func member(_ name: StaticString, _ value: Bool?) {
        guard let value else { return }
        raw(name)
        bool(value)
    }

    public mutating func member(_ name: StaticString, _ value: Double?) throws {
        guard let value else { return }
        raw(name)
        try double(value)
    }

    public mutating func member(_ name: StaticString, _ value: Date?) {
        guard let value else { return }
        raw(name)
        date(value)
    }

    public mutating func member(_ name: StaticString, _ value: [String]?) {
        guard let value else { return }
        raw(name)
        strings(value)
    }

    /// A `JSONValue` member; `.some(.null)` is written as `null`.
    public mutating func member(_ name: StaticString, _ value: JSONValue?) throws {
        guard let value else { return }
        raw(name)
        try self.value(value)
    }

    public mutating func member<T: JSONTextEncodable>(_ name: StaticString, _ value: T?) throws {
        guard let value else { return }
        raw(name)
        try encodable(value)
    }

    /// An array of values that write themselves.
    public mutating func array<T: JSONTextEncodable>(_ values: [T]) throws {
        raw("[")
        for (index, value) in values.enumerated() {
            if index > 0 { raw(",") }
            try encodable(value)
        }
        raw("]")
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    public mutating func strings(_ values: [String]) {
        raw("[")
        for (index, value) in values.enumerated() {
            if index > 0 { raw(",") }
            string(value)
        }
        raw("]")
    }

    /// An object of strings, its keys sorted.
    public mutating func strings(_ members: [String: String]) {
        raw("{")
        for (index, key) in members.keys.sorted().enumerated() {
            if index > 0 { raw(",") }
            string(key)
            raw(":")
            string(members[key] ?? "")
        }
        raw("}")
    }

    public mutating func value(_ value: JSONValue) throws {
        switch value {
        case .null: null()
        case .bool(let flag): bool(flag)
        case .int(let number): int(number)
        case .double(let number): try double(number)
        case .string(let text): string(text)
        case .array(let elements):
            raw("[")
            for (index, element) in elements.enumerated() {
                if index > 0 { raw(",") }
                try self.value(element)
            }
            raw("]")
        case .object(let members):
            raw("{")
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { raw(",") }
                string(key)
                raw(":")
                try self.value(members[key] ?? .null)
            }
            raw("}")
        }
    }

    public mutating func encodable(_ value: some JSONTextEncodable) throws {
        try value.writeJSON(to: &self)
    }
}

extension ResourceSpec: JSONTextEncodable {
    public func writeJSON(to writer: inout JSONTextWriter) throws {
        writer.raw("{\"cpu\":")
        try writer.double(cpu)
        writer.raw(",\"gpu\":")
        writer.int(gpu)
        writer.raw(",\"memory_mb\":")
        try writer.double(memoryMB)
        writer.raw("}")
    }
}

extension AgentRecord: JSONTextEncodable {
    /// The members in `JSONEncoder`'s sorted order; optionals that are `nil` are left out.
    public func writeJSON(to writer: inout JSONTextWriter) throws {
        writer.raw("{\"agent_type\":")
        writer.string(agentType)
        writer.raw(",\"config\":")
        try writer.value(config)
        writer.raw(",\"created_at\":")
        writer.date(createdAt)
        writer.raw(",\"deployment_strategy\":")
        writer.string(strategy.rawValue)
        writer.raw(",\"desired_state\":")
        writer.string(desiredState.rawValue)
        writer.member(",\"failed_nodes\":", failedNodes)
        writer.raw(",\"generation\":")
        writer.int(generation)
        writer.raw(",\"id\":")
        writer.string(id)
        writer.raw(",\"labels\":")
        writer.strings(labels)
        writer.member(",\"last_error\":", lastError)
        try writer.member(",\"min_node_capacity\":", minNodeCapacity)
        writer.member(",\"node_id\":", nodeID)
        writer.raw(",\"node_selector\":")
        writer.strings(nodeSelector)
        writer.member(",\"preferred_node\":", preferredNode)
        writer.raw(",\"required_capabilities\":")
        writer.strings(requiredCapabilities)
        writer.raw(",\"resources\":")
        try writer.encodable(resources)
        writer.raw(",\"restarts\":")
        writer.int(restarts)
        writer.member(",\"spread_by\":", spreadBy)
        try writer.member(",\"state\":", state)
        writer.raw(",\"status\":")
        writer.string(status.rawValue)
        writer.raw(",\"tenant\":")
        writer.string(tenant)
        writer.raw(",\"updated_at\":")
        writer.date(updatedAt)
        writer.raw("}")
    }
}

extension ListResponse: JSONTextEncodable where Item: JSONTextEncodable {
    public func writeJSON(to writer: inout JSONTextWriter) throws {
        writer.raw("{\"items\":")
        try writer.array(items)
        writer.member(",\"next_cursor\":", nextCursor)
        writer.raw("}")
    }
}
