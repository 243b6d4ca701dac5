import DroverTestSupport
import Foundation

/// Ray's side of the comparison: `scripts/ray_echo_bench.py --serve` under the given Python,
/// kept running for the whole benchmark (Ray starts once), asked for one run at a time.
final class RayEcho: @unchecked Sendable {
    let version: String
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private var pending = Data()

    init(python: String) throws {
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [Paths.repository.appendingPathComponent("scripts/ray_echo_bench.py").path, "--serve"]
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let ready = try Self.object(try Self.line(from: output.fileHandleForReading, pending: &pending))
        guard let version = ready["ready"] as? String else { throw TestFailure("Ray did not start: \(ready)") }
        self.version = version
    }

    /// `tasks` echo calls shared by `clients` threads, each waiting for its answer before the next.
    func run(tasks: Int, clients: Int) throws -> Figures {
        input.fileHandleForWriting.write(Data("\(tasks) \(clients)\n".utf8))
        let answer = try Self.object(try Self.line(from: output.fileHandleForReading, pending: &pending))
        guard let perSecond = answer["tasks_per_s"] as? Double, let p50 = answer["p50_ms"] as? Double, let p99 = answer["p99_ms"] as? Double else {
            throw TestFailure("Ray answered \(answer)")
        }
        return Figures(perSecond: perSecond, p50: p50, p99: p99)
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    /// The next line the script prints (blocking: the benchmark does nothing else meanwhile).
    private static func line(from handle: FileHandle, pending: inout Data) throws -> String {
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                pending = Data(pending[pending.index(after: newline)...])
                return line
            }
            let chunk = handle.availableData
            guard !chunk.isEmpty else { throw TestFailure("the Ray script ended without answering") }
            pending += chunk
        }
    }

    private static func object(_ line: String) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw TestFailure("the Ray script printed '\(line.prefix(200))'")
        }
        return object
    }
}
