// Task round trips through the REST API with `?wait=true`: how many answers come late.
// Real processes on loopback: the built `drover` manager (SQLite) and one node with a builtin
// `echo` agent; each client sends a task and waits for its answer, then sends the next. Not a test.
//
//   swift build -c release --product drover && swift run -c release drover-bench-roundtrip
//   swift run -c release drover-bench-roundtrip --tasks 20000 --clients 1,8
import DroverClient
import DroverCore
import DroverTestSupport
import Foundation

func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

var taskCount = 20_000
var clientCounts = [1, 8]
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let flag = arguments.next() {
    let value = arguments.next() ?? ""
    switch flag {
    case "--tasks": taskCount = max(1, Int(value) ?? 0)
    case "--clients": clientCounts = value.split(separator: ",").compactMap { Int($0) }.filter { $0 > 0 }
    default:
        say("usage: drover-bench-roundtrip [--tasks N] [--clients 1,8]")
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

say("round trips: \(taskCount) echo tasks per run, POST .../tasks?wait=true, one manager (SQLite) and one node on loopback")
say("clients  tasks/s    p50 ms   p99 ms   max ms   over 50 ms   over 400 ms")
for clients in clientCounts {
    let perClient = taskCount / clients
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
    let late = latencies.filter { $0 > 50 }.count, stalled = latencies.filter { $0 > 400 }.count
    say(String(
        format: "%7d  %7.0f  %7.2f  %7.2f  %7.1f   %5d of %d   %d", clients, Double(latencies.count) / elapsed, percentile(latencies, 0.5),
        percentile(latencies, 0.99), latencies.last ?? 0, late, latencies.count, stalled
    ))
    // Where the slowest answers spent their time, from the task's own timestamps.
    for sample in samples.suffix(3).reversed() where sample.milliseconds > 50 {
        let task = sample.task
        func ms(_ from: Date?, _ to: Date?) -> String {
            guard let from, let to else { return "-" }
            return String(format: "%.1f", to.timeIntervalSince(from) * 1_000)
        }
        say("         slow: \(String(format: "%.1f", sample.milliseconds)) ms = sent→stored \(ms(sample.sentAt, task.createdAt)), stored→dispatched \(ms(task.createdAt, task.dispatchedAt)), dispatched→completed \(ms(task.dispatchedAt, task.completedAt)), completed→answered \(ms(task.completedAt, sample.answeredAt)) ms")
    }
}

await cluster.stopAll()

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
