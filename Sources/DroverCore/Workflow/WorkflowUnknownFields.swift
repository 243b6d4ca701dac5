import Foundation

/// Fields a definition has that Drover does not know: a typo (`depend_on`) would otherwise be
/// ignored without a word and the step would run without what it asked for.
extension WorkflowValidator {
    /// Every unknown field in the raw document, with its path and the known field it most
    /// likely meant. Free-form values (`input`, `input_schema`, `agent_config`, `value`) are
    /// not looked into.
    public static func unknownFields(in document: JSONValue) -> [WorkflowProblem] {
        var found: [WorkflowProblem] = []
        FieldWalker(report: { found.append($0) }).workflow(document)
        return found
    }
}

private struct FieldWalker {
    let report: (WorkflowProblem) -> Void

    private static func names<K: CodingKey & CaseIterable>(_ keys: K.Type) -> Set<String> {
        Set(K.allCases.map(\.stringValue))
    }

    func workflow(_ value: JSONValue) {
        guard check(value, at: "", known: Self.names(WorkflowDefinition.CodingKeys.self)) else { return }
        if let config = value["config"] { check(config, at: "config", known: Self.names(WorkflowConfig.CodingKeys.self)) }
        for (name, pool) in (value["pools"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            let path = "pools.\(name)"
            guard check(pool, at: path, known: Self.names(PoolDefinition.CodingKeys.self)) else { continue }
            if let config = pool["pool_config"] { check(config, at: "\(path).pool_config", known: Self.names(PoolConfig.CodingKeys.self)) }
        }
        steps(value["steps"], at: "steps")
    }

    private func steps(_ value: JSONValue?, at path: String) {
        for (index, step) in (value?.arrayValue ?? []).enumerated() {
            let here = "\(path)[\(index)]"
            guard check(step, at: here, known: Self.names(StepDefinition.CodingKeys.self)) else { continue }
            if let condition = step["condition"] { self.condition(condition, at: "\(here).condition") }
            if let retry = step["retry_policy"] { check(retry, at: "\(here).retry_policy", known: Self.names(RetryPolicy.CodingKeys.self)) }
            if let map = step["map_config"] { check(map, at: "\(here).map_config", known: Self.names(MapConfig.CodingKeys.self)) }
            if let node = step["decision_node"], check(node, at: "\(here).decision_node", known: Self.names(DecisionNode.CodingKeys.self)) {
                for (position, choice) in (node["choices"]?.arrayValue ?? []).enumerated() {
                    let choicePath = "\(here).decision_node.choices[\(position)]"
                    guard check(choice, at: choicePath, known: ["condition", "next"]) else { continue }
                    if let condition = choice["condition"] { self.condition(condition, at: "\(choicePath).condition") }
                }
            }
            steps(step["steps"], at: "\(here).steps")
        }
    }

    private func condition(_ value: JSONValue, at path: String) {
        guard check(value, at: path, known: Self.names(WorkflowCondition.CodingKeys.self)) else { return }
        for key in ["and", "or"] {
            for (index, part) in (value[key]?.arrayValue ?? []).enumerated() { condition(part, at: "\(path).\(key)[\(index)]") }
        }
        if let inner = value["not"] { condition(inner, at: "\(path).not") }
    }

    /// Reports the keys of `value` not in `known`; `false` when `value` is not an object
    /// (decoding then says what is wrong with it).
    @discardableResult
    private func check(_ value: JSONValue, at path: String, known: Set<String>) -> Bool {
        guard let members = value.objectValue else { return false }
        for key in members.keys.sorted() where !known.contains(key) {
            let field = path.isEmpty ? key : "\(path).\(key)"
            let hint = Self.closest(to: key, in: known).map { "; did you mean '\($0)'?" } ?? "; known fields: \(known.sorted().joined(separator: ", "))"
            report(WorkflowProblem(path: String(field.prefix(200)), message: "unknown field '\(key.prefix(64))'\(hint)"))
        }
        return true
    }

    /// The known name within two edits of `key` (or containing it, or contained in it), if any.
    static func closest(to key: String, in known: Set<String>) -> String? {
        let lowered = key.lowercased()
        let scored = known.map { ($0, editDistance(lowered, $0)) }.filter { $0.1 <= 2 || (lowered.count >= 4 && ($0.0.contains(lowered) || lowered.contains($0.0))) }
        return scored.min { ($0.1, $0.0) < ($1.1, $1.0) }?.0
    }

    /// Levenshtein distance (keys are short; inputs over 64 characters are not compared).
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.prefix(64)), b = Array(b.prefix(64))
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        for (i, ca) in a.enumerated() {
            var current = [i + 1] + Array(repeating: 0, count: b.count)
            for (j, cb) in b.enumerated() {
                current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (ca == cb ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
