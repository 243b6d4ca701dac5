import Foundation

/// The order of a workflow's top-level steps: what each waits for and which decision may
/// skip it. Built once per definition; the validator checks it and the run machine follows it.
public struct WorkflowGraph: Sendable {
    /// For each top-level step id: the steps that must end before it starts.
    public let dependencies: [String: [String]]
    /// For a step that some decision can lead to: that decision's id.
    public let branchOf: [String: String]

    public init(_ steps: [StepDefinition]) {
        var targets: [String: String] = [:]
        for step in steps {
            for target in step.decisionNode?.targets ?? [] where targets[target] == nil {
                targets[target] = step.id
            }
        }
        var dependencies: [String: [String]] = [:]
        for (index, step) in steps.enumerated() {
            if let explicit = step.dependsOn {
                dependencies[step.id] = explicit
            } else if let decision = targets[step.id] {
                dependencies[step.id] = [decision]
            } else if index > 0 {
                dependencies[step.id] = [steps[index - 1].id]
            } else {
                dependencies[step.id] = []
            }
        }
        self.dependencies = dependencies
        self.branchOf = targets
    }

    /// A cycle among `ids`, as the ids along it, or `nil`.
    public func cycle(order ids: [String]) -> [String]? {
        var state: [String: Int] = [:]  // 1 visiting, 2 done
        var stack: [String] = []
        func visit(_ id: String) -> [String]? {
            if state[id] == 2 { return nil }
            if state[id] == 1 {
                let start = stack.firstIndex(of: id) ?? 0
                return Array(stack[start...]) + [id]
            }
            state[id] = 1
            stack.append(id)
            var edges = dependencies[id] ?? []
            if let decision = branchOf[id], !edges.contains(decision) { edges.append(decision) }
            for dependency in edges where dependencies[dependency] != nil {
                if let found = visit(dependency) { return found }
            }
            stack.removeLast()
            state[id] = 2
            return nil
        }
        for id in ids {
            if let found = visit(id) { return found }
        }
        return nil
    }
}
