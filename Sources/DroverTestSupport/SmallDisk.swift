import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A small tmpfs mounted in a folder, to run a store out of disk space on purpose (needs root,
/// as CI and the development machine have; `isAvailable` says whether this machine can).
public final class SmallDisk: @unchecked Sendable {
    public let path: String
    private var filler: Int32 = -1

    /// Whether tmpfs can be mounted here (root, and a kernel that allows it).
    public static let isAvailable: Bool = {
        guard getuid() == 0 else { return false }
        guard let probe = try? SmallDisk(megabytes: 1) else { return false }
        probe.unmount()
        return true
    }()

    /// Mounts a tmpfs of `megabytes` MiB in a new temporary folder.
    public init(megabytes: Int) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("drover-disk-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let status = try Self.run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", path])
        guard status == 0 else {
            try? FileManager.default.removeItem(atPath: path)
            throw TestFailure("mount -t tmpfs failed with status \(status)")
        }
    }

    deinit { unmount() }

    /// Runs a system command and waits for it (mount and umount take milliseconds).
    private static func run(_ executable: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Writes zeros into a file on the disk until no byte more fits; returns the bytes written.
    @discardableResult
    public func fill() throws -> Int {
        if filler < 0 { filler = open(path + "/filler", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600) }
        guard filler >= 0 else { throw TestFailure("cannot create the filler file: \(String(cString: strerror(errno)))") }
        var written = 0
        for chunk in [1 << 20, 4_096, 512, 1] {
            let zeros = [UInt8](repeating: 0, count: chunk)
            while true {
                let count = zeros.withUnsafeBytes { write(filler, $0.baseAddress, chunk) }
                if count <= 0 { break }
                written += count
            }
        }
        return written
    }

    /// Removes the filler file: the space is free again.
    public func free() {
        if filler >= 0 { _ = close(filler) }
        filler = -1
        unlink(path + "/filler")
    }

    /// Unmounts the disk and removes its folder (once).
    public func unmount() {
        free()
        guard FileManager.default.fileExists(atPath: path) else { return }
        _ = try? Self.run("/bin/umount", ["-l", path])
        try? FileManager.default.removeItem(atPath: path)
    }
}
