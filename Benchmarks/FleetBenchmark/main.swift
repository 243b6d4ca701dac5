// The manager's live path at fleet scale, through the REST API: single deploys by many clients,
// bulk deploys with `replicas`, paged lists and status under a large fleet, idle CPU, restart to
// ready, and the failover of one node's agents. The built `drover` manager runs as a real
// process (SQLite, its default heartbeat of 5 s and grace of 15 s, and at most 50 heartbeats a
// second from the whole fleet, so 1,001 nodes are told a longer interval); `--nodes` nodes are
// simulated in this process, each with its own WebSocket speaking the node protocol
// (`SimulatedNode`), so that the figures are the manager's and not those of agent processes.
// Not a test: it prints figures.
//
//   swift build -c release --product drover && swift build -c release --product drover-bench-fleet
//   .build/release/drover-bench-fleet [--nodes 1000] [--single 100000] [--bulk 100000] [--clients 32] [--failover 10000]
//                                     [--max-heartbeats-per-second 50]   (0: every node beats every 5 s)
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

var nodeCount = 1_000
var singleCount = 100_000
var bulkCount = 100_000
var clientCount = 32
var failoverCount = 10_000
var maxHeartbeatsPerSecond = 50
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let flag = arguments.next() {
    let value = Int(arguments.next() ?? "") ?? -1
    switch flag {
    case "--nodes" where value > 0: nodeCount = value
    case "--single" where value >= 0: singleCount = value
    case "--bulk" where value >= 0: bulkCount = value
    case "--clients" where value > 0: clientCount = value
    case "--failover" where value >= 0: failoverCount = value
    case "--max-heartbeats-per-second" where value >= 0: maxHeartbeatsPerSecond = value
    default:
        say("usage: drover-bench-fleet [--nodes 1000] [--single 100000] [--bulk 100000] [--clients 32] [--failover 10000] [--max-heartbeats-per-second 50]")
        exit(2)
    }
}

let total = singleCount + bulkCount
// Room for everything with half as much again to spare, so failover always has somewhere to go.
let perNode = ((total + failoverCount) * 3) / (2 * nodeCount) + 100
let cluster = try TestCluster(heartbeatInterval: 5, heartbeatGrace: 15)
// The manager's defaults where the test clusters shorten them (a reconciliation pass a second).
cluster.managerArguments = ["--rate-limit", "0", "--reconcile-interval", "1", "--max-heartbeats-per-second", "\(maxHeartbeatsPerSecond)"]
let manager = try await cluster.startManager()
let simulated = (0..<nodeCount).map { SimulatedNode(id: "sim-\($0)", managerURL: cluster.managerURL, token: cluster.token, maxAgents: perNode) }
// The node that dies in the failover stage: it takes its share, then `--failover` agents of 0.001 CPU
// each placed `resource_optimal` (best fit), which fill it first as it has the least CPU (just enough for them).
let victimCPU = Double(failoverCount) / 1_000 + 0.5
let victim = SimulatedNode(id: "sim-victim", managerURL: cluster.managerURL, token: cluster.token, maxAgents: perNode + failoverCount, cpu: victimCPU)
let nodeTasks = (simulated + [victim]).map { node in Task { await node.run() } }
let client = cluster.client
try await eventually("every simulated node registered", timeout: .seconds(120), every: .milliseconds(500)) {
    (try await client.clusterStatus().nodes["active"] ?? 0) == nodeCount + 1
}
// The interval the manager settles on for this many nodes (it tells them in a later `welcome`).
var heartbeatSeconds = 5.0
try await eventually("the manager paces the fleet's heartbeats", timeout: .seconds(10), every: .milliseconds(250)) {
    let metrics = String(decoding: try await client.raw(method: "GET", path: "/metrics").body, as: UTF8.self)
    let line = metrics.split(separator: "\n").first { $0.hasPrefix("drover_manager_heartbeat_interval_seconds ") }
    heartbeatSeconds = line.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 5
    let expected = maxHeartbeatsPerSecond > 0 ? max(5, Double(nodeCount + 1) / Double(maxHeartbeatsPerSecond)) : 5
    return heartbeatSeconds >= expected
}
let heartbeatGraceSeconds = 15 + heartbeatSeconds - 5
let limit = maxHeartbeatsPerSecond > 0 ? "at most \(maxHeartbeatsPerSecond) heartbeats/s" : "no heartbeat limit"
say(String(
    format: "fleet: %d simulated nodes over real WebSockets (max %d agents each), %d REST clients, builtin echo agents, one manager (SQLite, ",
    nodeCount + 1, perNode, clientCount
) + String(format: "heartbeat %.2f s for %d nodes, ", heartbeatSeconds, nodeCount + 1) + limit + String(format: ", grace %.2f s), release build", heartbeatGraceSeconds))

