import Foundation

/// A reference into a JSON document: `$`, `$.a.b`, `$.urls[0]`, `$["odd key"][2]`.
///
/// Workflows use it for `input` references, `output_path`, `map_config.input_path`,
/// `decision_node.input_path` and condition fields. A path without the leading `$` (`a.b`) is
/// read as `$.a.b`.
public struct JSONPath: Sendable, Hashable, CustomStringConvertible {
    public enum Component: Sendable, Hashable {
        case key(String)
        case index(Int)
    }

    public let components: [Component]

    public init(components: [Component]) {
        self.components = components
    }

    /// Parses a path, or throws `JSONPathError` naming the offending character.
    public init(parsing text: String) throws {
        var chars = Array(text.trimmingCharacters(in: .whitespaces))
        guard !chars.isEmpty else { throw JSONPathError("empty path") }
        if chars[0] == "$" {
            chars.removeFirst()
        } else {
            chars.insert(".", at: 0)
        }
        var components: [Component] = []
        var i = 0
        while i < chars.count {
            switch chars[i] {
            case ".":
                i += 1
                var name = ""
                while i < chars.count, chars[i] != ".", chars[i] != "[" {
                    name.append(chars[i])
                    i += 1
                }
                guard !name.isEmpty else { throw JSONPathError("'\(text)': empty name after '.'") }
                guard !name.contains(where: { $0 == "]" || $0 == " " || $0 == "\"" }) else {
                    throw JSONPathError("'\(text)': '\(name)' is not a valid name")
                }
                components.append(.key(name))
            case "[":
                i += 1
                guard i < chars.count else { throw JSONPathError("'\(text)': unclosed '['") }
                if chars[i] == "\"" || chars[i] == "'" {
                    let quote = chars[i]
                    i += 1
                    var name = ""
                    while i < chars.count, chars[i] != quote {
                        name.append(chars[i])
                        i += 1
                    }
                    guard i + 1 < chars.count, chars[i + 1] == "]" else { throw JSONPathError("'\(text)': unclosed quoted key") }
                    components.append(.key(name))
                    i += 2
                } else {
                    var digits = ""
                    while i < chars.count, chars[i] != "]" {
                        digits.append(chars[i])
                        i += 1
                    }
                    guard i < chars.count else { throw JSONPathError("'\(text)': unclosed '['") }
                    guard let index = Int(digits), index >= 0 else {
                        throw JSONPathError("'\(text)': '[\(digits)]' is not an index (use a whole number ≥ 0)")
                    }
                    components.append(.index(index))
                    i += 1
                }
            default:
                throw JSONPathError("'\(text)': unexpected '\(chars[i])' (paths look like $.a.b[0])")
            }
        }
        guard components.count <= 32 else { throw JSONPathError("'\(text)': more than 32 parts") }
        self.components = components
    }

    /// The largest array index the path names, if it names any.
    public var largestIndex: Int? {
        components.compactMap { component -> Int? in
            if case .index(let index) = component { return index }
            return nil
        }.max()
    }

    public var description: String {
        "$" + components.map { component -> String in
            switch component {
            case .key(let name): return "." + name
            case .index(let index): return "[\(index)]"
            }
        }.joined()
    }

    /// The value at this path in `root`, or `nil` when any part is missing.
    public func value(in root: JSONValue) -> JSONValue? {
        var current = root
        for component in components {
            switch (component, current) {
            case (.key(let name), .object(let members)):
                guard let next = members[name] else { return nil }
                current = next
            case (.index(let index), .array(let items)):
                guard index < items.count else { return nil }
                current = items[index]
            default:
                return nil
            }
        }
        return current
    }

    /// `root` with `newValue` written at this path; missing objects are created, arrays are
    /// padded with `null`. Writing to `$` replaces the document.
    public func setting(_ newValue: JSONValue, in root: JSONValue) -> JSONValue {
        Self.set(newValue, in: root, components[...])
    }

    private static func set(_ newValue: JSONValue, in current: JSONValue, _ rest: ArraySlice<Component>) -> JSONValue {
        guard let first = rest.first else { return newValue }
        switch first {
        case .key(let name):
            var members = current.objectValue ?? [:]
            members[name] = set(newValue, in: members[name] ?? .null, rest.dropFirst())
            return .object(members)
        case .index(let index):
            var items = current.arrayValue ?? []
            while items.count <= index { items.append(.null) }
            items[index] = set(newValue, in: items[index], rest.dropFirst())
            return .array(items)
        }
    }
}

/// A path that could not be parsed.
public struct JSONPathError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
