// Encodes and decodes agent records the two ways the manager can: Foundation's JSONEncoder and
// JSONDecoder, and the project's own JSONTextWriter and JSONTextReader (what the store, the API
// and the client use for agents). Prints microseconds per record and the ratio.
//
//   swift run -c release drover-bench-codec [--records 20000]
import DroverCore
import Foundation

var count = 20_000
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    guard argument == "--records", let value = arguments.next().flatMap(Int.init), value > 0 else {
        print("usage: drover-bench-codec [--records 20000]")
        exit(2)
    }
    count = value
}

let created = Date()
let agents = (0..<count).map { index in
    AgentRecord(
        id: "agt-\(UUID().uuidString.lowercased())", agentType: "echo", tenant: "default",
        config: ["greeting": "hello", "threshold": 0.25, "symbols": ["AAPL", "MSFT"], "secrets": ["api_key": "enc:v1:abcdef"]],
        nodeID: "node-\(index % 1000)", generation: 1, status: .running, resources: ResourceSpec(cpu: 0.1, memoryMB: 64),
        labels: ["team": "risk"], restarts: 0, createdAt: created, updatedAt: created
    )
}

@MainActor func measure(_ label: String, _ body: () throws -> Int) rethrows -> Double {
    let started = ContinuousClock.now
    let checksum = try body()
    let elapsed = ContinuousClock.now - started
    let micros = Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12
    let perRecord = micros / Double(count)
    print(String(format: "%-44@ %8.2f µs per record  (checksum %d)", label as NSString, perRecord, checksum))
    return perRecord
}

print("\(count) agent records, release build")
let encoder = JSONCoding.encoder()
let slowEncode = try measure("encode, JSONEncoder") { try agents.reduce(0) { $0 + (try encoder.encode($1)).count } }
let fastEncode = try measure("encode, JSONTextWriter") { try agents.reduce(0) { $0 + (try $1.jsonText()).utf8.count } }
let texts = try agents.map { try encoder.encode($0) }
let decoder = JSONCoding.decoder()
let slowDecode = try measure("decode, JSONDecoder") { try texts.reduce(0) { $0 + (try decoder.decode(AgentRecord.self, from: $1)).generation } }
let fastDecode = try measure("decode, JSONTextReader (JSONCoding.decode)") {
    try texts.reduce(0) { $0 + (try JSONCoding.decode(AgentRecord.self, from: $1, using: decoder)).generation }
}
print(String(format: "encode %.1f× faster, decode %.1f× faster", slowEncode / fastEncode, slowDecode / fastDecode))

// The agent list digest a manager computes for a node after what the node runs changed
// (and a node for every heartbeat): 200 agents a node, as in the fleet benchmark's large fleet.
let reports = Dictionary(uniqueKeysWithValues: agents.prefix(200).map {
    ($0.id, NodeProtocol.RunningAgent(agentID: $0.id, generation: $0.generation, status: .running, restarts: $0.restarts))
})
let rounds = count / 200
let digestStarted = ContinuousClock.now
var digestChecksum = 0
for _ in 0..<max(1, rounds) { digestChecksum &+= NodeProtocol.RunningAgent.digest(reports.values).utf8.count }
let digestElapsed = ContinuousClock.now - digestStarted
let digestMicros = Double(digestElapsed.components.seconds) * 1e6 + Double(digestElapsed.components.attoseconds) / 1e12
print(String(format: "agent list digest of 200 agents: %.1f µs  (%d lists, checksum %d)", digestMicros / Double(max(1, rounds)), rounds, digestChecksum))