// Processes are stopped on the way out, also when a stage fails.
do {
    // 1. Single deploys, in steps of 10,000 (a fifth of the total when that is less).
    let step = max(1, min(10_000, singleCount / 5))
    say("\nsingle deploys (POST /api/v1/cluster/agents/deploy, one agent per call):")
    say("agents placed        deploys/s   p50 ms   p99 ms   manager RSS MB")
    var placed = 0
    while placed < singleCount {
        let count = min(step, singleCount - placed)
        let started = ContinuousClock.now
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            let share = count / clientCount, extra = count % clientCount
            for index in 0..<clientCount {
                let mine = share + (index < extra ? 1 : 0)
                group.addTask {
                    var seen: [Double] = []
                    for _ in 0..<mine {
                        let sent = ContinuousClock.now
                        _ = try await client.deploy(DeployRequest(agentType: "echo"))
                        seen.append(milliseconds(ContinuousClock.now - sent))
                    }
                    return seen
                }
            }
            var all: [Double] = []
            for try await part in group { all += part }
            return all.sorted()
        }
        let seconds = milliseconds(ContinuousClock.now - started) / 1_000
        say(String(
            format: "%6d → %6d   %9.0f  %7.1f  %7.1f   %6.0f", placed, placed + count, Double(count) / seconds, percentile(latencies, 0.5),
            percentile(latencies, 0.99), try residentMiB(manager.pid)
        ))
        placed += count
        if placed == count || placed == singleCount { try await measureReads(label: "\(placed) agents") }
    }

    // 2. Bulk deploys with replicas (10,000 per call at most).
    if bulkCount > 0 {
        let started = ContinuousClock.now
        var remaining = bulkCount
        var calls: [Double] = []
        while remaining > 0 {
            let count = min(10_000, remaining)
            let sent = ContinuousClock.now
            let agents = try await client.deploy(DeployRequest(agentType: "echo"), replicas: count)
            guard agents.count == count else { throw TestFailure("asked for \(count) replicas, got \(agents.count)") }
            calls.append(milliseconds(ContinuousClock.now - sent))
            remaining -= count
        }
        placed += bulkCount
        let seconds = milliseconds(ContinuousClock.now - started) / 1_000
        say(String(format: "\nbulk deploys: %d agents in %d calls of up to 10,000 replicas: %.0f agents/s placed and stored (slowest call %.0f ms)", bulkCount, calls.count, Double(bulkCount) / seconds, calls.max() ?? 0))
        try await measureReads(label: "\(placed) agents, while they start")
    }

    // 3. Memory and idle CPU once every agent runs.
    let settleStarted = ContinuousClock.now
    try await eventually("every agent runs", timeout: .seconds(600), every: .seconds(1)) {
        (try await client.clusterStatus().agents["running"] ?? 0) >= placed
    }
    say(String(format: "\nall %d agents running %.1f s after the last deploy answered", placed, milliseconds(ContinuousClock.now - settleStarted) / 1_000))
    try await measureReads(label: "\(placed) agents, all running")
    // Every node sends its list once more after its last change, and its digest a beat later
    // (the manager then hashes what it holds for it): two heartbeat intervals of settling,
    // measured on their own, before the manager is idle.
    let settleCPU = try cpuSeconds(manager.pid)
    let settle = max(5, 2 * heartbeatSeconds)
    try await Task.sleep(for: .seconds(settle))
    say(String(format: "manager CPU while the fleet settles (%.0f s: each node's last list, then its digest): %.1f%% of one core", settle, (try cpuSeconds(manager.pid) - settleCPU) / settle * 100))
    let rss = try residentMiB(manager.pid)
    say(String(format: "manager RSS %.0f MB: %.2f KB per agent (all of the process, over %d agents)", rss, rss * 1_024 / Double(max(placed, 1)), placed))
    let cpuBefore = try cpuSeconds(manager.pid)
    try await Task.sleep(for: .seconds(30))
    let idle = (try cpuSeconds(manager.pid) - cpuBefore) / 30
    say(String(
        format: "manager CPU while idle for 30 s with %d agents on %d nodes heartbeating every %.2f s: %.1f%% of one core", placed, nodeCount + 1,
        heartbeatSeconds, idle * 100
    ))

    // 4. Restart to ready: kill -9, start again, time until a deploy is answered.
    await cluster.killManager()
    let restartStarted = ContinuousClock.now
    try await cluster.startManager()
    let answering = ContinuousClock.now - restartStarted
    // Ready: a deploy is placed and stored (as soon as enough nodes are back to hold it).
    var refusals: [String: Int] = [:]
    try await eventually("a deploy answered", timeout: .seconds(120), every: .milliseconds(50)) {
        do {
            _ = try await client.deploy(DeployRequest(agentType: "echo"))
            return true
        } catch {
            refusals[String("\(error)".prefix(160)), default: 0] += 1
            return false
        }
    }
    for (refusal, count) in refusals.sorted(by: { $0.value > $1.value }).prefix(3) { say("  deploy refused \(count)× while the manager came back: \(refusal)") }
    placed += 1
    let deploying = ContinuousClock.now - restartStarted
    try await eventually("every node back", timeout: .seconds(120), every: .milliseconds(100)) {
        let placeable = (try? await client.deployDryRun(DeployRequest(agentType: "echo"))) != nil
        return placeable && (simulated + [victim]).allSatisfy(\.isConnected)
    }
    say(String(
        format: "restart with %d agents (kill -9, start): API answers after %.2f s, a deploy is placed after %.2f s; every node back after %.2f s",
        placed - 1, milliseconds(answering) / 1_000, milliseconds(deploying) / 1_000, milliseconds(ContinuousClock.now - restartStarted) / 1_000
    ))

    // 5. Failover: `--failover` agents packed onto one node; it dies; time until all of its agents run elsewhere.
    if failoverCount > 0 {
        let pinned = DeployRequest(agentType: "echo", deploymentStrategy: .resourceOptimal, resourceRequirements: ResourceSpec(cpu: 0.001))
        var remaining = failoverCount
        while remaining > 0 {
            let count = min(10_000, remaining)
            _ = try await client.deploy(pinned, replicas: count)
            remaining -= count
        }
        placed += failoverCount
        try await eventually("the pinned agents run", timeout: .seconds(600), every: .milliseconds(500)) {
            (try await client.clusterStatus().agents["running"] ?? 0) >= placed
        }
        let onVictim = try await countAgents(on: victim.id)
        victim.silence()
        let killedAt = ContinuousClock.now
        try await cluster.waitForNode(victim.id, status: .down, timeout: .seconds(120))
        let downAt = ContinuousClock.now
        try await eventually("the agents of \(victim.id) run elsewhere", timeout: .seconds(600), every: .milliseconds(250)) {
            let left = try await countAgents(on: victim.id)
            let running = try await client.clusterStatus().agents["running"] ?? 0
            return left == 0 && running >= placed
        }
        say(String(
            format: "failover: the %d agents of a node that died: node declared down after %.1f s (grace %.2f s), all running elsewhere %.1f s after that",
            onVictim, milliseconds(downAt - killedAt) / 1_000, heartbeatGraceSeconds, milliseconds(ContinuousClock.now - downAt) / 1_000
        ))
    }
} catch {
    say("benchmark failed: \(error)")
    await cluster.stopAll()
    exit(1)
}
for task in nodeTasks { task.cancel() }
await cluster.stopAll()

