import DroverCore

/// Small helpers that write OpenAPI 3.0 schemas and operations as `JSONValue`, so the
/// document is built in Swift (checked by the compiler, split by area) rather than kept as
/// one large hand-written file.
enum OAS {
    /// A reference to `#/components/schemas/NAME`.
    static func ref(_ name: String) -> JSONValue { ["$ref": .string("#/components/schemas/\(name)")] }

    /// A reference to `#/components/responses/NAME`.
    static func responseRef(_ name: String) -> JSONValue { ["$ref": .string("#/components/responses/\(name)")] }

    /// A string, optionally bounded, patterned or enumerated.
    static func string(
        _ description: String? = nil, minLength: Int? = nil, maxLength: Int? = nil, pattern: String? = nil, format: String? = nil,
        enum values: [String]? = nil
    ) -> JSONValue {
        var schema: [String: JSONValue] = ["type": "string"]
        schema["description"] = description.map(JSONValue.string)
        schema["minLength"] = minLength.map(JSONValue.int)
        schema["maxLength"] = maxLength.map(JSONValue.int)
        schema["pattern"] = pattern.map(JSONValue.string)
        schema["format"] = format.map(JSONValue.string)
        schema["enum"] = values.map { .array($0.map(JSONValue.string)) }
        return .object(schema)
    }

    /// The names Drover accepts for node ids, agent types, tenants, tokens: 1 to 128 ASCII
    /// letters, digits, `.`, `_` or `-`.
    static func name(_ description: String? = nil, maxLength: Int = 128) -> JSONValue {
        string(description, minLength: 1, maxLength: maxLength, pattern: "^[A-Za-z0-9._-]+$")
    }

    /// An ISO 8601 instant.
    static let dateTime = string(format: "date-time")

    /// A whole number that fits in 64 bits, optionally bounded further.
    static func integer(_ description: String? = nil, minimum: Int = Int.min, maximum: Int = Int.max) -> JSONValue {
        var schema: [String: JSONValue] = ["type": "integer", "format": "int64", "minimum": .int(minimum), "maximum": .int(maximum)]
        schema["description"] = description.map(JSONValue.string)
        return .object(schema)
    }

    /// A number, optionally bounded (`exclusiveMinimum` makes the minimum itself invalid).
    static func number(_ description: String? = nil, minimum: Double? = nil, maximum: Double? = nil, exclusiveMinimum: Bool = false) -> JSONValue {
        var schema: [String: JSONValue] = ["type": "number"]
        schema["description"] = description.map(JSONValue.string)
        schema["minimum"] = minimum.map(JSONValue.double)
        schema["maximum"] = maximum.map(JSONValue.double)
        if exclusiveMinimum { schema["exclusiveMinimum"] = true }
        return .object(schema)
    }

    static let boolean: JSONValue = ["type": "boolean"]

    /// Any JSON value, `null` included.
    static func anyJSON(_ description: String = "any JSON value") -> JSONValue {
        ["description": .string(description), "nullable": true]
    }

    /// An array of `items`.
    static func array(_ items: JSONValue, minItems: Int? = nil, maxItems: Int? = nil, description: String? = nil) -> JSONValue {
        var schema: [String: JSONValue] = ["type": "array", "items": items]
        schema["minItems"] = minItems.map(JSONValue.int)
        schema["maxItems"] = maxItems.map(JSONValue.int)
        schema["description"] = description.map(JSONValue.string)
        return .object(schema)
    }

    /// An object with free keys whose values are `values`.
    static func map(_ values: JSONValue, maxProperties: Int? = nil, description: String? = nil) -> JSONValue {
        var schema: [String: JSONValue] = ["type": "object", "additionalProperties": values]
        schema["maxProperties"] = maxProperties.map(JSONValue.int)
        schema["description"] = description.map(JSONValue.string)
        return .object(schema)
    }

    /// An object with named `properties`, of which `required` must be present. Unknown keys
    /// are allowed (the server ignores them), as Swift's `Codable` does.
    static func object(_ properties: [String: JSONValue], required: [String] = [], description: String? = nil) -> JSONValue {
        var schema: [String: JSONValue] = ["type": "object", "properties": .object(properties)]
        if !required.isEmpty { schema["required"] = .array(required.sorted().map(JSONValue.string)) }
        schema["description"] = description.map(JSONValue.string)
        return .object(schema)
    }

    /// `{"items": [...], "next_cursor": "..."}` of `item` (`next_cursor` only when more follow).
    static func list(of item: JSONValue) -> JSONValue {
        object(["items": array(item), "next_cursor": string("pass as `cursor` for the next page; absent on the last page")], required: ["items"])
    }

    /// The schema of a request body: every optional property also takes `null`, which the
    /// server reads as absent (Swift's `decodeIfPresent`), in nested objects too.
    static func request(_ schema: JSONValue) -> JSONValue {
        guard case .object(var keywords) = schema else { return schema }
        let required = Set((keywords["required"]?.arrayValue ?? []).compactMap(\.stringValue))
        if case .object(let properties) = keywords["properties"] {
            var changed: [String: JSONValue] = [:]
            for (name, property) in properties {
                let inner = request(property)
                changed[name] = required.contains(name) ? inner : nullable(inner)
            }
            keywords["properties"] = .object(changed)
        }
        for key in ["items", "additionalProperties"] where keywords[key]?.objectValue != nil {
            keywords[key] = request(keywords[key]!)
        }
        if case .array(let options) = keywords["anyOf"] { keywords["anyOf"] = .array(options.map(request)) }
        return .object(keywords)
    }

    /// `schema` that also takes `null` (a reference is wrapped in `allOf`, as OpenAPI 3.0 ignores siblings of `$ref`).
    static func nullable(_ schema: JSONValue) -> JSONValue {
        guard case .object(var keywords) = schema else { return schema }
        if keywords["$ref"] != nil { return ["allOf": [schema], "nullable": true] }
        keywords["nullable"] = true
        return .object(keywords)
    }
}
