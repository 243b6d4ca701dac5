import DroverCore
import DroverTestSupport
import Foundation
import Testing

@testable import DroverNode

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A Python agent that crashes (after a checkpoint) when the input is "crash", and
/// otherwise answers with the state it was started with and a few environment variables.
private let crashingAgent = #"""
import json, os, sys
state = None
for raw in iter(sys.stdin.readline, ''):
    message = json.loads(raw)
    kind = message["type"]
    if kind == "init":
        state = message.get("state")
    elif kind == "task":
        if message["input"] == "crash":
            print(json.dumps({"type": "checkpoint", "state": {"saved": True}}), flush=True)
            print("about to crash; this line is not JSON", flush=True)
            sys.exit(4)
        output = {"state": state, "token": os.environ.get("DROVER_TOKEN"), "agent": os.environ.get("DROVER_AGENT_ID"),
                  "custom": os.environ.get("MY_VAR")}
        print(json.dumps({"type": "result", "task_id": message["task_id"], "output": output}), flush=True)
    elif kind == "shutdown":
        break
"""#

@Suite("Process agents", .serialized, .timeLimit(.minutes(1)))
struct ProcessAgentTests {
    func catalog(_ entries: AgentTypeEntry...) throws -> AgentCatalog {
        var catalog = AgentCatalog()
        for entry in entries { try catalog.add(entry) }
        return catalog
    }

    @Test("the Python example agent runs tasks, checkpoints, and stops")
    func pythonEchoAgent() async throws {
        let command = "python3 \(repositoryRoot)/examples/agents/python/echo_agent.py"
        let catalog = try catalog(AgentTypeEntry(name: "py_echo", driver: .process, command: command))
        try await withSupervisor(catalog: catalog) { supervisor, events in
            await supervisor.start(startMessage("p1", type: "py_echo", generation: 1, state: ["count": 5]))
            try await events.status("p1", generation: 1, .running)
            let pid = try #require(await supervisor.summaries().first?.pid)

            await supervisor.submit(taskMessage("t1", agent: "p1", generation: 1, input: ["hi": 1]))
            let result = try await events.result("t1")
            #expect(result.ok)
            #expect(result.output == ["echo": ["hi": 1], "count": 6, "agent_id": "p1"])
            try await events.wait("checkpoint") { $0.checkpoints.contains { $0.state == ["count": 6] && $0.generation == 1 } }

            for index in 2...5 { await supervisor.submit(taskMessage("t\(index)", agent: "p1", generation: 1, input: .int(index))) }
            for index in 2...5 { #expect(try await events.result("t\(index)").output?["echo"] == .int(index)) }

            await supervisor.submit(taskMessage("t6", agent: "p1", generation: 1, input: ["fail": true]))
            #expect(try await events.result("t6").error == "asked to fail (input.fail is true)")
            let summary = try #require(await supervisor.summaries().first)
            #expect(summary.tasksCompleted == 5 && summary.tasksFailed == 1 && summary.restarts == 0)

            await supervisor.stop(.init(agentID: "p1", generation: 1, reason: "test"))
            try await events.status("p1", generation: 1, .stopped)
            #expect(kill(Int32(pid), 0) != 0, "the agent process should be gone")
        }
    }

    @Test("a crash fails the tasks in flight, and the agent restarts with its last checkpoint")
    func crashAndRestart() async throws {
        let script = try writeScript(crashingAgent, name: "crashing_agent.py")
        setenv("DROVER_TOKEN", "must-not-leak", 1)
        let catalog = try catalog(AgentTypeEntry(name: "crashy", driver: .process, command: "python3 \(script)", env: ["MY_VAR": "set"]))
        try await withSupervisor(catalog: catalog, policy: quickPolicy(maxRestarts: 3)) { supervisor, events in
            await supervisor.start(startMessage("c1", type: "crashy", generation: 2))
            try await events.status("c1", generation: 2, .running)
            await supervisor.submit(taskMessage("t1", agent: "c1", generation: 2, input: "crash"))
            let crashed = try await events.result("t1")
            #expect(!crashed.ok && crashed.rejected == nil)
            #expect(crashed.error == "agent process exited with status 4")
            let restarting = try await events.status("c1", generation: 2, .starting, restarts: 1)
            #expect(restarting.error == "agent process exited with status 4")
            try await events.status("c1", generation: 2, .running, restarts: 1)

            await supervisor.submit(taskMessage("t2", agent: "c1", generation: 2, input: "hello"))
            let output = try #require(try await events.result("t2").output)
            #expect(output["state"] == ["saved": true])
            #expect(output["token"] == .null)
            #expect(output["agent"] == "c1")
            #expect(output["custom"] == "set")
        }
    }

    @Test("an agent that keeps crashing is failed after the restart limit")
    func failedAfterLimit() async throws {
        let catalog = try catalog(AgentTypeEntry(name: "dies", driver: .process, command: "sh -c 'exit 3'"))
        try await withSupervisor(catalog: catalog, policy: quickPolicy(maxRestarts: 2)) { supervisor, events in
            await supervisor.start(startMessage("d1", type: "dies", generation: 1))
            let failed = try await events.status("d1", generation: 1, .failed)
            #expect(failed.restarts == 2)
            #expect(failed.error?.contains("agent process exited with status 3") == true)
            #expect(failed.error?.contains("gave up after 2 restarts") == true)
            #expect(await supervisor.runningAgents() == [.init(agentID: "d1", generation: 1, status: .failed, restarts: 2)])
            await supervisor.submit(taskMessage("t1", agent: "d1", generation: 1))
            #expect(try await events.result("t1").rejected == true)
        }
    }

    @Test("a command that does not exist is reported as such")
    func missingCommand() async throws {
        let catalog = try catalog(AgentTypeEntry(name: "missing", driver: .process, command: "/nonexistent/agent-binary"))
        try await withSupervisor(catalog: catalog, policy: quickPolicy(maxRestarts: 0)) { supervisor, events in
            await supervisor.start(startMessage("m1", type: "missing", generation: 1))
            let failed = try await events.status("m1", generation: 1, .failed)
            #expect(failed.error?.contains("status 127 (command not found?)") == true)
        }
    }

    @Test("an agent that ignores shutdown gets SIGTERM after 2 s")
    func sigterm() async throws {
        let entry = AgentTypeEntry(name: "stubborn", driver: .process, command: "sleep 60")
        let launch = AgentLaunch(agentID: "s1", agentType: "stubborn", generation: 1, config: .null, state: nil)
        let instance = try await ProcessDriver().start(launch, entry: entry, logger: quietLogger)
        async let ended = instance.monitor { _ in }
        let start = ContinuousClock.now
        await instance.stop()
        let elapsed = start.duration(to: .now)
        #expect(elapsed >= .seconds(2) && elapsed < .seconds(5))
        #expect(await ended == "agent process was killed by signal 15")
    }

    @Test("an agent inherits only stdin, stdout and stderr, not the node's sockets and files")
    func inheritsOnlyItsPipes() async throws {
        // Descriptors the node holds without close-on-exec: a listening socket and a file.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(listener >= 3)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        #expect(bound == 0 && listen(listener, 1) == 0)
        let file = open("/dev/null", O_RDONLY)
        defer {
            _ = closeFD(listener)
            _ = closeFD(file)
        }
        #expect(fcntl(listener, F_GETFD) & FD_CLOEXEC == 0 && fcntl(file, F_GETFD) & FD_CLOEXEC == 0)

        let entry = AgentTypeEntry(name: "idle", driver: .process, command: "sleep 30")
        let launch = AgentLaunch(agentID: "i1", agentType: "idle", generation: 1, config: .null, state: nil)
        let instance = try await ProcessDriver().start(launch, entry: entry, logger: quietLogger)
        let pid = try #require(instance.pid)
        async let ended = instance.monitor { _ in }
        // After `exec`, the shell's descriptor 3 (the lifeline) is closed; wait for it.
        var descriptors: [String: String] = [:]
        let deadline = ContinuousClock.now + .seconds(5)
        repeat {
            try await Task.sleep(for: .milliseconds(20))
            descriptors = openDescriptors(of: pid)
        } while (descriptors.count != 3 || !(descriptors["0"]?.hasPrefix("pipe:") ?? false)) && ContinuousClock.now < deadline
        #expect(descriptors.keys.sorted() == ["0", "1", "2"], "\(descriptors)")
        #expect(!descriptors.values.contains { $0.hasPrefix("socket:") }, "\(descriptors)")
        #expect(descriptors.values.allSatisfy { $0.hasPrefix("pipe:") }, "\(descriptors)")
        await instance.stop()
        _ = await ended
    }

    @Test("when the lifeline closes (the node died), the agent is killed after the grace even if it ignores stdin and SIGTERM")
    func orphanKilledAfterGrace() async throws {
        let command = "python3 -c 'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)'"
        let child = try ChildProcess.spawn(
            executable: "/bin/sh", arguments: ["-c", ProcessDriver.script(command: command, graceSeconds: 1)],
            environment: ProcessInfo.processInfo.environment, lifeline: true
        )
        let exitSignal = ExitSignal()
        child.onExit { exitSignal.set($0) }
        defer {
            if exitSignal.current == nil { child.signal(SIGKILL) }
            _ = closeFD(child.stdout)
            _ = closeFD(child.stderr)
        }
        try await Task.sleep(for: .milliseconds(300))
        #expect(exitSignal.current == nil)
        // What the kernel does when the node dies: its ends of stdin and of the lifeline close.
        let start = ContinuousClock.now
        _ = closeFD(child.stdin)
        child.closeLifeline()
        #expect(await exitSignal.wait(timeout: .seconds(5)), "the orphan agent should be killed")
        #expect(exitSignal.current == ProcessExit(status: SIGKILL, signaled: true))
        #expect(start.duration(to: .now) >= .milliseconds(900))
    }
}

