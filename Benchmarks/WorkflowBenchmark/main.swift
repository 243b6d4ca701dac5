// Runs one big map step over `echo` agents on two real nodes and prints steps per second and
// the manager's cost per step. Real processes on loopback, SQLite store. Not a test.
//
//   swift build -c release --product drover --product drover-bench-workflow
//   swift run -c release drover-bench-workflow                 # 10,000 items, 64 at once
//   swift run -c release drover-bench-workflow --items 2000 --concurrency 128
//
// "Manager CPU per step" is the manager process's CPU time (user + system, from
// /proc/PID/stat) during the run, divided by the steps: everything the manager did for a
// step — history appends, task insert and dispatch, result handling — on any core.
import DroverClient
import DroverCore
import DroverTestSupport
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

var items = 10_000
var concurrency = 64
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let flag = arguments.next() {
    let value = Int(arguments.next() ?? "") ?? 0
    switch flag {
    case "--items": items = max(1, value)
    case "--concurrency": concurrency = max(1, min(value, 10_000))
    default:
        say("usage: drover-bench-workflow [--items N] [--concurrency N]")
        exit(2)
    }
}

/// CPU seconds (user + system) a process has used so far.
func cpuSeconds(pid: Int32) -> Double {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = text.lastIndex(of: ")")
    else { return 0 }
    let fields = text[text.index(after: close)...].split(separator: " ")
    // After the command: state is field 3, so utime (14) and stime (15) are at 11 and 12 here.
    guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p))]
}

let cluster = try TestCluster(heartbeatInterval: 1, heartbeatGrace: 5)
let manager = try await cluster.startManager()
try await cluster.startNode("n1")
try await cluster.startNode("n2")
try await cluster.waitForNode("n1", status: .active)
try await cluster.waitForNode("n2", status: .active)
let client = cluster.client

let definition = WorkflowDefinition(
    name: "bench-map",
    steps: [
        StepDefinition(
            id: "fan_out", type: .map, pool: "echoes", input: ["n": "$.item", "i": "$.item_index"], outputPath: "$.results",
            mapConfig: MapConfig(inputPath: "$.items", maxConcurrency: concurrency)
        )
    ],
    config: WorkflowConfig(cleanupPolicy: .never),
    pools: ["echoes": PoolDefinition(agentType: "echo", poolConfig: PoolConfig(minSize: 2, maxSize: 2, warmUp: true))]
)
_ = try await client.applyWorkflow(definition)
try await eventually("two warm echo agents run, one per node", timeout: .seconds(30)) {
    let running = try await client.agents().filter { $0.agentType == "echo" && $0.status == .running }
    return running.count == 2 && Set(running.compactMap(\.nodeID)).count == 2
}

// Warm up the path once (small run), then measure.
_ = try await client.runAndWait(workflow: "bench-map", input: ["items": .array((0..<200).map { .int($0) })], timeoutSeconds: 120)

say("workflow: map of \(items) items over 2 echo agents on 2 nodes, max_concurrency \(concurrency), SQLite store")
// The manager's CPU time, sampled every 10 ms, so that the cost up to the run's end can be
// read off without what the answer's encoding costs afterwards.
let samples = Mutex<[(Date, Double)]>([])
let sampler = Task {
    while !Task.isCancelled {
        let sample = (Date(), cpuSeconds(pid: manager.pid))
        samples.withLock { $0.append(sample) }
        try? await Task.sleep(for: .milliseconds(10))
    }
}
let view = try await client.runAndWait(workflow: "bench-map", input: ["items": .array((0..<items).map { .int($0) })], timeoutSeconds: 1_800)
sampler.cancel()
guard view.status == .completed, view.state["results"]?.arrayValue?.count == items, let startedAt = view.startedAt, let finishedAt = view.finishedAt else {
    say("run did not complete: \(view.status.rawValue) \(view.error ?? "")")
    await cluster.stopAll()
    exit(1)
}
let taken = samples.withLock { $0 }
let cpuAtStart = taken.last { $0.0 <= startedAt }?.1 ?? taken.first?.1 ?? 0
let cpuAtEnd = taken.first { $0.0 >= finishedAt }?.1 ?? taken.last?.1 ?? 0
let wall = finishedAt.timeIntervalSince(startedAt)
var history: [WorkflowEvent] = []
while true {
    let page = try await client.history(runID: view.id, after: history.last?.sequence ?? 0, limit: 10_000)
    if page.isEmpty { break }
    history += page
}
var scheduled: [Int: Date] = [:]
var latencies: [Double] = []
for event in history where event.item != nil {
    if event.kind == .stepScheduled { scheduled[event.item!] = event.at }
    if event.kind == .stepCompleted, let start = scheduled[event.item!] { latencies.append(event.at.timeIntervalSince(start) * 1_000) }
}
latencies.sort()
let managerCPU = cpuAtEnd - cpuAtStart
say(String(format: "  %d steps in %.2f s (run start to end, from its history): %.0f steps/s (target ≥ 2,000)", items, wall, Double(items) / wall))
say(String(format: "  manager CPU: %.2f s in all, %.3f ms per step (target < 2 ms)", managerCPU, managerCPU * 1_000 / Double(items)))
say(String(format: "  wall time per step: %.3f ms; step latency (scheduled → completed) p50 %.2f ms, p99 %.2f ms", wall * 1_000 / Double(items), percentile(latencies, 0.5), percentile(latencies, 0.99)))
say("  history: \(history.count) events for \(items) steps")
await cluster.stopAll()
