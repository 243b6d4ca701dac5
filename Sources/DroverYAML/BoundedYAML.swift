import Foundation
import Yams

#if canImport(CYaml)
// libyaml, the parser under Yams (a module of the Yams package, visible to its dependents):
// its events let a document be measured before anything is built from it.
import CYaml
#endif

/// How much a YAML document may hold once its aliases are expanded.
///
/// An alias (`*a`) stands for the whole node its anchor (`&a`) names, so nine lines of
/// nested aliases stand for billions of nodes ("billion laughs"). Building, hashing or
/// decoding that expansion never ends, so a document over these limits is refused before.
public struct YAMLLimits: Sendable, Hashable {
    /// Nodes (scalars, sequences, mappings), each alias counting as every node it stands for.
    public var maxNodes: Int
    /// Nesting of sequences and mappings, aliases expanded (JSON bodies have the same limit).
    public var maxDepth: Int
    /// Keys of one mapping. Yams finds a key by walking its mapping, so decoding a mapping costs
    /// the square of its size: this bound keeps that cost small.
    public var maxMappingEntries: Int
    /// Bytes of all scalars, each alias counting as the scalars it stands for.
    public var maxScalarBytes: Int

    public init(maxNodes: Int = 100_000, maxDepth: Int = 64, maxScalarBytes: Int = 8 << 20, maxMappingEntries: Int = 1_000) {
        self.maxMappingEntries = maxMappingEntries
        self.maxNodes = maxNodes
        self.maxDepth = maxDepth
        self.maxScalarBytes = maxScalarBytes
    }

    /// The limits of every YAML Drover reads (workflow definitions, agent catalogs).
    public static let standard = YAMLLimits()
}

/// Why a YAML document was not read, with the line and column (from 1) where known.
public struct YAMLReadError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// Not YAML (or not one document).
        case syntax
        /// Over `maxNodes` or `maxScalarBytes`.
        case tooLarge
        /// Over `maxDepth`.
        case tooDeep
    }

    public var kind: Kind
    public var line: Int?
    public var column: Int?
    /// What is wrong, without the position.
    public var problem: String

    public init(_ kind: Kind, line: Int?, column: Int?, problem: String) {
        self.kind = kind
        self.line = line
        self.column = column
        self.problem = problem
    }

    public var description: String {
        guard let line else { return problem }
        return "line \(line)" + (column.map { ", column \($0)" } ?? "") + ": " + problem
    }
}

