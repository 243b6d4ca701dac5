import DroverCore
import Foundation
import Testing

@testable import DroverNode

@Suite("Node configuration")
struct ConfigurationTests {
    @Test("defaults")
    func defaults() throws {
        let configuration = NodeConfiguration(nodeID: "n1")
        #expect(configuration.name == "n1")
        #expect(configuration.tenant == "default")
        #expect(configuration.apiPort == 8001)
        #expect(configuration.maxAgents == 50)
        #expect(configuration.capacity.cpu >= 1)
        #expect(configuration.capacity.gpu == 0)
        #expect(configuration.heartbeatInterval == nil)
        try configuration.validate()
        #expect(NodeConfiguration.isValidID(NodeConfiguration.defaultNodeID()))
    }

    @Test("the environment overrides the defaults")
    func environment() throws {
        let configuration = try NodeConfiguration.fromEnvironment([
            "CENTRAL_MANAGER_URL": "https://manager.example.com",
            "ORCHESTRATOR_ID": "customer1",
            "AGENT_PORT": "9001",
            "AGENT_CONFIG": #"{"capabilities": ["gpu", "trading"], "max_agents": 7, "labels": {"region": "eu"}}"#,
            "HEARTBEAT_INTERVAL": "2.5",
            "EXTERNAL_IP": "10.0.0.5",
            "DROVER_TOKEN": "secret",
            "UNRELATED": "x",
            "DROVER_NODE_UNUSED": "",
        ])
        #expect(configuration.managerURL == "https://manager.example.com")
        #expect(configuration.tenant == "customer1")
        #expect(configuration.apiPort == 9001)
        #expect(configuration.capabilities == ["gpu", "trading"])
        #expect(configuration.maxAgents == 7)
        #expect(configuration.labels == ["region": "eu"])
        #expect(configuration.heartbeatInterval == .milliseconds(2500))
        #expect(configuration.hostAddress == "10.0.0.5")
        #expect(configuration.token == "secret")
        #expect(try configuration.connectURL() == "wss://manager.example.com/api/v1/cluster/connect")
    }

    @Test("empty variables count as unset")
    func emptyVariables() throws {
        let configuration = try NodeConfiguration.fromEnvironment(["AGENT_PORT": "", "HEARTBEAT_INTERVAL": "  "])
        #expect(configuration.apiPort == 8001)
        #expect(configuration.heartbeatInterval == nil)
    }