/// p50/p99 of a list page and of status, 200 calls each.
func measureReads(label: String) async throws {
    var pages: [Double] = [], statuses: [Double] = []
    var cursor: String?
    for _ in 0..<200 {
        var sent = ContinuousClock.now
        let page = try await client.agentsPage(limit: 100, cursor: cursor)
        pages.append(milliseconds(ContinuousClock.now - sent))
        cursor = page.nextCursor
        sent = ContinuousClock.now
        _ = try await client.clusterStatus()
        statuses.append(milliseconds(ContinuousClock.now - sent))
    }
    pages.sort()
    statuses.sort()
    say(String(
        format: "reads at %@: list page (100 agents) p50 %.1f ms p99 %.1f ms; status p50 %.1f ms p99 %.1f ms", label,
        percentile(pages, 0.5), percentile(pages, 0.99), percentile(statuses, 0.5), percentile(statuses, 0.99)
    ))
}

func countAgents(on node: String) async throws -> Int {
    var count = 0
    var cursor: String?
    repeat {
        let page = try await client.agentsPage(query: "node_id=\(node)", limit: 1_000, cursor: cursor)
        count += page.items.filter { $0.desiredState == .running }.count
        cursor = page.nextCursor
    } while cursor != nil
    return count
}

func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
}

func milliseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1_000 + Double(duration.components.attoseconds) / 1e15
}

func residentMiB(_ pid: Int32) throws -> Double {
    let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
    return (Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1_024
}

func cpuSeconds(_ pid: Int32) throws -> Double {
    let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
    let fields = stat[stat.index(after: stat.lastIndex(of: ")")!)...].split(separator: " ")
    return (Double(fields[11])! + Double(fields[12])!) / Double(sysconf(Int32(_SC_CLK_TCK)))
}
