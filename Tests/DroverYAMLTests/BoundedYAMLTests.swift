import DroverYAML
import Foundation
import Testing
import Yams

/// Nine lines of nested aliases ("billion laughs"): `j` stands for 9^10 scalars.
func aliasBomb(levels: Int = 10, tail: String = "") -> String {
    let names = "abcdefghijklmnop".map(String.init)
    var lines = ["a: &a [" + Array(repeating: "\"lol\"", count: 9).joined(separator: ", ") + "]"]
    for level in 1..<levels {
        lines.append("\(names[level]): &\(names[level]) [" + Array(repeating: "*\(names[level - 1])", count: 9).joined(separator: ", ") + "]")
    }
    return lines.joined(separator: "\n") + "\n" + tail
}

@Suite("Bounded YAML")
struct BoundedYAMLTests {
    @Test("an alias bomb is refused at once, naming the limit and where")
    func aliasBombRefused() throws {
        let start = ContinuousClock.now
        let error = try #require(throws: YAMLReadError.self) { try BoundedYAML.compose(aliasBomb()) }
        #expect(start.duration(to: .now) < .seconds(1))
        #expect(error.kind == .tooLarge)
        #expect(error.description.contains("100000 nodes"), "\(error)")
        #expect(error.line != nil && error.column != nil)
    }

    @Test("an alias bomb used as a mapping key (hashed while composing) is refused at once")
    func aliasBombAsKey() throws {
        let start = ContinuousClock.now
        let error = try #require(throws: YAMLReadError.self) { try BoundedYAML.compose(aliasBomb(levels: 8, tail: "k: {*h: 1}\n")) }
        #expect(start.duration(to: .now) < .seconds(1))
        #expect(error.kind == .tooLarge)
    }

    @Test("a mapping with 50,000 keys (decoding it would cost their square) is refused at once; 1,000 keys are fine")
    func wideMappingRefused() throws {
        let wide = (0..<50_000).map { "k\($0): 0" }.joined(separator: "\n")
        let start = ContinuousClock.now
        let error = try #require(throws: YAMLReadError.self) { try BoundedYAML.compose(wide) }
        #expect(start.duration(to: .now) < .seconds(1))
        #expect(error.kind == .tooLarge)
        #expect(error.description.contains("more than 1000 keys"), "\(error)")
        let fine = (0..<1_000).map { "k\($0): 0" }.joined(separator: "\n")
        #expect(try BoundedYAML.compose(fine) != nil)
    }

    @Test("many aliases of one long scalar are refused by their expanded bytes")
    func scalarBytes() throws {
        let text = "a: &a \"\(String(repeating: "x", count: 100_000))\"\nb: [" + Array(repeating: "*a", count: 1_000).joined(separator: ", ") + "]\n"
        let error = try #require(throws: YAMLReadError.self) { try BoundedYAML.compose(text) }
        #expect(error.kind == .tooLarge)
        #expect(error.description.contains("bytes"), "\(error)")
    }

    @Test("deep nesting is refused, not a crash: flow, block, and through aliases")
    func deepNesting() throws {
        let start = ContinuousClock.now
        let flow = try #require(throws: YAMLReadError.self) {
            try BoundedYAML.compose(String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000))
        }
        #expect(flow.kind == .tooDeep && flow.line == 1, "\(flow)")
        #expect(flow.description.contains("nests deeper than 64 levels"), "\(flow)")
        let flowish = try #require(throws: YAMLReadError.self) { try BoundedYAML.compose(String(repeating: "[", count: 100) + String(repeating: "]", count: 100)) }
        #expect(flowish.kind == .tooDeep && flowish.line == 1 && flowish.column == 65, "\(flowish)")
        let block = (0..<200).map { String(repeating: " ", count: $0) + "k:" }.joined(separator: "\n")
        #expect(throws: YAMLReadError.self) { try BoundedYAML.compose(block) }
        // 40 levels, used inside 40 more: deep only once the alias is expanded.
        let nested = "a: &a " + String(repeating: "[", count: 40) + String(repeating: "]", count: 40) + "\nb: " + String(repeating: "[", count: 40) + "*a" + String(repeating: "]", count: 40)
        let aliased = try #require(throws: YAMLReadError.self) { try BoundedYAML.compose(nested) }
        #expect(aliased.kind == .tooDeep)
        #expect(start.duration(to: .now) < .seconds(2))
        // Just inside the limit is fine.
        #expect(try BoundedYAML.compose(String(repeating: "[", count: 64) + String(repeating: "]", count: 64)) != nil)
    }

    @Test("anchors and aliases in a normal document still work, and decode expanded")
    func smallAliases() throws {
        struct Step: Decodable, Equatable { var id: String; var retry: [String: Int] }
        struct Document: Decodable, Equatable { var steps: [Step] }
        let text = """
        defaults: &retry {attempts: 3, delay: 2}
        steps:
          - {id: a, retry: *retry}
          - id: b
            retry: *retry
        """
        let root = try #require(try BoundedYAML.compose(text))
        let document = try BoundedYAML.decode(Document.self, from: root)
        #expect(document.steps == [Step(id: "a", retry: ["attempts": 3, "delay": 2]), Step(id: "b", retry: ["attempts": 3, "delay": 2])])
        #expect(try BoundedYAML.compose("  \n# only a comment\n") == nil)
    }

    @Test("a syntax error names its line and column, briefly")
    func syntaxError() throws {
        let long = String(repeating: "x", count: 100_000)
        let error = try #require(throws: YAMLReadError.self) { try BoundedYAML.compose("name: w\nsteps: [unclosed, \(long)\nnext: 1\n") }
        #expect(error.kind == .syntax)
        #expect(error.line == 3 && error.column != nil, "\(error)")
        #expect(error.description.hasPrefix("line 3, column "), "\(error)")
        #expect(error.description.count < 300)
        let undefined = try #require(throws: YAMLReadError.self) { try BoundedYAML.compose("a: *nowhere\n") }
        #expect(undefined.line == 1 && undefined.description.contains("undefined alias"), "\(undefined)")
        let duplicate = try #require(throws: YAMLReadError.self) { try BoundedYAML.compose("a: 1\na: 2\n") }
        #expect(duplicate.description.contains("duplicate"), "\(duplicate)")
    }
}
