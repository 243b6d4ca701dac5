// Task dispatch through the REST API: echo tasks sent with `?wait=true` by 1, 8 and 32 clients,
// each waiting for its answer before sending the next. Real processes on loopback: the built
// `drover` manager (SQLite; every task stored before it is answered) and one node with a
// builtin `echo` agent. Prints throughput, p50/p99 and how many answers came late, per round
// and as medians; with `--ray PYTHON` (a Python with PyPI `ray` installed) it runs the same
// round trips against one Ray echo actor, interleaved round by round, and prints the ratios.
// Not a test: it prints figures.
//
//   swift build -c release --product drover && swift build -c release --product drover-bench-dispatch
//   .build/release/drover-bench-dispatch [--tasks 10000] [--clients 1,8,32] [--rounds 3] [--ray .venv-ray/bin/python]
import DroverClient
import DroverCore
import DroverTestSupport
import Foundation

func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

var taskCount = 10_000
var clientCounts = [1, 8, 32]
var rounds = 3
var rayPython: String?
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let flag = arguments.next() {
    let value = arguments.next() ?? ""
    switch flag {
    case "--tasks" where (Int(value) ?? 0) > 0: taskCount = Int(value)!
    case "--clients": clientCounts = value.split(separator: ",").compactMap { Int($0) }.filter { $0 > 0 }
    case "--rounds" where (Int(value) ?? 0) > 0: rounds = Int(value)!
    case "--ray" where !value.isEmpty: rayPython = value
    default:
        say("usage: drover-bench-dispatch [--tasks 10000] [--clients 1,8,32] [--rounds 3] [--ray PYTHON]")
        exit(2)
    }
}

let cluster = try TestCluster(heartbeatInterval: 1, heartbeatGrace: 5)
// The clients send more than the test clusters' rate limit allows: no limit here.
cluster.managerArguments = ["--rate-limit", "0"]
try await cluster.startManager()
try await cluster.startNode("bench")
try await cluster.waitForNode("bench", status: .active)
let agent = try await cluster.client.deploy(DeployRequest(agentType: "echo"))
try await eventually("the agent runs") { try await cluster.client.agent(id: agent.id).status == .running }
for _ in 0..<200 { _ = try await cluster.client.submitTask(agentID: agent.id, input: ["warm": true], timeoutSeconds: 30, wait: true) }

let ray: RayEcho?
do {
    ray = try rayPython.map { try RayEcho(python: $0) }
} catch {
    say("Ray could not be started: \(error)")
    await cluster.stopAll()
    exit(1)
}

say("dispatch: \(taskCount) echo tasks per run, POST .../tasks?wait=true, one manager (SQLite) and one node on loopback, \(rounds) rounds")
if let ray { say("Ray \(ray.version): one echo actor, ray.get(actor.echo.remote(x)) per call, the same clients, interleaved") }
say("round  clients  system   tasks/s    p50 ms   p99 ms   max ms   over 50 ms")
var droverRuns: [Int: [Figures]] = [:]
var rayRuns: [Int: [Figures]] = [:]
do {
    for round in 1...rounds {
        for clients in clientCounts {
            let drover = try await runDrover(tasks: taskCount, clients: clients)
            droverRuns[clients, default: []].append(drover)
            say(String(format: "%5d  %7d  drover  %8.0f  %7.2f  %7.2f  %7.1f   %d of %d", round, clients, drover.perSecond, drover.p50, drover.p99, drover.max, drover.late, drover.count))
            if let ray {
                let theirs = try ray.run(tasks: taskCount, clients: clients)
                rayRuns[clients, default: []].append(theirs)
                say(String(format: "%5d  %7d  ray     %8.0f  %7.2f  %7.2f", round, clients, theirs.perSecond, theirs.p50, theirs.p99))
            }
        }
    }
} catch {
    say("benchmark failed: \(error)")
    ray?.stop()
    await cluster.stopAll()
    exit(1)
}

