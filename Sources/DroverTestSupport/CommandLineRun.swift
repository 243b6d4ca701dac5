import Foundation

/// What a finished `drover` client command printed.
public struct CommandResult: Sendable {
    public var status: Int32
    /// Standard output and standard error, interleaved.
    public var output: String

    public init(status: Int32, output: String) {
        self.status = status
        self.output = output
    }
}

extension TestCluster {
    /// Runs `drover ARGS` against this cluster's manager (as `DROVER_MANAGER` / `DROVER_TOKEN`)
    /// and returns its exit status and output; kills it after `timeout`.
    public func cli(_ arguments: [String], timeout: Duration = .seconds(60)) async throws -> CommandResult {
        let process = Process()
        process.executableURL = try Paths.drover
        process.arguments = arguments
        process.currentDirectoryURL = Paths.repository
        var environment = ProcessInfo.processInfo.environment
        environment["DROVER_MANAGER"] = managerURL
        environment["DROVER_TOKEN"] = token
        environment["DROVER_CA"] = nil
        process.environment = environment
        let outputURL = directory.appendingPathComponent("cli-\(UUID().uuidString.prefix(8)).log")
        guard FileManager.default.createFile(atPath: outputURL.path, contents: nil) else {
            throw TestFailure("cannot create \(outputURL.path)")
        }
        let handle = try FileHandle(forWritingTo: outputURL)
        defer { try? handle.close() }
        process.standardOutput = handle
        process.standardError = handle
        let exited = AsyncStream<Void>.makeStream()
        process.terminationHandler = { _ in exited.continuation.yield() }
        try process.run()
        let killer = Task {
            try await Task.sleep(for: timeout)
            process.terminate()
        }
        for await _ in exited.stream { break }
        killer.cancel()
        let output = (try? String(contentsOf: outputURL, encoding: .utf8)) ?? ""
        return CommandResult(status: process.terminationStatus, output: output)
    }
}