    @Test("bad values name the variable", arguments: [
        ("AGENT_PORT", "eighty", "AGENT_PORT"),
        ("AGENT_PORT", "70000", "AGENT_PORT"),
        ("HEARTBEAT_INTERVAL", "-1", "HEARTBEAT_INTERVAL"),
        ("HEARTBEAT_INTERVAL", "soon", "HEARTBEAT_INTERVAL"),
        ("ORCHESTRATOR_ID", "has space", "ORCHESTRATOR_ID"),
        ("CENTRAL_MANAGER_URL", "ftp://manager", "CENTRAL_MANAGER_URL"),
        ("AGENT_CONFIG", "{not json", "AGENT_CONFIG is not valid JSON"),
        ("AGENT_CONFIG", "[1]", "AGENT_CONFIG must be a JSON object"),
        ("AGENT_CONFIG", #"{"capabilities": "gpu"}"#, "AGENT_CONFIG.capabilities"),
        ("AGENT_CONFIG", #"{"max_agents": -2}"#, "AGENT_CONFIG.max_agents"),
        ("AGENT_CONFIG", #"{"labels": {"a": 1}}"#, "AGENT_CONFIG.labels.a"),
    ])
    func badValues(name: String, value: String, message: String) {
        do {
            _ = try NodeConfiguration.fromEnvironment([name: value])
            Issue.record("expected an error for \(name)=\(value)")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
        }
    }

    @Test("the gateway URL follows the manager URL", arguments: [
        ("http://127.0.0.1:8000", "ws://127.0.0.1:8000/api/v1/cluster/connect"),
        ("http://127.0.0.1:8000/", "ws://127.0.0.1:8000/api/v1/cluster/connect"),
        ("127.0.0.1:8000", "ws://127.0.0.1:8000/api/v1/cluster/connect"),
        ("https://drover.example.com/base", "wss://drover.example.com/base/api/v1/cluster/connect"),
        ("ws://h:1/api/v1/cluster/connect", "ws://h:1/api/v1/cluster/connect"),
    ])
    func connectURL(manager: String, expected: String) throws {
        #expect(try NodeConfiguration(managerURL: manager, nodeID: "n").connectURL() == expected)
    }

    @Test("validate refuses bad fields")
    func validate() {
        #expect(throws: NodeConfigurationError.self) { try NodeConfiguration(nodeID: "bad id").validate() }
        #expect(throws: NodeConfigurationError.self) { try NodeConfiguration(nodeID: "n", apiPort: -1).validate() }
        #expect(throws: NodeConfigurationError.self) { try NodeConfiguration(managerURL: "mailto:x", nodeID: "n").validate() }
        #expect(throws: NodeConfigurationError.self) { try NodeConfiguration(nodeID: "n", maxAgents: -1).validate() }
    }

    @Test("backoff grows, caps and jitters")
    func backoff() {
        let exact = Backoff(base: .milliseconds(500), factor: 2, cap: .seconds(10), jitter: .none)
        #expect(exact.delay(attempt: 0) == .milliseconds(500))
        #expect(exact.delay(attempt: 1) == .seconds(1))
        #expect(exact.delay(attempt: 3) == .seconds(4))
        #expect(exact.delay(attempt: 10) == .seconds(10))
        #expect(exact.delay(attempt: 10_000) == .seconds(10))
        let full = Backoff(base: .milliseconds(250), cap: .seconds(5), jitter: .full)
        #expect(full.delay(attempt: 2, random: 0.5) == .milliseconds(500))
        #expect(full.delay(attempt: 2, random: 0) == .milliseconds(1))
        let spread = Backoff(base: .seconds(1), cap: .seconds(10), jitter: .proportional(0.2))
        #expect(spread.delay(attempt: 0, random: 0) == .milliseconds(800))
        #expect(spread.delay(attempt: 0, random: 1) == .milliseconds(1200))
    }

    @Test("system resources parse /proc and survive its absence")
    func systemResources() {
        #expect(SystemResources.parseLoadAverage("0.52 0.58 0.59 1/389 12345\n") == 0.52)
        #expect(SystemResources.parseLoadAverage("") == nil)
        #expect(SystemResources.parseMemoryAvailable("MemTotal: 100 kB\nMemAvailable:    2048 kB\n") == 2)
        #expect(SystemResources.parseMemoryAvailable("MemTotal: 100 kB\n") == nil)
        let missing = SystemResources.current(capacity: .init(cpu: 2, memoryMB: 100), procRoot: "/nonexistent-proc")
        #expect(missing.load1 == nil)
        #expect(missing.memoryAvailableMB == nil)
        #expect(missing.capacity.cpu == 2)
        if FileManager.default.fileExists(atPath: "/proc/loadavg") {
            let live = SystemResources.current(capacity: .zero)
            #expect(live.load1 != nil)
            #expect((live.memoryAvailableMB ?? 0) > 0)
        }
    }

    @Test("--ca must be a readable PEM file; --tls-server-name a DNS name")
    func tlsOptions() throws {
        var configuration = NodeConfiguration(managerURL: "https://127.0.0.1:8443", nodeID: "n1")
        try configuration.validate()
        configuration.caFile = "/nonexistent/ca.pem"
        #expect(throws: NodeConfigurationError("the CA file /nonexistent/ca.pem (--ca) does not exist")) { try configuration.validate() }
        let garbage = FileManager.default.temporaryDirectory.appendingPathComponent("ca-\(UUID().uuidString.prefix(8)).pem")
        try "not pem".write(to: garbage, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: garbage) }
        configuration.caFile = garbage.path
        #expect(throws: NodeConfigurationError.self) { try configuration.validate() }
        configuration.caFile = nil
        configuration.tlsServerName = "10.0.0.1"
        #expect(throws: NodeConfigurationError.self) { try configuration.validate() }
        configuration.tlsServerName = "manager.example.com"
        try configuration.validate()
    }

    @Test("a manager given by IP has its IP checked by the HTTPS preflight; by name, the WebSocket checks the name itself")
    func tlsPlan() throws {
        let tls = try ManagerTLS(caFile: nil, serverName: nil)
        #expect(tls.webSocket(host: "127.0.0.1").nameCheckedOnlyByPreflight)
        #expect(tls.webSocket(host: "127.0.0.1").sniHostname != "127.0.0.1")
        #expect(tls.webSocket(host: "::1").nameCheckedOnlyByPreflight)
        #expect(!tls.webSocket(host: "manager.example.com").nameCheckedOnlyByPreflight)
        #expect(tls.webSocket(host: "manager.example.com").sniHostname == nil)
        let named = try ManagerTLS(caFile: nil, serverName: "drover.internal")
        #expect(named.webSocket(host: "10.0.0.1").sniHostname == "drover.internal")
        #expect(!named.webSocket(host: "10.0.0.1").nameCheckedOnlyByPreflight)
    }
}
