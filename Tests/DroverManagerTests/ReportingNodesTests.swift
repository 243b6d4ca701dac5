@testable import DroverManager
import Testing

@Suite("Nodes reporting an agent")
struct ReportingNodesTests {
    @Test("adding and dropping nodes in any order keeps exactly the nodes a set would, and forgets an agent no node reports")
    func behavesLikeASet() {
        var reporting: [String: ReportingNodes] = [:]
        var expected: [String: Set<String>] = [:]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let agent = "a\(Int.random(in: 0..<5, using: &generator))", node = "n\(Int.random(in: 0..<4, using: &generator))"
            if Bool.random(using: &generator) {
                reporting.add(node, reporting: agent)
                expected[agent, default: []].insert(node)
            } else {
                reporting.drop(node, reporting: agent)
                expected[agent]?.remove(node)
                if expected[agent]?.isEmpty == true { expected[agent] = nil }
            }
            #expect(reporting.mapValues { Set($0) } == expected)
        }
    }

    @Test("dropping a node that does not report the agent changes nothing")
    func droppingAnotherNode() {
        var reporting: [String: ReportingNodes] = [:]
        reporting.add("n1", reporting: "a")
        reporting.drop("n2", reporting: "a")
        reporting.drop("n1", reporting: "b")
        #expect(reporting.mapValues { Array($0) } == ["a": ["n1"]])
        reporting.add("n1", reporting: "a")
        #expect(reporting.mapValues { Array($0) } == ["a": ["n1"]])
    }
}
