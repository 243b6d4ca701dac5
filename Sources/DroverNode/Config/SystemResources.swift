import DroverCore
import Foundation

/// What the operating system says about this machine. Never fails: a value the OS does
/// not report (no `/proc` on macOS, say) is `nil`.
public enum SystemResources {
    /// Cores and physical memory (MiB) of this machine, no GPU: the default capacity.
    public static func defaultCapacity() -> ResourceSpec {
        let info = ProcessInfo.processInfo
        return ResourceSpec(
            cpu: Double(info.activeProcessorCount),
            memoryMB: (Double(info.physicalMemory) / 1_048_576).rounded(.down),
            gpu: 0
        )
    }

    /// Capacity plus current load and free memory, as reported in `hello` and heartbeats.
    public static func current(capacity: ResourceSpec, procRoot: String = "/proc") -> NodeResources {
        NodeResources(
            capacity: capacity,
            load1: read("\(procRoot)/loadavg").flatMap(parseLoadAverage),
            memoryAvailableMB: read("\(procRoot)/meminfo").flatMap(parseMemoryAvailable)
        )
    }

    /// The one-minute load from `/proc/loadavg` (`0.52 0.58 0.59 1/389 12345`).
    static func parseLoadAverage(_ text: String) -> Double? {
        guard let first = text.split(whereSeparator: \.isWhitespace).first, let value = Double(first), value.isFinite, value >= 0 else {
            return nil
        }
        return value
    }

    /// `MemAvailable` from `/proc/meminfo` (`MemAvailable:    1234567 kB`), in MiB.
    static func parseMemoryAvailable(_ text: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            let fields = line.split(whereSeparator: \.isWhitespace)
            guard fields.count >= 2, let kilobytes = Double(fields[1]), kilobytes >= 0 else { return nil }
            return (kilobytes / 1024).rounded(.down)
        }
        return nil
    }

    private static func read(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path), data.count < 1 << 20 else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}