/// Reads YAML within `YAMLLimits`: every YAML that Drover reads goes through here.
public enum BoundedYAML {
    /// The document's node tree (aliases shared, not copied), or nil for an empty document.
    /// Throws `YAMLReadError` for a syntax error or a document over `limits`.
    public static func compose(_ text: String, limits: YAMLLimits = .standard) throws -> Node? {
        #if canImport(CYaml)
        try measure(text, limits: limits)
        #endif
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw readError(error)
        }
        #if !canImport(CYaml)
        if let root { try walk(root, limits: limits) }
        #endif
        return root
    }

    /// Decodes `type` from a tree from `compose` (aliases are expanded here, within the limits
    /// `compose` checked).
    public static func decode<T: Decodable>(_ type: T.Type, from node: Node) throws -> T {
        try YAMLDecoder().decode(type, from: node)
    }

    /// A short message for Yams' errors (their description quotes the offending line, which
    /// may be megabytes long).
    static func readError(_ error: YamlError) -> YAMLReadError {
        func context(_ context: YamlError.Context?) -> String {
            guard let context else { return "" }
            return " (\(context.text) at line \(context.mark.line), column \(context.mark.column))"
        }
        switch error {
        case .scanner(let before, let problem, let mark, _), .parser(let before, let problem, let mark, _), .composer(let before, let problem, let mark, _):
            return YAMLReadError(.syntax, line: mark.line, column: mark.column, problem: problem + context(before))
        case .duplicatedKeysInMapping(let duplicates, let at):
            let keys = duplicates.map { "'\($0.prefix(40))'" }.joined(separator: ", ")
            return YAMLReadError(.syntax, line: at.mark.line, column: at.mark.column, problem: "duplicate keys in a mapping: \(keys)")
        case .reader(let problem, _, _, _):
            return YAMLReadError(.syntax, line: nil, column: nil, problem: problem)
        default:
            return YAMLReadError(.syntax, line: nil, column: nil, problem: String(String(describing: error).prefix(200)))
        }
    }

    #if canImport(CYaml)
    /// The size of a node with its aliases expanded.
    private struct Size {
        var nodes = 0
        var bytes = 0
        /// Levels of sequences and mappings: 0 for a scalar.
        var depth = 0
    }

    /// Goes through the document's events once (linear in its length, whatever its aliases
    /// stand for) and throws when the expanded document would be over `limits`.
    private static func measure(_ text: String, limits: YAMLLimits) throws {
        var text = text
        try text.withUTF8 { bytes in
            var parser = yaml_parser_t()
            guard yaml_parser_initialize(&parser) == 1 else { throw YAMLReadError(.syntax, line: nil, column: nil, problem: "out of memory") }
            defer { yaml_parser_delete(&parser) }
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            yaml_parser_set_input_string(&parser, bytes.baseAddress, bytes.count)

            /// Open sequences and mappings, innermost last: their size so far and anchor.
            var open: [(size: Size, anchor: String?, isMapping: Bool, children: Int)] = []
            var anchors: [String: Size] = [:]
            var nodes = 0
            var scalarBytes = 0

            func anchorName(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
                pointer.map { String(cString: $0) }
            }
            /// Adds a finished node (or what an alias stands for) to its parent.
            func add(_ size: Size, anchor: String?, line: Int, column: Int) throws {
                if let anchor { anchors[anchor] = size }
                guard !open.isEmpty else { return }
                open[open.count - 1].children += 1
                if open[open.count - 1].isMapping, open[open.count - 1].children > 2 * limits.maxMappingEntries {
                    throw YAMLReadError(.tooLarge, line: line, column: column, problem: "a mapping has more than \(limits.maxMappingEntries) keys")
                }
                open[open.count - 1].size.nodes += size.nodes
                open[open.count - 1].size.bytes += size.bytes
                open[open.count - 1].size.depth = max(open[open.count - 1].size.depth, size.depth)
            }

            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { throw syntaxError(parser, limits: limits) }
                defer { yaml_event_delete(&event) }
                let line = event.start_mark.line + 1
                let column = event.start_mark.column + 1
                /// Counts `size` more expanded content, opened at `open.count` levels deep.
                func count(_ size: Size) throws {
                    nodes += size.nodes
                    scalarBytes += size.bytes
                    if nodes > limits.maxNodes {
                        throw YAMLReadError(.tooLarge, line: line, column: column, problem: "the document stands for more than \(limits.maxNodes) nodes with its aliases expanded")
                    }
                    if scalarBytes > limits.maxScalarBytes {
                        throw YAMLReadError(.tooLarge, line: line, column: column, problem: "the document stands for more than \(limits.maxScalarBytes) bytes of text with its aliases expanded")
                    }
                    if open.count + size.depth > limits.maxDepth {
                        throw YAMLReadError(.tooDeep, line: line, column: column, problem: "the document nests deeper than \(limits.maxDepth) levels")
                    }
                }
                switch event.type {
                case YAML_STREAM_END_EVENT:
                    return
                case YAML_SCALAR_EVENT:
                    let size = Size(nodes: 1, bytes: event.data.scalar.length, depth: 0)
                    try count(size)
                    try add(size, anchor: anchorName(event.data.scalar.anchor), line: line, column: column)
                case YAML_ALIAS_EVENT:
                    // An undefined alias counts as one node; composing reports it.
                    let size = anchorName(event.data.alias.anchor).flatMap { anchors[$0] } ?? Size(nodes: 1)
                    try count(size)
                    try add(size, anchor: nil, line: line, column: column)
                case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                    try count(Size(nodes: 1, bytes: 0, depth: 1))
                    let anchor = event.type == YAML_SEQUENCE_START_EVENT
                        ? anchorName(event.data.sequence_start.anchor) : anchorName(event.data.mapping_start.anchor)
                    open.append((Size(nodes: 1), anchor, event.type == YAML_MAPPING_START_EVENT, 0))
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    guard let finished = open.popLast() else { continue }
                    var size = finished.size
                    size.depth += 1
                    try add(size, anchor: finished.anchor, line: line, column: column)
                default:
                    continue
                }
            }
        }
    }

    private static func syntaxError(_ parser: yaml_parser_t, limits: YAMLLimits) -> YAMLReadError {
        let problem = parser.problem.map { String(cString: $0) } ?? "not valid YAML"
        if problem.hasPrefix("Maximum nesting level reached") {
            // libyaml's own limit (1000 levels), met while it scans ahead of the events.
            return YAMLReadError(
                .tooDeep, line: parser.problem_mark.line + 1, column: parser.problem_mark.column + 1,
                problem: "the document nests deeper than \(limits.maxDepth) levels"
            )
        }
        var context = ""
        if let text = parser.context.map({ String(cString: $0) }) {
            context = " (\(text) at line \(parser.context_mark.line + 1), column \(parser.context_mark.column + 1))"
        }
        return YAMLReadError(.syntax, line: parser.problem_mark.line + 1, column: parser.problem_mark.column + 1, problem: problem + context)
    }
    #else
    /// Without libyaml's events: walks the composed tree, aliases expanded, up to the limits.
    private static func walk(_ root: Node, limits: YAMLLimits) throws {
        var nodes = 0
        var bytes = 0
        func visit(_ node: Node, depth: Int) throws {
            nodes += 1
            let line = node.mark?.line
            let column = node.mark?.column
            if nodes > limits.maxNodes {
                throw YAMLReadError(.tooLarge, line: line, column: column, problem: "the document stands for more than \(limits.maxNodes) nodes with its aliases expanded")
            }
            switch node {
            case .scalar(let scalar):
                bytes += scalar.string.utf8.count
                if bytes > limits.maxScalarBytes {
                    throw YAMLReadError(.tooLarge, line: line, column: column, problem: "the document stands for more than \(limits.maxScalarBytes) bytes of text with its aliases expanded")
                }
            case .sequence(let sequence):
                guard depth < limits.maxDepth else { throw YAMLReadError(.tooDeep, line: line, column: column, problem: "the document nests deeper than \(limits.maxDepth) levels") }
                for child in sequence { try visit(child, depth: depth + 1) }
            case .mapping(let mapping):
                guard depth < limits.maxDepth else { throw YAMLReadError(.tooDeep, line: line, column: column, problem: "the document nests deeper than \(limits.maxDepth) levels") }
                guard mapping.count <= limits.maxMappingEntries else {
                    throw YAMLReadError(.tooLarge, line: line, column: column, problem: "a mapping has more than \(limits.maxMappingEntries) keys")
                }
                for (key, value) in mapping {
                    try visit(key, depth: depth + 1)
                    try visit(value, depth: depth + 1)
                }
            case .alias:
                break
            }
        }
        try visit(root, depth: 0)
    }
    #endif
}
