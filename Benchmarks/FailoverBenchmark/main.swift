// Kills a node and measures how long until every one of its agents runs on another node.
// Real processes on loopback: the built `drover` manager and two nodes. Not a test.
//
//   swift build && swift run drover-bench-failover                  # 1 s heartbeat, 3 s grace, 50 agents
//   swift run drover-bench-failover --agents 200 --rounds 3
import DroverClient
import DroverCore
import DroverTestSupport
import Foundation

#if canImport(Glibc)
import Glibc
#endif

func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

var agentCount = 50
var rounds = 3
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let flag = arguments.next() {
    let value = Int(arguments.next() ?? "") ?? 0
    switch flag {
    case "--agents": agentCount = max(1, value)
    case "--rounds": rounds = max(1, value)
    default:
        say("usage: drover-bench-failover [--agents N] [--rounds N]")
        exit(2)
    }
}

say("failover: \(agentCount) counter agents on the killed node, heartbeat 1 s, grace 3 s (target: all running elsewhere within 5 s)")
var results: [Double] = []
for round in 1...rounds {
    let cluster = try TestCluster(heartbeatInterval: 1, heartbeatGrace: 3)
    try await cluster.startManager()
    try await cluster.startNode("victim")
    try await cluster.waitForNode("victim", status: .active)
    let client = cluster.client
    var agents: [AgentRecord] = []
    for _ in 0..<agentCount { agents.append(try await client.deploy(DeployRequest(agentType: "counter"))) }
    for agent in agents {
        try await eventually("\(agent.id) runs", timeout: .seconds(60)) { try await client.agent(id: agent.id).status == .running }
        _ = try await client.submitTask(agentID: agent.id, input: ["add": 1], timeoutSeconds: 30, wait: true)
    }
    try await cluster.startNode("survivor")
    try await cluster.waitForNode("survivor", status: .active)

    let killed = ContinuousClock.now
    await cluster.stopNode("victim", signal: SIGKILL)
    var downAfter = 0.0
    try await eventually("the victim is down", timeout: .seconds(30), every: .milliseconds(20)) {
        try await client.node(id: "victim").status == .down
    }
    downAfter = seconds(ContinuousClock.now - killed)
    try await eventually("every agent runs on the survivor", timeout: .seconds(60), every: .milliseconds(20)) {
        try await client.agents().allSatisfy { $0.nodeID == "survivor" && $0.status == .running }
    }
    let movedAfter = seconds(ContinuousClock.now - killed)
    let states = try await client.agents().map { $0.state?["count"]?.intValue ?? -1 }
    results.append(movedAfter)
    say(String(format: "round %d: node down after %.2f s, all %d agents running elsewhere after %.2f s; state kept: %@", round, downAfter, agentCount, movedAfter, states.allSatisfy { $0 == 1 } ? "yes" : "NO"))
}
say(String(format: "worst of %d rounds: %.2f s (target 5 s)", rounds, results.max() ?? 0))

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}
