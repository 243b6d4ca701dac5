import DroverClient
import DroverCore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Paths of the built binaries and the repository.
public enum Paths {
    /// The repository root (three levels above this file: Sources/DroverTestSupport/TestCluster.swift).
    public static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The `drover` binary next to the test bundle (or `$DROVER_BIN`).
    public static var drover: URL {
        get throws {
            if let path = ProcessInfo.processInfo.environment["DROVER_BIN"] { return URL(fileURLWithPath: path) }
            let executable = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            var directory = executable.deletingLastPathComponent()
            while directory.path != "/" {
                let candidate = directory.appendingPathComponent("drover")
                if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
                directory = directory.deletingLastPathComponent()
            }
            throw TestFailure("cannot find the drover binary near \(executable.path); run `swift build` first or set DROVER_BIN")
        }
    }

    public static let pythonEchoAgent = repository.appendingPathComponent("examples/agents/python/echo_agent.py").path

    /// The example Swift agent built on DroverAgentKit, next to the `drover` binary.
    public static var swiftEchoAgent: String {
        get throws { try drover.deletingLastPathComponent().appendingPathComponent("swift-echo-agent").path }
    }
}

/// A throwaway cluster: one manager and any number of nodes, real processes on loopback.
public final class TestCluster: @unchecked Sendable {
    public let directory: URL
    public let token = "test-admin-token-0123456789abcdef"
    /// The secret the manager signs JWTs with, so tests can forge (or expire) tokens on purpose.
    public let jwtSecret = "test-jwt-secret-0123456789abcdef-0123456789"
    /// The admin password of `POST /api/v1/auth/token`.
    public let adminPassword = "test-admin-password"
    /// Extra `drover manager` arguments (e.g. `--rate-limit 1`), used on every start.
    public var managerArguments: [String] = []
    /// Heartbeat interval and grace the manager is started with (short, for tests).
    public let heartbeatInterval: Double
    public let heartbeatGrace: Double
    public private(set) var manager: ManagedProcess?
    public private(set) var managerURL = ""
    public private(set) var managerPort = 0
    public private(set) var nodes: [String: ManagedProcess] = [:]
    public private(set) var nodeURLs: [String: String] = [:]
    /// With `tls: true`: the throwaway CA and server certificate the manager serves HTTPS and wss with.
    public let certificates: TestCertificates?
    /// Extra environment of the manager (e.g. `MASTER_SECRET_KEY`).
    public var managerEnvironment: [String: String] = [:]

