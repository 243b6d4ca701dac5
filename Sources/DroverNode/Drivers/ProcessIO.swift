import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a pipe on a dedicated thread with blocking reads and hands out whole lines.
///
/// Lines longer than `maxLineBytes` are dropped (reported through `onOversized`). The
/// descriptor is closed at end of file.
enum LineReader {
    static func start(
        fileDescriptor: Int32, name: String, maxLineBytes: Int,
        onLine: @escaping @Sendable (String) -> Void,
        onOversized: @escaping @Sendable (Int) -> Void = { _ in },
        onEnd: @escaping @Sendable () -> Void
    ) {
        let thread = Thread {
            var pending: [UInt8] = []
            var discarding = false
            var discarded = 0
            let bufferSize = 64 * 1024
            let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: bufferSize)
            defer { buffer.deallocate() }

            func emit(_ bytes: ArraySlice<UInt8>) {
                var slice = bytes
                if slice.last == 0x0D { slice = slice.dropLast() }
                onLine(String(decoding: slice, as: UTF8.self))
            }

            while true {
                let count = read(fileDescriptor, buffer, bufferSize)
                if count < 0 {
                    if errno == EINTR { continue }
                    break
                }
                if count == 0 { break }
                let chunk = UnsafeBufferPointer(start: buffer, count: count)
                var start = 0
                while let index = chunk[start...].firstIndex(of: 0x0A) {
                    if discarding {
                        onOversized(discarded + index - start)
                        discarding = false
                        discarded = 0
                    } else {
                        pending.append(contentsOf: chunk[start..<index])
                        if pending.count > maxLineBytes {
                            onOversized(pending.count)
                        } else {
                            emit(pending[...])
                        }
                        pending.removeAll(keepingCapacity: true)
                    }
                    start = index + 1
                }
                if discarding {
                    discarded += count - start
                } else {
                    pending.append(contentsOf: chunk[start...])
                    if pending.count > maxLineBytes {
                        discarding = true
                        discarded = pending.count
                        pending.removeAll(keepingCapacity: false)
                    }
                }
            }
            if discarding {
                onOversized(discarded)
            } else if !pending.isEmpty {
                emit(pending[...])
            }
            _ = closeFD(fileDescriptor)
            onEnd()
        }
        thread.name = name
        thread.start()
    }
}

/// Writes lines to a pipe in order, off the caller's thread (a full pipe blocks only this
/// writer's queue). Write errors (the agent closed its stdin, or exited) are ignored: the
/// exit is noticed elsewhere.
final class LineWriter: @unchecked Sendable {
    private let fileDescriptor: Int32
    private let queue: DispatchQueue
    /// Touched only on `queue`.
    private var closed = false

    init(fileDescriptor: Int32, label: String) {
        self.fileDescriptor = fileDescriptor
        self.queue = DispatchQueue(label: label)
    }

    func send(_ line: String) {
        queue.async { [self] in
            guard !closed else { return }
            var bytes = Array(line.utf8)
            bytes.append(0x0A)
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeBytes { raw in
                    write(fileDescriptor, raw.baseAddress! + offset, raw.count - offset)
                }
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }

    func close() {
        queue.async { [self] in
            guard !closed else { return }
            closed = true
            _ = closeFD(fileDescriptor)
        }
    }
}

/// How a process ended.
struct ProcessExit: Sendable, Hashable, CustomStringConvertible {
    var status: Int32
    /// `status` is the signal that killed it.
    var signaled: Bool

    var description: String {
        if signaled { return "agent process was killed by signal \(status)" }
        if status == 127 { return "agent process exited with status 127 (command not found?)" }
        if status == 126 { return "agent process exited with status 126 (command not executable?)" }
        return "agent process exited with status \(status)"
    }
}

/// Set once when a process ends; awaitable.
final class ExitSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var exit: ProcessExit?
    private var waiters: [CheckedContinuation<ProcessExit, Never>] = []

    var current: ProcessExit? { lock.withLock { exit } }

    func set(_ value: ProcessExit) {
        let resumed: [CheckedContinuation<ProcessExit, Never>] = lock.withLock {
            guard exit == nil else { return [] }
            exit = value
            defer { waiters.removeAll() }
            return waiters
        }
        for waiter in resumed { waiter.resume(returning: value) }
    }

    /// Waits until the process ended (not cancellable: it always ends, at worst by SIGKILL).
    func wait() async -> ProcessExit {
        await withCheckedContinuation { continuation in
            let ready: ProcessExit? = lock.withLock {
                if let exit { return exit }
                waiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Polls for the end until `timeout` passes; returns whether it ended. Returns at once
    /// when the calling task is cancelled.
    func wait(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while current == nil {
            guard ContinuousClock.now < deadline, !Task.isCancelled else { return current != nil }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return true
    }
}
