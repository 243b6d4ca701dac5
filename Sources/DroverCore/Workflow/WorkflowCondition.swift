import Foundation

/// A test on the run's state: `{field, operator, value}`, or `and` / `or` / `not` of others.
public indirect enum WorkflowCondition: Codable, Sendable, Hashable {
    case compare(field: String, op: String, value: JSONValue?)
    case all([WorkflowCondition])
    case any([WorkflowCondition])
    case not(WorkflowCondition)

    /// The operators, by every spelling accepted.
    public enum Operator: String, Sendable, CaseIterable {
        case eq, ne, gt, gte, lt, lte, `in`, notIn = "not_in", contains, notContains = "not_contains", exists, matches

        public init?(spelling: String) {
            switch spelling {
            case "==": self = .eq
            case "!=": self = .ne
            case ">": self = .gt
            case ">=": self = .gte
            case "<": self = .lt
            case "<=": self = .lte
            default: self.init(rawValue: spelling)
            }
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if container.contains(.and) {
            self = .all(try container.decode([WorkflowCondition].self, forKey: .and))
        } else if container.contains(.or) {
            self = .any(try container.decode([WorkflowCondition].self, forKey: .or))
        } else if container.contains(.not) {
            self = .not(try container.decode(WorkflowCondition.self, forKey: .not))
        } else {
            let field = try container.decode(String.self, forKey: .field)
            let op = try container.decodeIfPresent(String.self, forKey: .operator) ?? "eq"
            let value = try container.decodeIfPresent(JSONValue.self, forKey: .value)
            self = .compare(field: field, op: op, value: value)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .compare(let field, let op, let value):
            try container.encode(field, forKey: .field)
            try container.encode(op, forKey: .operator)
            try container.encodeIfPresent(value, forKey: .value)
        case .all(let conditions): try container.encode(conditions, forKey: .and)
        case .any(let conditions): try container.encode(conditions, forKey: .or)
        case .not(let condition): try container.encode(condition, forKey: .not)
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case field, `operator`, value, and, or, not
    }

    /// Problems with this condition (unknown operator, bad field path, bad regular expression),
    /// each prefixed with `location`.
    public func problems(at location: String) -> [String] {
        switch self {
        case .compare(let field, let op, let value):
            var found: [String] = []
            if let error = Result(catching: { try JSONPath(parsing: field) }).failureDescription {
                found.append("\(location).field: \(error)")
            }
            guard let parsed = Operator(spelling: op) else {
                let names = Operator.allCases.map(\.rawValue).joined(separator: ", ")
                return found + ["\(location).operator: unknown operator '\(op.prefix(40))' (use \(names), ==, !=, >, >=, <, <=)"]
            }
            switch parsed {
            case .exists: break
            case .matches:
                if let pattern = value?.stringValue {
                    if (try? NSRegularExpression(pattern: pattern)) == nil {
                        found.append("\(location).value: '\(pattern.prefix(80))' is not a valid regular expression")
                    }
                } else {
                    found.append("\(location).value: 'matches' needs a regular expression string")
                }
            case .in, .notIn:
                if value?.arrayValue == nil { found.append("\(location).value: '\(op)' needs a list") }
            default:
                if value == nil { found.append("\(location).value: '\(op)' needs a value") }
            }
            return found
        case .all(let conditions):
            return conditions.enumerated().flatMap { $0.element.problems(at: "\(location).and[\($0.offset)]") }
        case .any(let conditions):
            return conditions.enumerated().flatMap { $0.element.problems(at: "\(location).or[\($0.offset)]") }
        case .not(let condition):
            return condition.problems(at: "\(location).not")
        }
    }

    /// Whether the condition holds for `root`. A field that is missing fails every test but
    /// `ne`, `not_in`, `not_contains` (true) and `exists` (false).
    public func evaluate(_ root: JSONValue) -> Bool {
        switch self {
        case .all(let conditions): return conditions.allSatisfy { $0.evaluate(root) }
        case .any(let conditions): return conditions.contains { $0.evaluate(root) }
        case .not(let condition): return !condition.evaluate(root)
        case .compare(let field, let op, let expected):
            guard let path = try? JSONPath(parsing: field), let op = Operator(spelling: op) else { return false }
            let actual = path.value(in: root)
            return Self.compare(actual, op, expected)
        }
    }

    static func compare(_ actual: JSONValue?, _ op: Operator, _ expected: JSONValue?) -> Bool {
        switch op {
        case .exists: return actual != nil && actual != .null
        case .eq: return actual.map { equal($0, expected ?? .null) } ?? false
        case .ne: return !(actual.map { equal($0, expected ?? .null) } ?? false)
        case .gt, .gte, .lt, .lte:
            guard let actual, let expected, let order = ordering(actual, expected) else { return false }
            switch op {
            case .gt: return order == .orderedDescending
            case .gte: return order != .orderedAscending
            case .lt: return order == .orderedAscending
            default: return order != .orderedDescending
            }
        case .in:
            guard let actual, let list = expected?.arrayValue else { return false }
            return list.contains { equal(actual, $0) }
        case .notIn:
            guard let actual, let list = expected?.arrayValue else { return true }
            return !list.contains { equal(actual, $0) }
        case .contains:
            return contains(actual, expected)
        case .notContains:
            return !contains(actual, expected)
        case .matches:
            guard let text = actual?.stringValue, let pattern = expected?.stringValue,
                let regex = try? NSRegularExpression(pattern: pattern)
            else { return false }
            return regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
        }
    }

    private static func equal(_ left: JSONValue, _ right: JSONValue) -> Bool {
        if let l = left.doubleValue, let r = right.doubleValue { return l == r }
        return left == right
    }

    private static func ordering(_ left: JSONValue, _ right: JSONValue) -> ComparisonResult? {
        if let l = left.doubleValue, let r = right.doubleValue {
            return l < r ? .orderedAscending : (l > r ? .orderedDescending : .orderedSame)
        }
        if let l = left.stringValue, let r = right.stringValue { return l.compare(r) }
        return nil
    }

    private static func contains(_ container: JSONValue?, _ element: JSONValue?) -> Bool {
        guard let container, let element else { return false }
        switch container {
        case .string(let text):
            guard let needle = element.stringValue else { return false }
            return text.contains(needle)
        case .array(let items):
            return items.contains { equal($0, element) }
        case .object(let members):
            guard let key = element.stringValue else { return false }
            return members[key] != nil
        default:
            return false
        }
    }
}

extension Result where Failure == any Error {
    /// The error's description when this is a failure.
    var failureDescription: String? {
        if case .failure(let error) = self { return "\(error)" }
        return nil
    }
}
