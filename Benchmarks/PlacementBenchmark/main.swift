// Places many agents onto many nodes with every strategy and prints placements per second
// and memory. Not a test: run it in release mode on a quiet machine.
//
//   swift run -c release drover-bench-placement                 # 1,000,000 agents on 10,000 nodes
//   swift run -c release drover-bench-placement --agents 100000 --nodes 1000
import DroverCore
import Foundation

struct Options {
    var nodes = 10_000
    var agents = 1_000_000
    var strategies = PlacementStrategy.allCases

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let flag = iterator.next() {
            let value = iterator.next() ?? ""
            switch flag {
            case "--nodes": nodes = Int(value) ?? nodes
            case "--agents": agents = Int(value) ?? agents
            case "--strategies": strategies = value.split(separator: ",").compactMap { PlacementStrategy(rawValue: String($0)) }
            default:
                FileHandle.standardError.write(Data("unknown option \(flag)\n".utf8))
                exit(2)
            }
        }
    }
}

/// Resident memory of this process, in MiB (from /proc; 0 where there is none).
func residentMB() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
        let kb = Double(line.split(separator: " ").dropFirst().first ?? "")
    else { return 0 }
    return kb / 1024
}

/// 10,000 nodes in a few shapes, zones and capability sets: enough classes to matter.
func makeNodes(_ count: Int) -> [PlacementCandidate] {
    let shapes: [(cpu: Double, memory: Double, caps: Set<String>)] = [
        (64, 65_536, []), (64, 65_536, ["gpu"]), (96, 131_072, ["fast"]), (48, 49_152, []),
    ]
    return (0..<count).map { index in
        let shape = shapes[index % shapes.count]
        return PlacementCandidate(
            nodeID: String(format: "node-%06d", index), tenant: "default", status: .active, connected: true,
            agentTypes: ["trading_agent", "analysis_agent", "risk_agent"], capabilities: shape.caps,
            labels: ["zone": ["a", "b", "c"][index % 3]], capacity: ResourceSpec(cpu: shape.cpu, memoryMB: shape.memory), maxAgents: 400
        )
    }
}

/// The seed's mix: trading 0.5 CPU / 256 MB, analysis 1 CPU / 512 MB, risk 0.25 CPU / 128 MB.
let requests: [(type: String, resources: ResourceSpec)] = [
    ("trading_agent", ResourceSpec(cpu: 0.5, memoryMB: 256)), ("analysis_agent", ResourceSpec(cpu: 1, memoryMB: 512)),
    ("risk_agent", ResourceSpec(cpu: 0.25, memoryMB: 128)), ("trading_agent", ResourceSpec(cpu: 0.5, memoryMB: 256)),
]

/// Prints a line at once, so a long run shows its progress.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

let options = Options(CommandLine.arguments)
say("placing \(options.agents) agents onto \(options.nodes) nodes with each strategy (seed mix, 1.5x CPU overcommit, 10 label sets, 3 zones)")
say("strategy             agents     placed   seconds   placements/s   rss MiB")
for strategy in options.strategies {
    let agents = options.agents
    let nodes = makeNodes(options.nodes)
    let clock = ContinuousClock()
    var placed = 0
    let elapsed = clock.measure {
        var index = PlacementIndex(candidates: nodes, cpuOvercommit: 1.5)
        for number in 0..<agents {
            let (type, resources) = requests[number % requests.count]
            let request = PlacementRequest(
                agentType: type, tenant: "default", resources: resources, labels: ["team": "t\(number % 10)"],
                strategy: strategy, spreadBy: "zone"
            )
            if case .placed = index.place(request) { placed += 1 }
        }
        withExtendedLifetime(index) {}
    }
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let name = strategy.rawValue.padding(toLength: 17, withPad: " ", startingAt: 0)
    let line = name + String(format: " %9d %10d %9.2f %14.0f %9.0f", agents, placed, seconds, Double(placed) / seconds, residentMB())
    say(line)
}