say("\nmedians of \(rounds) rounds:")
say("clients   drover tasks/s   p50 ms   p99 ms" + (ray == nil ? "" : "   ray calls/s   p50 ms   p99 ms   throughput drover/ray   p50 drover/ray"))
for clients in clientCounts {
    let ours = Figures.median(droverRuns[clients] ?? [])
    var line = String(format: "%7d   %14.0f  %7.2f  %7.2f", clients, ours.perSecond, ours.p50, ours.p99)
    if let runs = rayRuns[clients] {
        let theirs = Figures.median(runs)
        line += String(
            format: "   %11.0f  %7.2f  %7.2f   %21.2f×  %15.2f×", theirs.perSecond, theirs.p50, theirs.p99,
            ours.perSecond / max(theirs.perSecond, 0.001), ours.p50 / max(theirs.p50, 0.001)
        )
    }
    say(line)
}
ray?.stop()
await cluster.stopAll()

/// One run's figures.
struct Figures: Sendable {
    var perSecond: Double
    var p50: Double
    var p99: Double
    var max: Double = 0
    var late: Int = 0
    var count: Int = 0

    /// Each figure's median over runs (separately).
    static func median(_ runs: [Figures]) -> Figures {
        func middle(_ values: [Double]) -> Double {
            let sorted = values.sorted()
            return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
        }
        return Figures(perSecond: middle(runs.map(\.perSecond)), p50: middle(runs.map(\.p50)), p99: middle(runs.map(\.p99)))
    }
}

/// `tasks` round trips shared by `clients` clients; each client sends one task at a time and
/// waits for its answer. Says where the slowest answers (over 50 ms) spent their time.
func runDrover(tasks: Int, clients: Int) async throws -> Figures {
    let perClient = tasks / clients
    let started = ContinuousClock.now
    let samples = try await withThrowingTaskGroup(of: [Sample].self) { group in
        for _ in 0..<clients {
            group.addTask {
                let client = cluster.client
                var seen: [Sample] = []
                seen.reserveCapacity(perClient)
                for index in 0..<perClient {
                    let sentAt = Date()
                    let sent = ContinuousClock.now
                    let task = try await client.submitTask(agentID: agent.id, input: ["i": .int(index)], timeoutSeconds: 30, wait: true)
                    guard task.status == .succeeded else { throw TestFailure("task \(task.id) ended \(task.status.rawValue): \(task.error ?? "-")") }
                    seen.append(Sample(milliseconds: milliseconds(ContinuousClock.now - sent), sentAt: sentAt, answeredAt: Date(), task: task))
                }
                return seen
            }
        }
        var all: [Sample] = []
        for try await part in group { all += part }
        return all.sorted { $0.milliseconds < $1.milliseconds }
    }
    let latencies = samples.map(\.milliseconds)
    let elapsed = milliseconds(ContinuousClock.now - started) / 1_000
    for sample in samples.suffix(3).reversed() where sample.milliseconds > 50 {
        let task = sample.task
        func ms(_ from: Date?, _ to: Date?) -> String {
            guard let from, let to else { return "-" }
            return String(format: "%.1f", to.timeIntervalSince(from) * 1_000)
        }
        say("         slow: \(String(format: "%.1f", sample.milliseconds)) ms = sent→stored \(ms(sample.sentAt, task.createdAt)), stored→dispatched \(ms(task.createdAt, task.dispatchedAt)), dispatched→completed \(ms(task.dispatchedAt, task.completedAt)), completed→answered \(ms(task.completedAt, sample.answeredAt)) ms")
    }
    return Figures(
        perSecond: Double(latencies.count) / elapsed, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99),
        max: latencies.last ?? 0, late: latencies.filter { $0 > 50 }.count, count: latencies.count
    )
}

/// One round trip: its latency, when it was sent and answered, and the task as answered.
struct Sample: Sendable {
    let milliseconds: Double
    let sentAt: Date
    let answeredAt: Date
    let task: TaskRecord
}

func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
}

func milliseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1_000 + Double(duration.components.attoseconds) / 1e15
}
