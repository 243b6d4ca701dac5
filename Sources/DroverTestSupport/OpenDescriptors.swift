import Foundation

/// `/proc/PID/fd`: each open descriptor of `pid` (by number) and what it points at
/// (`socket:[…]`, `pipe:[…]`, a path); empty when the process is gone.
public func openDescriptors(of pid: Int32) -> [String: String] {
    let directory = "/proc/\(pid)/fd"
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    var result: [String: String] = [:]
    for name in names {
        result[name] = (try? FileManager.default.destinationOfSymbolicLink(atPath: "\(directory)/\(name)")) ?? "?"
    }
    return result
}
