// Runs one big map step over `echo` on two real nodes the way a user does, and prints steps
// per second and the manager's CPU per step. Real processes on loopback, SQLite store. Not a test.
//
//   swift build -c release --product drover && swift build -c release --product drover-bench-workflow
//   swift run -c release drover-bench-workflow                  # 10,000 items, max_concurrency 64
//   swift run -c release drover-bench-workflow --items 2000 --concurrency 128 --mode user
//
// The user's path: a YAML definition with `agent_type: echo` (no pool) registered through the
// API, then `POST /api/v1/workflows/NAME/runs?wait=true` with the items in the input. Steps per
// second are items over the wall time of that one call (input upload, run, the answer with
// every result); manager CPU is the manager process's CPU time (user + system, from
// /proc/PID/stat) over the same call, divided by the items. `--mode pool` runs the same map on
// a pool of two warm agents (one per node); `--mode both` (the default) runs both.
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

var items = 10_000
var concurrency = 64
var modes = ["user", "pool"]
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let flag = arguments.next() {
    let value = arguments.next() ?? ""
    switch flag {
    case "--items": items = max(1, Int(value) ?? 0)
    case "--concurrency": concurrency = max(1, min(Int(value) ?? 0, 10_000))
    case "--mode" where ["user", "pool", "both"].contains(value): modes = value == "both" ? ["user", "pool"] : [value]
    default:
        say("usage: drover-bench-workflow [--items N] [--concurrency N] [--mode user|pool|both]")
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

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// The definition a user writes: a map over `echo`, on a pool of two warm agents with `pool`.
func definition(name: String, pool: Bool, concurrency: Int) -> String {
    let agent = pool ? "pool: echoes" : "agent_type: echo"
    let pools = pool ? "pools:\n  echoes: {agent_type: echo, pool_config: {min_size: 2, max_size: 2, warm_up: true}}\n" : ""
    return """
        name: \(name)
        config: {cleanup_policy: never}
        \(pools)steps:
          - id: fan_out
            type: map
            \(agent)
            input: {n: $.item, i: $.item_index}
            output_path: $.results
            map_config: {input_path: $.items, max_concurrency: \(concurrency)}

        """
}

let cluster = try TestCluster(heartbeatInterval: 1, heartbeatGrace: 5)
let manager = try await cluster.startManager()
try await cluster.startNode("n1")
try await cluster.startNode("n2")
try await cluster.waitForNode("n1", status: .active)
try await cluster.waitForNode("n2", status: .active)
let client = cluster.client

say("workflow: a map of \(items) items over echo on 2 nodes, max_concurrency \(concurrency), SQLite store, POST .../runs?wait=true")
for mode in modes {
    let name = "bench-\(mode)"
    _ = try await client.applyWorkflow(text: definition(name: name, pool: mode == "pool", concurrency: concurrency), yaml: true)
    if mode == "pool" {
        try await eventually("two warm echo agents run, one per node", timeout: .seconds(30)) {
            let running = try await client.agents().filter { $0.agentType == "echo" && $0.status == .running && $0.labels["drover.pool"] != nil }
            return running.count == 2 && Set(running.compactMap(\.nodeID)).count == 2
        }
    }
    // Warm up the path once (a small run), then measure.
    _ = try await client.runAndWait(workflow: name, input: ["items": .array((0..<200).map { .int($0) })], timeoutSeconds: 120)

    let cpuBefore = cpuSeconds(pid: manager.pid)
    let started = ContinuousClock.now
    let view = try await client.runAndWait(workflow: name, input: ["items": .array((0..<items).map { .int($0) })], timeoutSeconds: 1_800)
    let wall = seconds(ContinuousClock.now - started)
    let managerCPU = cpuSeconds(pid: manager.pid) - cpuBefore
    guard view.status == .completed, view.state["results"]?.arrayValue?.count == items, let startedAt = view.startedAt, let finishedAt = view.finishedAt else {
        say("run did not complete: \(view.status.rawValue) \(view.error ?? "")")
        await cluster.stopAll()
        exit(1)
    }
    var history: [WorkflowEvent] = []
    while true {
        let page = try await client.history(runID: view.id, after: history.last?.sequence ?? 0, limit: 10_000)
        if page.isEmpty { break }
        history += page
    }
    var scheduled: [Int: Date] = [:]
    var latencies: [Double] = []
    var nodes: Set<String> = []
    for event in history where event.item != nil {
        if event.kind == .stepScheduled { scheduled[event.item!] = event.at }
        if event.kind == .stepCompleted, let start = scheduled[event.item!] { latencies.append(event.at.timeIntervalSince(start) * 1_000) }
        if let node = event.nodeID { nodes.insert(node) }
    }
    latencies.sort()
    let inRun = finishedAt.timeIntervalSince(startedAt)
    say(mode == "user" ? "- agent_type: echo (what a user writes first)" : "- a pool of 2 warm echo agents")
    say(String(format: "  %d steps in %.2f s, the whole ?wait=true call: %.0f steps/s (target ≥ 2,500)", items, wall, Double(items) / wall))
    say(String(format: "  manager CPU over the call: %.2f s, %.3f ms per step (target ≤ 0.5 ms)", managerCPU, managerCPU * 1_000 / Double(items)))
    say(String(format: "  run start to end (from its history): %.2f s, %.0f steps/s; step latency p50 %.2f ms, p99 %.2f ms", inRun, Double(items) / inRun, percentile(latencies, 0.5), percentile(latencies, 0.99)))
    say("  history: \(history.count) events; steps ran on \(nodes.sorted().joined(separator: ", "))")
}
await cluster.stopAll()
