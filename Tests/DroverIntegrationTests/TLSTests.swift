import DroverClient
import DroverCore
import DroverTestSupport
import Foundation
import Testing

/// The manager over HTTPS and wss with a throwaway private CA: who gets in and who does not.
@Suite("TLS", .serialized, .timeLimit(.minutes(3)))
struct TLSTests {
    @Test("a node that trusts the CA joins over wss and runs a task; the client with the CA works")
    func trustedNodeRunsTask() async throws {
        let cluster = try TestCluster(tls: true)
        try await cluster.startManager()
        #expect(cluster.managerURL.hasPrefix("https://127.0.0.1:"))
        try await cluster.startNode("secure")
        try await cluster.waitForNode("secure", status: .active)

        let agent = try await cluster.client.deploy(DeployRequest(agentType: "echo", preferredContainer: "secure"))
        let input: JSONValue = ["over": "wss"]
        let task = try await cluster.client.submitTask(agentID: agent.id, input: input, timeoutSeconds: 20, wait: true)
        #expect(task.status == .succeeded)
        #expect(task.output == input)
        #expect(cluster.fullLogs.contains("registered with manager"))

        // The CLI: --ca makes it work; without it, one clear line and exit 1.
        let certificates = try #require(cluster.certificates)
        let trusted = try await cluster.cli(["nodes", "--ca", certificates.caCertificate])
        #expect(trusted.status == 0, "\(trusted.output)")
        #expect(trusted.output.contains("secure"))
        let fromEnvironment = try await cluster.cli(["agents", "--json", "--manager", cluster.managerURL, "--ca", certificates.caCertificate])
        #expect(fromEnvironment.status == 0 && fromEnvironment.output.contains(agent.id))
        let untrusted = try await cluster.cli(["nodes"])
        #expect(untrusted.status == 1)
        #expect(untrusted.output.contains("not trusted"), "\(untrusted.output)")
        let missingCA = try await cluster.cli(["nodes", "--ca", cluster.directory.appendingPathComponent("nope.pem").path])
        #expect(missingCA.status != 0 && missingCA.output.contains("does not exist"), "\(missingCA.output)")
    }

    @Test("a node without the CA, or trusting another CA, is refused, says why, keeps retrying, and is never registered")
    func untrustedNodeRefused() async throws {
        let cluster = try TestCluster(tls: true)
        try await cluster.startManager()
        let other = try TestCertificates.make(in: cluster.directory.appendingPathComponent("other-ca"))
        // At debug level a node logs every refused redial (repeats are debug lines).
        let noCA = try await cluster.startNode("no-ca", trustCA: false, extraArguments: ["--log-level", "debug"])
        let wrongCA = try await cluster.startNode("wrong-ca", trustCA: false, extraArguments: ["--ca", other.caCertificate, "--log-level", "debug"])
        try await eventually("both nodes report the certificate problem") {
            noCA.output.contains("certificate is not trusted") && wrongCA.output.contains("certificate is not trusted")
        }
        // Still running and retrying (each refusal logged again), never registered with the manager.
        try await eventually("both nodes retried") {
            noCA.output.components(separatedBy: "not trusted").count > 2 && wrongCA.output.components(separatedBy: "not trusted").count > 2
        }
        #expect(noCA.isRunning && wrongCA.isRunning)
        let ids = try await cluster.client.nodes().map(\.id)
        #expect(!ids.contains("no-ca") && !ids.contains("wrong-ca"))
        #expect(noCA.output.split(separator: "\n").filter { $0.contains("not trusted") }.count >= 1)
        #expect(!noCA.output.contains("registered with manager"))
    }

    @Test("plain http and ws to the TLS port fail; the manager keeps serving https")
    func plainHTTPRefused() async throws {
        let cluster = try TestCluster(tls: true)
        try await cluster.startManager()
        let plainURL = cluster.managerURL.replacingOccurrences(of: "https://", with: "http://")
        let plain = DroverClient(baseURL: plainURL, token: cluster.token, timeout: .seconds(5))
        await #expect(throws: DroverClientError.self) { _ = try await plain.health() }

        // A node told http:// does not get in either, and says so.
        let node = try await cluster.startNode("plain", extraArguments: ["--manager", plainURL])
        try await eventually("the plain node says the manager wants https") { node.output.contains("use an https:// manager URL") }
        #expect(!(try await cluster.client.nodes().map(\.id).contains("plain")))

        // A client that trusts the CA still gets in.
        #expect(try await cluster.client.health().status == "ok")
    }

    @Test("the manager refuses to start on a missing, non-PEM or mismatched certificate or key, with a clear message")
    func badCertificateFiles() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("drover-tls-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: directory) }
        let good = try TestCertificates.make(in: directory.appendingPathComponent("a"))
        let other = try TestCertificates.make(in: directory.appendingPathComponent("b"))
        let garbage = directory.appendingPathComponent("garbage.pem").path
        try "not a certificate\n".write(toFile: garbage, atomically: true, encoding: .utf8)
        let missing = directory.appendingPathComponent("missing.pem").path
        let cases: [(cert: String?, key: String?, message: String)] = [
            (missing, good.serverKey, "does not exist"),
            (good.serverCertificate, missing, "does not exist"),
            (garbage, good.serverKey, "is not a PEM certificate"),
            (good.serverCertificate, garbage, "is not an unencrypted PEM private key"),
            (good.serverCertificate, other.serverKey, "does not belong to the certificate"),
            (good.serverCertificate, nil, "--tls-cert needs --tls-key"),
        ]
        for entry in cases {
            var arguments = ["manager", "--port", "0", "--store", "memory:", "--admin-token", "test-admin-token-0123456789abcdef"]
            if let cert = entry.cert { arguments += ["--tls-cert", cert] }
            if let key = entry.key { arguments += ["--tls-key", key] }
            let result = try Self.run(arguments)
            #expect(result.status != 0, "\(arguments)")
            #expect(result.output.contains(entry.message), "\(entry.message) not in: \(result.output)")
            #expect(!result.output.contains("listening on"))
        }
    }

    /// Runs `drover ARGS` to its end (these all exit at once).
    static func run(_ arguments: [String]) throws -> CommandResult {
        let process = Process()
        process.executableURL = try Paths.drover
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }
}
