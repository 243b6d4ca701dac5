import Foundation

/// One thing wrong with a workflow definition, at a path such as `steps[2].depends_on[0]`.
public struct WorkflowProblem: Codable, Sendable, Hashable, CustomStringConvertible {
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}

/// Checks a definition before it is stored: everything a run would otherwise trip over.
public enum WorkflowValidator {
    /// Most steps in one workflow, nested ones included.
    public static let maxSteps = 1_000
    /// Deepest nesting of `parallel` steps.
    public static let maxNesting = 4
    /// Longest step id.
    public static let maxStepIDLength = 48
    /// Largest array index an `output_path` may write (writing pads the array with nulls).
    public static let maxOutputIndex = 10_000

    /// Every problem found, in document order; empty when the definition is sound.
    /// `knownWorkflows` (if given) are the names a `sub_workflow_id` may use besides this one's.
    public static func problems(in definition: WorkflowDefinition, knownWorkflows: Set<String>? = nil) -> [WorkflowProblem] {
        var found: [WorkflowProblem] = []
        func report(_ path: String, _ message: String) { found.append(WorkflowProblem(path: path, message: message)) }

        if !isValidName(definition.name, maxLength: 128) {
            report("name", "'\(definition.name.prefix(64))' is invalid: use 1 to 128 letters, digits, '.', '_' or '-'")
        } else if definition.name == "runs" {
            report("name", "'runs' is reserved")
        }
        if definition.steps.isEmpty { report("steps", "a workflow needs at least one step") }

        var seen: [String: String] = [:]
        var total = 0
        let pools = definition.pools ?? [:]
        for (name, pool) in pools.sorted(by: { $0.key < $1.key }) {
            let path = "pools.\(name)"
            if !isValidName(name, maxLength: 64) { report(path, "pool name is invalid: use letters, digits, '.', '_' or '-'") }
            if let type = pool.agentType, !isValidName(type, maxLength: 128) { report("\(path).agent_type", "'\(type.prefix(64))' is invalid") }
            let config = pool.poolConfig
            if config.minSize < 0 || config.maxSize < 1 || config.minSize > config.maxSize || config.maxSize > 1_000 {
                report("\(path).pool_config", "need 0 ≤ min_size ≤ max_size, 1 ≤ max_size ≤ 1000 (got \(config.minSize) and \(config.maxSize))")
            }
        }

        func checkStep(_ step: StepDefinition, at path: String, depth: Int, inParallel: Bool) {
            total += 1
            if !isValidName(step.id, maxLength: maxStepIDLength) || step.id.contains(".") {
                report("\(path).id", "'\(step.id.prefix(64))' is invalid: use 1 to \(maxStepIDLength) letters, digits, '_' or '-'")
            } else if let earlier = seen[step.id] {
                report("\(path).id", "'\(step.id)' is already the id of \(earlier)")
            } else {
                seen[step.id] = path
            }
            if let condition = step.condition {
                for problem in condition.problems(at: "\(path).condition") { found.append(split(problem)) }
            }
            if let outputPath = step.outputPath { checkPath(outputPath, at: "\(path).output_path", writing: true) }
            if let input = step.input {
                do {
                    _ = try InputTemplate.references(in: input, at: "\(path).input")
                } catch {
                    found.append(split("\(error)"))
                }
                if input.depth > 32 { report("\(path).input", "nests deeper than 32 levels") }
            }
            if let retry = step.retryPolicy, !(1...100).contains(retry.maxAttempts) {
                report("\(path).retry_policy.max_attempts", "must be between 1 and 100, got \(retry.maxAttempts)")
            }
            if inParallel, step.dependsOn != nil { report("\(path).depends_on", "steps inside a parallel step start together; depends_on is not allowed here") }

            guard let kind = step.kind else {
                let names = StepType.allCases.map(\.rawValue).joined(separator: ", ")
                report("\(path).type", "unknown step type '\(step.type.prefix(40))' (use \(names))")
                return
            }
            switch kind {
            case .task:
                checkAgent(step, at: path)
            case .map:
                checkAgent(step, at: path)
                guard let map = step.mapConfig else {
                    report("\(path).map_config", "a map step needs map_config with input_path")
                    break
                }
                checkPath(map.inputPath, at: "\(path).map_config.input_path")
                if !isValidName(map.itemAlias, maxLength: 64) || map.itemAlias.contains(".") {
                    report("\(path).map_config.item_alias", "'\(map.itemAlias.prefix(64))' is invalid: use letters, digits, '_' or '-'")
                }
                if !(1...10_000).contains(map.maxConcurrency) {
                    report("\(path).map_config.max_concurrency", "must be between 1 and 10000, got \(map.maxConcurrency)")
                }
            case .parallel:
                let children = step.steps ?? []
                if children.isEmpty { report("\(path).steps", "a parallel step needs at least one step to run") }
                if depth >= maxNesting { report("\(path).steps", "parallel steps nest at most \(maxNesting) deep") }
                for (index, child) in children.enumerated() {
                    checkStep(child, at: "\(path).steps[\(index)]", depth: depth + 1, inParallel: true)
                }
            case .decision:
                if inParallel { report("\(path).type", "a decision cannot be inside a parallel step") }
                guard let node = step.decisionNode else {
                    report("\(path).decision_node", "a decision step needs decision_node with choices")
                    break
                }
                if node.choices.isEmpty { report("\(path).decision_node.choices", "a decision needs at least one choice") }
                if let inputPath = node.inputPath { checkPath(inputPath, at: "\(path).decision_node.input_path") }
                for (index, choice) in node.choices.enumerated() {
                    for problem in choice.condition.problems(at: "\(path).decision_node.choices[\(index)].condition") {
                        found.append(split(problem))
                    }
                }
            case .subWorkflow:
                guard let target = step.subWorkflowID, !target.isEmpty else {
                    report("\(path).sub_workflow_id", "a sub_workflow step needs sub_workflow_id")
                    break
                }
                if target == definition.name {
                    report("\(path).sub_workflow_id", "a workflow cannot run itself")
                } else if let knownWorkflows, !knownWorkflows.contains(target) {
                    report("\(path).sub_workflow_id", "no workflow named '\(target.prefix(64))' is registered")
                }
            case .wait:
                if step.signal == nil, step.duration == nil {
                    report(path, "a wait step needs a signal name, a duration, or both")
                }
                if let signal = step.signal, !isValidName(signal, maxLength: 64) {
                    report("\(path).signal", "'\(signal.prefix(64))' is invalid: use letters, digits, '.', '_' or '-'")
                }
            }
        }

        func checkAgent(_ step: StepDefinition, at path: String) {
            switch (step.agentType, step.pool) {
            case (nil, nil): report(path, "a \(step.type) step needs agent_type or pool")
            case (.some, .some): report(path, "give agent_type or pool, not both")
            case (.some(let type), nil):
                if !isValidName(type, maxLength: 128) { report("\(path).agent_type", "'\(type.prefix(64))' is invalid") }
            case (nil, .some(let pool)):
                if pools[pool] == nil { report("\(path).pool", "no pool named '\(pool.prefix(64))' in pools") }
            }
        }

        func checkPath(_ text: String, at path: String, writing: Bool = false) {
            do {
                let parsed = try JSONPath(parsing: text)
                if writing, let index = parsed.largestIndex, index > maxOutputIndex {
                    report(path, "'\(text.prefix(64))' writes at index \(index); output paths may use indexes up to \(maxOutputIndex)")
                }
            } catch {
                report(path, "\(error)")
            }
        }

        for (index, step) in definition.steps.enumerated() {
            checkStep(step, at: "steps[\(index)]", depth: 0, inParallel: false)
        }
        if total > maxSteps { report("steps", "\(total) steps; a workflow may have at most \(maxSteps)") }

        // Links between top-level steps.
        let topLevel = Set(definition.steps.map(\.id))
        var branchOwner: [String: String] = [:]
        for (index, step) in definition.steps.enumerated() {
            for (position, dependency) in (step.dependsOn ?? []).enumerated() where !topLevel.contains(dependency) || dependency == step.id {
                let why = dependency == step.id ? "a step cannot depend on itself" : "no top-level step has id '\(dependency.prefix(64))'"
                report("steps[\(index)].depends_on[\(position)]", why)
            }
            guard let node = step.decisionNode, step.kind == .decision else { continue }
            for (position, choice) in node.choices.enumerated() where !topLevel.contains(choice.next) || choice.next == step.id {
                report("steps[\(index)].decision_node.choices[\(position)].next", "no other top-level step has id '\(choice.next.prefix(64))'")
            }
            if let target = node.default, !topLevel.contains(target) || target == step.id {
                report("steps[\(index)].decision_node.default", "no other top-level step has id '\(target.prefix(64))'")
            }
            // A branch belongs to one decision: with two, which one skips it would be ambiguous.
            for target in Set(node.choices.map(\.next) + [node.default].compactMap { $0 }).sorted() where topLevel.contains(target) {
                if let owner = branchOwner[target], owner != step.id {
                    report("steps[\(index)].decision_node", "step '\(target)' is already a branch of decision '\(owner)'; a step can be the branch of one decision only")
                } else {
                    branchOwner[target] = step.id
                }
            }
        }
        if found.isEmpty {
            let graph = WorkflowGraph(definition.steps)
            if let cycle = graph.cycle(order: definition.steps.map(\.id)) {
                let index = definition.steps.firstIndex { $0.id == cycle.first } ?? 0
                report("steps[\(index)]", "steps wait for each other in a cycle: \(cycle.joined(separator: " → "))")
            }
        }
        return found
    }

