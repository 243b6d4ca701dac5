import DroverClient
import DroverCore
import DroverTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A store out of disk space stops writes, not the cluster: no spin, no false failover, no run
/// failed for it, 503 with Retry-After for calls that must write, and everything resumes when
/// space returns.
@Suite("Disk full", .serialized, .timeLimit(.minutes(3)), .enabled(if: SmallDisk.isAvailable, "needs root to mount a tmpfs"))
struct DiskFullTests {
    @Test("a full disk for a while: live nodes stay up, runs wait and complete, writes get 503, CPU stays low")
    func diskFull() async throws {
        let disk = try SmallDisk(megabytes: 8)
        defer { disk.unmount() }
        let cluster = try TestCluster()
        cluster.databaseFile = disk.path + "/drover.db"
        let manager = try await cluster.startManager()
        for id in ["d1", "d2"] {
            try await cluster.startNode(id)
            try await cluster.waitForNode(id, status: .active)
        }
        let client = cluster.client
        let agent = try await client.deploy(DeployRequest(agentType: "py_echo"))
        try await eventually("the agent runs") { try await client.agent(id: agent.id).status == .running }

        _ = try await client.applyWorkflow(
            text: #"{"name":"timer","steps":[{"id":"w","type":"wait","duration":"3s"},{"id":"s","type":"task","agent_type":"echo"}]}"#, yaml: false
        )
        var runs: [String] = []
        for index in 0..<5 { runs.append(try await client.startRun(workflow: "timer", input: ["n": .int(index)]).id) }

        let rssBefore = try Self.residentMiB(pid: manager.pid)
        try disk.fill()
        let fullAt = ContinuousClock.now
        // Writes that still fit in the WAL may go through for a moment; soon every write is refused.
        var refused: (status: Int, headers: [String: String], body: Data)?
        for _ in 0..<400 where refused == nil {
            let answer = try await client.rawResponse(method: "POST", path: "/api/v1/cluster/agents/deploy", body: Data(#"{"agent_type": "echo"}"#.utf8))
            if answer.status == 503 { refused = answer } else { try await Task.sleep(for: .milliseconds(25)) }
        }
        let answer = try #require(refused, "no deploy was refused with the disk full\n\(cluster.logs)")
        let error = try JSONCoding.decoder().decode(JSONValue.self, from: answer.body)["error"]
        #expect(error?["code"]?.stringValue == "store_unavailable", "\(String(decoding: answer.body, as: UTF8.self))")
        #expect(Int(answer.headers["retry-after"] ?? "") ?? 0 > 0, "\(answer.headers)")
        try await eventually("/health reports the store failing", timeout: .seconds(5)) {
            let health = try await client.health()
            return health.status == "degraded" && health.store?.status == "failing"
        }
        // A run started now is refused with 503, or (when its record still fits in pages the store
        // has) accepted; then it must complete once the disk has room, like the others.
        let started = try await client.rawResponse(
            method: "POST", path: "/api/v1/workflows/timer/runs", body: Data(#"{"input": {}}"#.utf8)
        )
        #expect([201, 503].contains(started.status), "\(String(decoding: started.body, as: UTF8.self))")
        if started.status == 503 {
            #expect(started.headers["retry-after"] != nil)
        } else if let id = try JSONCoding.decoder().decode(JSONValue.self, from: started.body)["id"]?.stringValue {
            runs.append(id)
        }
        // A node that drops its connection during the outage gets back in (its record cannot be written).
        await cluster.stopNode("d2", signal: SIGKILL)
        try await cluster.startNode("d2")
        try await eventually("d2 is connected again while the store refuses writes", timeout: .seconds(15)) {
            try await cluster.nodeText("d2", "/metrics").contains("drover_node_manager_connected 1")
        }

        // Full for 8 s (the runs' waits end meanwhile, nodes heartbeat every 0.3 s, grace 1.5 s).
        let cpuBefore = try Self.cpuSeconds(pid: manager.pid)
        let sampleStart = ContinuousClock.now
        try await Task.sleep(until: fullAt + .seconds(8))
        let cpu = try Self.cpuSeconds(pid: manager.pid) - cpuBefore
        let wall = Self.seconds(ContinuousClock.now - sampleStart)
        #expect(cpu < wall * 0.5, "manager used \(cpu) s of CPU in \(wall) s with the disk full: it spins\n\(cluster.logs)")
        let rssGrowth = try Self.residentMiB(pid: manager.pid) - rssBefore
        #expect(rssGrowth < 64, "the manager grew by \(rssGrowth) MiB while the disk was full")
        for id in ["d1", "d2"] { #expect(try await client.node(id: id).status == .active) }
        #expect(try await client.health().store?.failedWrites ?? 0 > 0)

        disk.free()
        for runID in runs {
            try await eventually("run \(runID) completes once the disk has room", timeout: .seconds(40)) {
                try await client.run(id: runID).status == .completed
            }
        }
        try await eventually("/health is ok again", timeout: .seconds(10)) { try await client.health().store?.status == "ok" }

        let events = try await client.events(after: 0, limit: 1_000)
        // d2 was really silent for a moment (killed and started again): it may have been suspect, never down.
        let failovers = events.filter {
            ["node.down", "agent.rescheduled"].contains($0.kind) || ($0.kind == "node.suspect" && $0.nodeID != "d2")
        }
        #expect(failovers.isEmpty, "\(failovers.map { "\($0.kind) \($0.nodeID ?? "-"): \($0.message)" })")
        #expect(try await client.agent(id: agent.id).generation == agent.generation)
        // The refused calls are in the audit log, written once the disk had room.
        try await eventually("the refused calls were audited", timeout: .seconds(10)) {
            try await client.audit(after: 0, limit: 1_000).contains { $0.status == 503 && $0.path == "/api/v1/cluster/agents/deploy" }
        }
        let metrics = String(decoding: try await client.raw(method: "GET", path: "/metrics").body, as: UTF8.self)
        #expect(metrics.contains("drover_manager_store_write_failures_total"), "\(metrics.prefix(2_000))")
    }

    /// User plus system CPU time of a process, in seconds.
    static func cpuSeconds(pid: Int32) throws -> Double {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        // Fields after the command name (which is in parentheses and may hold spaces).
        let fields = stat[stat.index(after: stat.lastIndex(of: ")")!)...].split(separator: " ")
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return (Double(fields[11])! + Double(fields[12])!) / ticks
    }

    /// Resident memory of a process, in MiB.
    static func residentMiB(pid: Int32) throws -> Double {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
        return Double(line.split(separator: " ").dropFirst().first ?? "0")! / 1_024
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
