import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A child process a test or benchmark starts: its output goes to a log file it can read,
/// and it is killed when the owner lets go of it.
public final class ManagedProcess: @unchecked Sendable {
    public let name: String
    public let logURL: URL
    private let process: Process

    public init(name: String, executable: URL, arguments: [String], environment: [String: String] = [:], directory: URL) throws {
        self.name = name
        self.logURL = directory.appendingPathComponent("\(name).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)
        process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        var env = ProcessInfo.processInfo.environment
        for key in ["DROVER_TOKEN", "DROVER_MANAGER", "DROVER_ADMIN_TOKEN", "CENTRAL_MANAGER_URL", "ORCHESTRATOR_ID", "AGENT_PORT", "AGENT_CONFIG", "HEARTBEAT_INTERVAL", "EXTERNAL_IP", "DROVER_CA", "MASTER_SECRET_KEY"] {
            env[key] = nil
        }
        env.merge(environment) { _, new in new }
        process.environment = env
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    /// Everything the process printed so far.
    public var output: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    /// Waits for a line starting with `prefix` and returns the rest of it.
    public func waitForLine(startingWith prefix: String, timeout: Duration = .seconds(30)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            for line in output.split(separator: "\n") where line.hasPrefix(prefix) {
                return String(line.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces)
            }
            guard process.isRunning else { throw TestFailure("\(name) exited (\(process.terminationStatus)) before printing '\(prefix)':\n\(output.suffix(3000))") }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("\(name) did not print '\(prefix)' within \(timeout):\n\(output.suffix(3000))")
    }

    public func signal(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Sends `signal` and waits for the process to exit; returns its exit status.
    @discardableResult
    public func stop(_ signal: Int32 = SIGTERM, timeout: Duration = .seconds(15)) async -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        kill(process.processIdentifier, signal)
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        return process.terminationStatus
    }
}

/// A failed expectation of a test or benchmark harness, with what was seen.
public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Polls `condition` until it holds or `timeout` passes.
public func eventually(
    _ what: String, timeout: Duration = .seconds(20), every interval: Duration = .milliseconds(100),
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    var lastError: (any Error)?
    while ContinuousClock.now < deadline {
        do {
            if try await condition() { return }
        } catch {
            lastError = error
        }
        try await Task.sleep(for: interval)
    }
    throw TestFailure("timed out after \(timeout) waiting for: \(what)" + (lastError.map { " (last error: \($0))" } ?? ""))
}