    /// Problems with a run's input against `input_schema` (`type`, `required`, `properties.*.type`).
    public static func inputProblems(_ input: JSONValue, schema: JSONValue?) -> [WorkflowProblem] {
        guard let schema else { return [] }
        var found: [WorkflowProblem] = []
        if let type = schema["type"]?.stringValue, !matches(input, type: type) {
            found.append(WorkflowProblem(path: "input", message: "must be of type \(type)"))
        }
        for key in schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where input[key] == nil {
            found.append(WorkflowProblem(path: "input.\(key)", message: "required field is missing"))
        }
        for (key, property) in (schema["properties"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard let value = input[key], let type = property["type"]?.stringValue, !matches(value, type: type) else { continue }
            found.append(WorkflowProblem(path: "input.\(key)", message: "must be of type \(type)"))
        }
        return found
    }

    private static func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("null", .null): return true
        case ("integer", _): return value.intValue != nil
        case ("number", .int), ("number", .double): return true
        default: return false
        }
    }

    /// Ids and names: 1 to `maxLength` letters, digits, `.`, `_` and `-`.
    public static func isValidName(_ name: String, maxLength: Int) -> Bool {
        !name.isEmpty && name.count <= maxLength
            && name.unicodeScalars.allSatisfy { ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || "._-".unicodeScalars.contains($0) }
    }

    /// Turns "path: message" back into a problem.
    private static func split(_ text: String) -> WorkflowProblem {
        guard let colon = text.range(of: ": ") else { return WorkflowProblem(path: "", message: text) }
        return WorkflowProblem(path: String(text[..<colon.lowerBound]), message: String(text[colon.upperBound...]))
    }
}
