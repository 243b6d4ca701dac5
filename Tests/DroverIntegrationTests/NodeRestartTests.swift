import DroverClient
import DroverCore
import DroverTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Process agents hold none of their node's sockets, so a node killed with `kill -9` restarts
/// on the same port at once; and they do not outlive it for more than the grace.
@Suite("Node restart", .serialized, .timeLimit(.minutes(2)))
struct NodeRestartTests {
    /// Reads stdin to its end, then lingers 20 s (past the 5 s grace).
    static let lingerer = "lingerer=process:python3 -c 'import sys,time; [0 for _ in sys.stdin]; time.sleep(20)'"
    /// Ignores stdin and SIGTERM.
    static let stubborn = "stubborn=process:python3 -c 'import signal,time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)'"

    @Test("after kill -9 of a node with process agents, it restarts on its port at once and the orphans are gone within the grace")
    func killAndRestart() async throws {
        let cluster = try TestCluster()
        var leftovers: [Int32] = []
        defer { for pid in leftovers where isAlive(pid) { kill(pid, SIGKILL) } }
        try await cluster.startManager()
        let arguments = ["--agent-type", Self.lingerer, "--agent-type", Self.stubborn]
        try await cluster.startNode("n1", extraArguments: arguments)
        try await cluster.waitForNode("n1", status: .active)
        let port = try #require(cluster.nodeURLs["n1"].flatMap { $0.split(separator: ":").last }.flatMap { Int($0) })

        _ = try await cluster.client.deploy(DeployRequest(agentType: "lingerer"))
        _ = try await cluster.client.deploy(DeployRequest(agentType: "stubborn"))
        var pids: [Int32] = []
        try await eventually("both agents run with a pid", timeout: .seconds(20)) {
            let items = try await cluster.nodeAPI("n1", "/agents")["items"]?.arrayValue ?? []
            pids = items.filter { $0["status"]?.stringValue == "running" }.compactMap { $0["pid"]?.intValue }.map { Int32($0) }
            return pids.count == 2
        }
        leftovers = pids
        // The agents (and anything in their process groups) hold no socket; an agent holds its three pipes only.
        // One snapshot is judged: a Python that is still starting holds files of its own for a moment
        // (site-packages' .pth files), which are not the node's.
        var snapshot: [Int32: [String: String]] = [:]
        try await eventually("agents hold only their pipes", timeout: .seconds(5)) {
            snapshot = Dictionary(uniqueKeysWithValues: pids.map { ($0, openDescriptors(of: $0)) })
            return snapshot.values.allSatisfy { $0.keys.sorted() == ["0", "1", "2"] && $0.values.allSatisfy { $0.hasPrefix("pipe:") } }
        }
        for pid in pids {
            let own = snapshot[pid] ?? [:]
            #expect(own.values.allSatisfy { $0.hasPrefix("pipe:") }, "agent \(pid): \(own)")
            for member in processGroup(pid) {
                let held = openDescriptors(of: member)
                #expect(!held.values.contains { $0.hasPrefix("socket:") }, "process \(member) in agent \(pid)'s group holds a socket: \(held)")
            }
        }
        leftovers = pids.flatMap { processGroup($0) }

        // kill -9 the node and start it again on the same port, at once.
        let node = try #require(cluster.nodes["n1"])
        let nodeSockets = Set(openDescriptors(of: node.pid).values.filter { $0.hasPrefix("socket:") })
        #expect(!nodeSockets.isEmpty)
        await cluster.stopNode("n1", signal: SIGKILL)
        let killedAt = ContinuousClock.now
        try await cluster.startNode("n1", extraArguments: arguments + ["--port", "\(port)"])
        #expect(cluster.nodeURLs["n1"]?.hasSuffix(":\(port)") == true, "\(cluster.nodeURLs)")
        #expect(try await cluster.nodeAPI("n1", "/health")["status"]?.stringValue == "ok")
        try await cluster.waitForNode("n1", status: .active)

        // The orphans (stdin closed; one ignores it, one ignores SIGTERM too) are killed after the 5 s grace.
        // (Grace 5 s, plus slack; counted from the kill.)
        let remaining = Duration.seconds(12) - killedAt.duration(to: .now)
        try await eventually("the orphan agents and their watchdogs are gone", timeout: max(remaining, .zero), every: .milliseconds(200)) {
            leftovers.allSatisfy { !isAlive($0) }
        }
        #expect(leftovers.allSatisfy { !isAlive($0) }, "still running: \(leftovers.filter(isAlive))")
        await cluster.stopAll()
    }
}

/// Whether `pid` runs (a zombie does not).
private func isAlive(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return false }
    let state = stat[stat.index(after: close)...].split(separator: " ").first
    return state != "Z" && state != "X"
}

/// Every process whose process group is `group`.
private func processGroup(_ group: Int32) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { Int32($0) }.filter { pid in
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        // After "pid (comm)": state, ppid, pgrp.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 2 && Int32(fields[2]) == group
    }
}

