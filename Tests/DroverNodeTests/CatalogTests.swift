import DroverCore
import Foundation
import Testing

@testable import DroverNode

@Suite("Agent catalog")
struct CatalogTests {
    @Test("the builtins are always there")
    func builtins() {
        let catalog = AgentCatalog()
        #expect(catalog.agentTypes.map(\.name) == ["counter", "echo", "fail", "sleep", "sum", "wordcount"])
        #expect(catalog.entry(named: "echo")?.driver == .builtin)
    }

    @Test("a YAML catalog adds process, http and builtin entries")
    func yaml() throws {
        var catalog = AgentCatalog()
        try catalog.load(yaml: """
            agent_types:
              trading_agent: {driver: process, command: "python3 examples/agents/python/echo_agent.py", resources: {cpu: 0.5, memory_mb: 256}}
              web:
                driver: http
                url: http://127.0.0.1:9000/task
              slow: {driver: builtin, command: sleep, env: {A: 1}}
            """)
        let trading = try #require(catalog.entry(named: "trading_agent"))
        #expect(trading.driver == .process)
        #expect(trading.command == "python3 examples/agents/python/echo_agent.py")
        #expect(trading.resources == ResourceSpec(cpu: 0.5, memoryMB: 256))
        #expect(catalog.entry(named: "web")?.url == "http://127.0.0.1:9000/task")
        #expect(catalog.entry(named: "slow")?.builtinName == "sleep")
        #expect(catalog.entry(named: "slow")?.env == ["A": "1"])
        #expect(catalog.agentTypes.first { $0.name == "trading_agent" }?.driver == "process")
    }

    @Test("the example catalog loads")
    func exampleCatalog() throws {
        var catalog = AgentCatalog()
        try catalog.load(yamlFile: "\(repositoryRoot)/examples/agents.yaml")
        #expect(catalog.entry(named: "py_echo")?.driver == .process)
        #expect(catalog.entry(named: "swift_echo")?.command == ".build/debug/swift-echo-agent")
    }

    @Test("bad YAML catalogs are refused with a message naming the problem", arguments: [
        ("agent_types: [", "not valid YAML"),
        ("types: {}", "top-level 'agent_types'"),
        ("agent_types: [1, 2]", "must be a mapping"),
        ("agent_types:\n  x: {command: a}", "x.driver is required"),
        ("agent_types:\n  x: {driver: docker}", "'docker' is unknown"),
        ("agent_types:\n  x: {driver: process}", "needs a command"),
        ("agent_types:\n  x: {driver: http, url: 'ftp://h/x'}", "needs a url"),
        ("agent_types:\n  x: {driver: builtin, command: dance}", "no builtin agent 'dance'"),
        ("agent_types:\n  x: {driver: process, command: a, colour: red}", "unknown field 'colour'"),
        ("agent_types:\n  x: {driver: process, command: a, resources: {cpu: -1}}", "cpu must be a number"),
        ("agent_types:\n  x: {driver: process, command: a, resources: {disk: 1}}", "unknown field 'disk'"),
        ("agent_types:\n  'bad name': {driver: process, command: a}", "is invalid"),
    ])
    func badYAML(text: String, message: String) {
        var catalog = AgentCatalog()
        do {
            try catalog.load(yaml: text, source: "test.yaml")
            Issue.record("expected an error for \(text)")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
        }
        #expect(catalog.entries.count == AgentCatalog.builtinNames.count)
    }

    @Test("an alias bomb or deep nesting in a catalog is refused at once, with where it is")
    func boundedYAML() throws {
        let names = "abcdefghij".map(String.init)
        var lines = ["agent_types: {}", "a: &a [" + Array(repeating: "lol", count: 9).joined(separator: ", ") + "]"]
        for level in 1..<10 {
            lines.append("\(names[level]): &\(names[level]) [" + Array(repeating: "*\(names[level - 1])", count: 9).joined(separator: ", ") + "]")
        }
        let start = ContinuousClock.now
        var catalog = AgentCatalog()
        let bomb = try #require(throws: AgentCatalogError.self) { try catalog.load(yaml: lines.joined(separator: "\n"), source: "bomb.yaml") }
        #expect("\(bomb)".contains("bomb.yaml is not valid YAML: line "), "\(bomb)")
        #expect("\(bomb)".contains("100000 nodes"), "\(bomb)")
        let deep = try #require(throws: AgentCatalogError.self) {
            try catalog.load(yaml: "agent_types: " + String(repeating: "[", count: 50_000), source: "deep.yaml")
        }
        #expect("\(deep)".contains("nests deeper than 64 levels"), "\(deep)")
        #expect(start.duration(to: .now) < .seconds(1))
        // Aliases within the limits still work.
        try catalog.load(yaml: "agent_types:\n  one: &slow {driver: builtin, command: sleep}\n  two: *slow\n")
        #expect(catalog.entry(named: "two")?.builtinName == "sleep")
    }

    @Test("a missing file is a clear error")
    func missingFile() {
        var catalog = AgentCatalog()
        #expect(throws: AgentCatalogError.self) { try catalog.load(yamlFile: "/nonexistent/agents.yaml") }
    }

    @Test("flags NAME=DRIVER:COMMAND add entries")
    func flags() throws {
        var catalog = AgentCatalog()
        try catalog.add(flag: "py_echo=process:python3 echo_agent.py --fast")
        try catalog.add(flag: "web=http:http://127.0.0.1:9000/task")
        try catalog.add(flag: "quick=builtin:echo")
        try catalog.add(flag: "counter=builtin")
        #expect(catalog.entry(named: "py_echo")?.command == "python3 echo_agent.py --fast")
        #expect(catalog.entry(named: "web")?.url == "http://127.0.0.1:9000/task")
        #expect(catalog.entry(named: "quick")?.builtinName == "echo")
        #expect(catalog.entry(named: "counter")?.builtinName == "counter")
    }

    @Test("bad flags are refused", arguments: [
        ("py_echo", "NAME=DRIVER:COMMAND"),
        ("py_echo=docker:run", "unknown driver 'docker'"),
        ("py_echo=process:", "needs a command"),
        ("=process:python3 a.py", "is invalid"),
        ("web=http:localhost", "needs a url"),
        ("x=builtin:nope", "no builtin agent 'nope'"),
    ])
    func badFlags(flag: String, message: String) {
        var catalog = AgentCatalog()
        do {
            try catalog.add(flag: flag)
            Issue.record("expected an error for \(flag)")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
        }
    }
}