    /// - Parameter tls: serve the manager over HTTPS/wss with a fresh CA; nodes and clients trust it.
    public init(heartbeatInterval: Double = 0.3, heartbeatGrace: Double = 1.5, tls: Bool = false) throws {
        self.heartbeatInterval = heartbeatInterval
        self.heartbeatGrace = heartbeatGrace
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("drover-it-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        certificates = tls ? try TestCertificates.make(in: directory.appendingPathComponent("tls")) : nil
    }

    deinit {
        manager = nil
        nodes.removeAll()
        try? FileManager.default.removeItem(at: directory)
    }

    public var client: DroverClient { client(token: token) }

    /// A client that sends `token` (or none); it trusts the cluster's CA when TLS is on.
    public func client(token: String?) -> DroverClient {
        guard let certificates else { return DroverClient(baseURL: managerURL, token: token) }
        // The CA file was just written by `TestCertificates.make`; failing to read it is a broken test machine.
        return try! DroverClient(baseURL: managerURL, token: token, caFile: certificates.caCertificate)
    }

    /// The manager's SQLite file: `drover.db` in the cluster's folder unless a test puts it elsewhere (on a small disk, say).
    public var databaseFile: String?
    public var databasePath: String { databaseFile ?? directory.appendingPathComponent("drover.db").path }

    /// Starts the manager (again, on the same port and store, if it ran before).
    @discardableResult
    public func startManager() async throws -> ManagedProcess {
        let process = try ManagedProcess(
            name: "manager-\(UUID().uuidString.prefix(4))", executable: try Paths.drover,
            arguments: [
                "manager", "--host", "127.0.0.1", "--port", "\(managerPort)", "--store", "sqlite:\(databasePath)",
                "--admin-token", token, "--heartbeat-interval", "\(heartbeatInterval)", "--heartbeat-grace", "\(heartbeatGrace)",
                "--reconcile-interval", "0.2", "--jwt-secret", jwtSecret, "--admin-password", adminPassword,
                // Tests poll every few milliseconds; the rate-limit tests set their own (the last flag wins).
                "--rate-limit", "1000", "--rate-burst", "2000",
            ] + (certificates.map { ["--tls-cert", $0.serverCertificate, "--tls-key", $0.serverKey] } ?? []) + managerArguments,
            environment: managerEnvironment, directory: directory
        )
        managerURL = try await process.waitForLine(startingWith: "drover manager listening on ")
        managerPort = Int(managerURL.split(separator: ":").last ?? "") ?? 0
        manager = process
        return process
    }

    /// Starts `drover node --id ID`, with the Python echo agent in its catalog as `py_echo`; it joins
    /// with the admin token unless `token` names another credential. With TLS on it trusts the
    /// cluster's CA unless `trustCA` is false.
    @discardableResult
    public func startNode(_ id: String, token: String? = nil, trustCA: Bool = true, extraArguments: [String] = []) async throws -> ManagedProcess {
        let caArguments = trustCA ? (certificates.map { ["--ca", $0.caCertificate] } ?? []) : []
        let process = try ManagedProcess(
            name: "node-\(id)", executable: try Paths.drover,
            arguments: [
                "node", "--manager", managerURL, "--token", token ?? self.token, "--id", id, "--port", "0",
                "--agent-type", "py_echo=process:python3 \(Paths.pythonEchoAgent)",
                "--agent-type", "swift_echo=process:\(try Paths.swiftEchoAgent)",
            ] + caArguments + extraArguments,
            directory: directory
        )
        nodeURLs[id] = try await process.waitForLine(startingWith: "drover node \(id) local API on ")
        nodes[id] = process
        return process
    }

    /// Stops every process and removes the cluster's folder (for top-level code, where
    /// `deinit` never runs).
    public func stopAll(keepingFiles: Bool = false) async {
        await manager?.stop(SIGKILL)
        for node in nodes.values { await node.stop(SIGKILL) }
        if !keepingFiles { try? FileManager.default.removeItem(at: directory) }
    }

    public func killManager() async {
        await manager?.stop(SIGKILL)
    }

    public func stopNode(_ id: String, signal: Int32) async {
        await nodes[id]?.stop(signal)
    }

    /// Waits until the manager reports the node with `status`.
    public func waitForNode(_ id: String, status: NodeStatus, timeout: Duration = .seconds(20)) async throws {
        try await eventually("node \(id) is \(status.rawValue)", timeout: timeout) {
            try await client.node(id: id).status == status
        }
    }

    /// GET on a node's local API, decoded as JSON.
    public func nodeAPI(_ id: String, _ path: String) async throws -> JSONValue {
        guard let base = nodeURLs[id], let url = URL(string: base + path) else { throw TestFailure("no node \(id)") }
        let (data, _) = try await URLSession.shared.data(from: url)
        return try JSONCoding.decoder().decode(JSONValue.self, from: data)
    }

    /// Plain text of a node's local API (for /metrics).
    public func nodeText(_ id: String, _ path: String) async throws -> String {
        guard let base = nodeURLs[id], let url = URL(string: base + path) else { throw TestFailure("no node \(id)") }
        let (data, _) = try await URLSession.shared.data(from: url)
        return String(decoding: data, as: UTF8.self)
    }

    /// Everything every process has printed so far (to look for leaked secrets).
    public var fullLogs: String {
        ([manager].compactMap { $0 } + nodes.values).map(\.output).joined(separator: "\n")
    }

    /// Logs of every process, for a failure message.
    public var logs: String {
        ([manager].compactMap { $0 } + nodes.values).map { "=== \($0.name)\n\($0.output.suffix(4000))" }.joined(separator: "\n")
    }
}
