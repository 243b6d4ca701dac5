import Foundation

/// Fills a step's `input` from the run's state.
///
/// - A string that is exactly a path (`"$.urls[0]"`) becomes the value found there (any JSON
///   type), or `null` when nothing is there.
/// - `{{ $.path }}` inside a longer string is replaced by the value's text (a string as is,
///   anything else as compact JSON). A string that is only `"{{ $.path }}"` keeps the value's type.
/// - Objects and arrays are filled member by member; other values stay as written.
public enum InputTemplate {
    /// `template` with every reference replaced by what it points to in `scope`.
    public static func resolve(_ template: JSONValue, in scope: JSONValue) -> JSONValue {
        switch template {
        case .string(let text):
            return resolveString(text, in: scope)
        case .array(let items):
            return .array(items.map { resolve($0, in: scope) })
        case .object(let members):
            return .object(members.mapValues { resolve($0, in: scope) })
        default:
            return template
        }
    }

    /// Every reference in `template`, for validation; a reference that does not parse throws
    /// with the JSON path of the string holding it.
    public static func references(in template: JSONValue, at location: String = "input") throws -> [JSONPath] {
        switch template {
        case .string(let text):
            do {
                return try references(inString: text)
            } catch let error as JSONPathError {
                throw JSONPathError("\(location): \(error.description)")
            }
        case .array(let items):
            return try items.enumerated().flatMap { try references(in: $0.element, at: "\(location)[\($0.offset)]") }
        case .object(let members):
            return try members.sorted { $0.key < $1.key }.flatMap { try references(in: $0.value, at: "\(location).\($0.key)") }
        default:
            return []
        }
    }

    static func isWholePath(_ text: String) -> Bool {
        text == "$" || text.hasPrefix("$.") || text.hasPrefix("$[")
    }

    private static func references(inString text: String) throws -> [JSONPath] {
        if isWholePath(text) { return [try JSONPath(parsing: text)] }
        return try placeholders(in: text).map { try JSONPath(parsing: $0.expression) }
    }

    private static func resolveString(_ text: String, in scope: JSONValue) -> JSONValue {
        if isWholePath(text) {
            guard let path = try? JSONPath(parsing: text) else { return .string(text) }
            return path.value(in: scope) ?? .null
        }
        guard text.contains("{{") else { return .string(text) }
        let found = (try? placeholders(in: text)) ?? []
        guard !found.isEmpty else { return .string(text) }
        if found.count == 1, found[0].range == text.startIndex..<text.endIndex {
            guard let path = try? JSONPath(parsing: found[0].expression) else { return .string(text) }
            return path.value(in: scope) ?? .null
        }
        var result = ""
        var cursor = text.startIndex
        for placeholder in found {
            result += text[cursor..<placeholder.range.lowerBound]
            if let path = try? JSONPath(parsing: placeholder.expression), let value = path.value(in: scope) {
                result += render(value)
            }
            cursor = placeholder.range.upperBound
        }
        result += text[cursor...]
        return .string(result)
    }

    /// The text a value contributes inside a string.
    static func render(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): return text
        case .null: return ""
        default: return (try? JSONCoding.string(value)) ?? ""
        }
    }

    private struct Placeholder {
        var range: Range<String.Index>
        var expression: String
    }

    /// `{{ ... }}` spans in `text`; an unclosed `{{` throws.
    private static func placeholders(in text: String) throws -> [Placeholder] {
        var found: [Placeholder] = []
        var searchStart = text.startIndex
        while let open = text.range(of: "{{", range: searchStart..<text.endIndex) {
            guard let close = text.range(of: "}}", range: open.upperBound..<text.endIndex) else {
                throw JSONPathError("'\(text.prefix(80))': '{{' without '}}'")
            }
            let expression = text[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            found.append(Placeholder(range: open.lowerBound..<close.upperBound, expression: expression))
            searchStart = close.upperBound
        }
        return found
    }
}
