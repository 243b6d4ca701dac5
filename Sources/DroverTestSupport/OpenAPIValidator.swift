import DroverCore
import Foundation

/// Checks JSON values against the schemas of an OpenAPI 3.0 document: the subset of JSON
/// Schema Drover's document uses (`$ref`, `type`, `nullable`, `properties`, `required`,
/// `additionalProperties`, `items`, `enum`, `anyOf`, `allOf`, string lengths and patterns,
/// number bounds, `minItems`, `maxItems`, `maxProperties`). A keyword it does not know is reported, so the
/// check never passes by ignoring part of a schema.
public struct OpenAPIValidator: Sendable {
    public let document: JSONValue

    public init(document: JSONValue) {
        self.document = document
    }

    /// Keywords that only describe.
    static let annotations: Set<String> = ["description", "format", "example", "title"]

    /// The schema of the JSON answer `status` of `method path` (a path as the document spells
    /// it, `{id}` and all); `nil` when the document has no such operation or status.
    public func responseSchema(method: String, path: String, status: Int) -> JSONValue? {
        guard var response = document["paths"]?[path]?[method.lowercased()]?["responses"]?[String(status)] else { return nil }
        if let ref = response["$ref"]?.stringValue { response = resolve(ref) ?? .null }
        return response["content"]?["application/json"]?["schema"] ?? .object([:])
    }

    /// The statuses the document lists for `method path`.
    public func statuses(method: String, path: String) -> Set<Int> {
        Set(document["paths"]?[path]?[method.lowercased()]?["responses"]?.objectValue?.keys.compactMap { Int($0) } ?? [])
    }

    /// Every way `value` breaks `schema`, as `$.field: problem` lines; empty when it conforms.
    public func problems(_ value: JSONValue, against schema: JSONValue, at location: String = "$") -> [String] {
        guard let keywords = schema.objectValue else { return ["\(location): the schema is not an object"] }
        if let ref = keywords["$ref"]?.stringValue {
            guard let target = resolve(ref) else { return ["\(location): unresolved \(ref)"] }
            return problems(value, against: target, at: location)
        }
        if value == .null {
            return keywords["nullable"] == .bool(true) ? [] : ["\(location): null where the schema does not allow it"]
        }
        var found: [String] = []
        for (keyword, argument) in keywords {
            switch keyword {
            case "type": found += typeProblems(value, argument.stringValue ?? "", at: location)
            case "enum":
                if !(argument.arrayValue ?? []).contains(value) { found.append("\(location): \(value) is not one of \(argument)") }
            case "allOf":
                for option in argument.arrayValue ?? [] { found += problems(value, against: option, at: location) }
            case "anyOf":
                let options = argument.arrayValue ?? []
                if !options.contains(where: { problems(value, against: $0, at: location).isEmpty }) {
                    found.append("\(location): matches none of the \(options.count) anyOf schemas")
                }
            case "properties", "required", "additionalProperties", "maxProperties":
                if case .object(let members) = value { found += objectProblems(members, keyword, argument, keywords: keywords, at: location) }
            case "items":
                if case .array(let items) = value {
                    for (index, item) in items.enumerated() { found += problems(item, against: argument, at: "\(location)[\(index)]") }
                }
            case "maxItems", "minItems":
                if case .array(let items) = value, let limit = argument.intValue, keyword == "maxItems" ? items.count > limit : items.count < limit {
                    found.append("\(location): \(items.count) items, \(keyword) is \(limit)")
                }
            case "minLength", "maxLength", "pattern":
                if case .string(let text) = value { found += stringProblems(text, keyword, argument, at: location) }
            case "minimum", "maximum", "exclusiveMinimum":
                if let number = value.doubleValue { found += numberProblems(number, keyword, argument, keywords: keywords, at: location) }
            case "nullable": break
            default:
                if !Self.annotations.contains(keyword) { found.append("\(location): the validator does not know '\(keyword)'") }
            }
        }
        return found
    }

    private func typeProblems(_ value: JSONValue, _ type: String, at location: String) -> [String] {
        let matches: Bool
        switch (type, value) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("integer", .int): matches = true
        case ("integer", .double(let number)): matches = number.rounded() == number
        case ("number", .int), ("number", .double): matches = true
        default: matches = false
        }
        return matches ? [] : ["\(location): expected \(type), got \(value)"]
    }

    private func objectProblems(
        _ members: [String: JSONValue], _ keyword: String, _ argument: JSONValue, keywords: [String: JSONValue], at location: String
    ) -> [String] {
        switch keyword {
        case "properties":
            return (argument.objectValue ?? [:]).sorted { $0.key < $1.key }.flatMap { name, schema in
                members[name].map { problems($0, against: schema, at: "\(location).\(name)") } ?? []
            }
        case "required":
            return (argument.arrayValue ?? []).compactMap(\.stringValue).filter { members[$0] == nil }.map { "\(location).\($0): required but missing" }
        case "additionalProperties":
            if argument == .bool(false) {
                let known = Set(keywords["properties"]?.objectValue?.keys.map { $0 } ?? [])
                return members.keys.filter { !known.contains($0) }.sorted().map { "\(location).\($0): not allowed" }
            }
            guard argument.objectValue != nil else { return [] }
            return members.sorted { $0.key < $1.key }.flatMap { name, member in problems(member, against: argument, at: "\(location).\(name)") }
        default:
            guard let limit = argument.intValue, members.count > limit else { return [] }
            return ["\(location): \(members.count) members, at most \(limit)"]
        }
    }

    private func stringProblems(_ text: String, _ keyword: String, _ argument: JSONValue, at location: String) -> [String] {
        switch keyword {
        case "minLength": return text.count < (argument.intValue ?? 0) ? ["\(location): shorter than \(argument)"] : []
        case "maxLength": return text.count > (argument.intValue ?? .max) ? ["\(location): longer than \(argument)"] : []
        default:
            guard let pattern = argument.stringValue, let regex = try? NSRegularExpression(pattern: pattern) else {
                return ["\(location): bad pattern \(argument)"]
            }
            let range = NSRange(text.startIndex..., in: text)
            return regex.firstMatch(in: text, range: range) == nil ? ["\(location): '\(text)' does not match \(pattern)"] : []
        }
    }

    private func numberProblems(_ number: Double, _ keyword: String, _ argument: JSONValue, keywords: [String: JSONValue], at location: String) -> [String] {
        guard let bound = argument.doubleValue else { return keyword == "exclusiveMinimum" ? [] : ["\(location): bad bound \(argument)"] }
        switch keyword {
        case "minimum":
            let exclusive = keywords["exclusiveMinimum"] == .bool(true)
            return (exclusive ? number <= bound : number < bound) ? ["\(location): \(number) is below \(bound)"] : []
        case "maximum": return number > bound ? ["\(location): \(number) is above \(bound)"] : []
        default: return []
        }
    }

    /// The value at a local reference such as `#/components/schemas/Agent`.
    public func resolve(_ ref: String) -> JSONValue? {
        guard ref.hasPrefix("#/") else { return nil }
        var node: JSONValue? = document
        for part in ref.dropFirst(2).split(separator: "/") { node = node?[String(part)] }
        return node
    }
}
