import DroverCore
import Foundation
import Logging

/// Runs the agents compiled into the node: for demos, tests and benchmarks.
struct BuiltinDriver: AgentDriver {
    func start(_ launch: AgentLaunch, entry: AgentTypeEntry, logger: Logger) async throws -> any AgentInstance {
        guard let kind = BuiltinAgentInstance.Kind(rawValue: entry.builtinName) else {
            throw AgentStartError("there is no builtin agent '\(entry.builtinName)'")
        }
        return BuiltinAgentInstance(kind: kind, launch: launch)
    }
}

/// One running builtin agent.
///
/// - `echo`: the output is the input.
/// - `sleep`: sleeps `input.seconds` (or the input itself when it is a number, or
///   `config.seconds`, default 1) and returns `{"slept": s}`, plus `"echo"` when the input has one
///   (a slow echo, for tests that need tasks in flight).
/// - `fail`: fails the first `config.failures` (default 2) tasks, then echoes. The number of
///   tasks seen is checkpointed as `{"seen": n}`, so a restart does not reset it.
/// - `counter`: state `{"count": n}`; input `{"add": k}` (default 1) adds k, checkpoints and
///   returns `{"count": n}`.
/// - `wordcount`: input `{"text": "..."}` (or a string) → `{"words": n, "characters": c}`.
/// - `sum`: input `{"values": [...], "field": "words"}` → `{"sum": s, "count": n}`: adds the
///   numbers in `values`, or each object's `field` (nulls and missing fields are skipped).
actor BuiltinAgentInstance: AgentInstance {
    enum Kind: String, Sendable {
        case echo, sleep, fail, counter, wordcount, sum
    }

    nonisolated let pid: Int32? = nil
    private let kind: Kind
    private let config: JSONValue
    private var count: Int
    private var stopped = false
    private let events: AsyncStream<AgentEvent>
    private let continuation: AsyncStream<AgentEvent>.Continuation

    /// Longest a `sleep` agent sleeps.
    static let maxSleepSeconds = 3_600.0

    init(kind: Kind, launch: AgentLaunch) {
        self.kind = kind
        self.config = launch.config
        switch kind {
        case .counter: count = launch.state?["count"]?.intValue ?? 0
        case .fail: count = launch.state?["seen"]?.intValue ?? 0
        case .echo, .sleep, .wordcount, .sum: count = 0
        }
        (events, continuation) = AsyncStream.makeStream(of: AgentEvent.self)
    }

    nonisolated func monitor(_ onEvent: @escaping @Sendable (AgentEvent) async -> Void) async -> String {
        for await event in events { await onEvent(event) }
        return "builtin agent '\(kind.rawValue)' stopped"
    }

    func perform(_ task: AgentTask) async -> TaskOutcome {
        guard !stopped else { return .failure("agent was stopped") }
        switch kind {
        case .echo:
            return .success(task.input)
        case .sleep:
            let seconds = min(max(0, task.input["seconds"]?.doubleValue ?? task.input.doubleValue ?? config["seconds"]?.doubleValue ?? 1), Self.maxSleepSeconds)
            do {
                try await Task.sleep(for: .seconds(double: seconds))
            } catch {
                return .failure("sleep was cancelled")
            }
            var output: [String: JSONValue] = ["slept": seconds.rounded() == seconds ? .int(Int(seconds)) : .double(seconds)]
            if let echo = task.input["echo"] { output["echo"] = echo }
            return .success(.object(output))
        case .fail:
            count += 1
            continuation.yield(.checkpoint(["seen": .int(count)]))
            let failures = config["failures"]?.intValue ?? 2
            if count <= failures {
                return .failure("builtin 'fail' agent fails its first \(failures) tasks; this was task \(count)")
            }
            return .success(task.input)
        case .wordcount:
            guard let text = task.input["text"]?.stringValue ?? task.input.stringValue else {
                return .failure("wordcount: input needs 'text', a string")
            }
            let words = text.split(whereSeparator: { $0.isWhitespace || $0.isNewline }).count
            return .success(["words": .int(words), "characters": .int(text.count)])
        case .sum:
            return Self.sum(task.input)
        case .counter:
            let add: Int
            switch task.input["add"] {
            case .none, .some(.null): add = 1
            case .some(let value):
                guard let number = value.intValue else { return .failure("counter: 'add' must be a whole number") }
                add = number
            }
            let (sum, overflow) = count.addingReportingOverflow(add)
            guard !overflow else { return .failure("counter: the count would overflow") }
            count = sum
            continuation.yield(.checkpoint(["count": .int(count)]))
            return .success(["count": .int(count)])
        }
    }

    /// The `sum` agent's work: numbers in `values`, or each object's `field`.
    static func sum(_ input: JSONValue) -> TaskOutcome {
        guard let values = input["values"]?.arrayValue else { return .failure("sum: input needs 'values', a list") }
        let field = input["field"]?.stringValue
        var total = 0.0
        var counted = 0
        var allWhole = true
        for value in values {
            let picked = field.map { value[$0] ?? .null } ?? value
            guard picked != .null else { continue }
            guard let number = picked.doubleValue else { return .failure("sum: \(field.map { "'\($0)' of " } ?? "")an item is not a number") }
            if picked.intValue == nil { allWhole = false }
            total += number
            counted += 1
        }
        let sum: JSONValue = allWhole && abs(total) < 9e15 ? .int(Int(total)) : .double(total)
        return .success(["sum": sum, "count": .int(counted)])
    }

    func stop() async {
        stopped = true
        continuation.finish()
    }
}
