import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A child process started with `posix_spawn`, with pipes on its stdin, stdout and stderr.
///
/// Not Foundation's `Process`: the child must start with *default* signal handlers and an
/// empty signal mask. A node under swift-service-lifecycle ignores SIGTERM and SIGINT (to
/// catch them with dispatch sources), and ignored signals are inherited across `exec`, so
/// an agent started by `Process` could not be stopped with SIGTERM. The child also gets a
/// process group of its own, so signals reach the programs it starts too, and a Ctrl-C in
/// the node's terminal reaches the node only (which then stops its agents in order).
struct ChildProcess: Sendable {
    let pid: pid_t
    /// Parent's ends of the pipes.
    let stdin: Int32
    let stdout: Int32
    let stderr: Int32

    struct SpawnError: Error, CustomStringConvertible {
        var description: String
    }

    /// Starts `executable` with `arguments` (argv[1...]) and exactly `environment`.
    static func spawn(executable: String, arguments: [String], environment: [String: String]) throws -> ChildProcess {
        let input = try makePipe()
        let output = try makePipe()
        let errors = try makePipe()
        defer {
            // The child's ends belong to the child only.
            _ = closeFD(input.read)
            _ = closeFD(output.write)
            _ = closeFD(errors.write)
        }

        #if canImport(Darwin)
        var actions: posix_spawn_file_actions_t?
        var attributes: posix_spawnattr_t?
        #else
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        #endif
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input.read, 0)
        posix_spawn_file_actions_adddup2(&actions, output.write, 1)
        posix_spawn_file_actions_adddup2(&actions, errors.write, 2)

        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attributes, &all)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setpgroup(&attributes, 0)
        let flags = Int32(POSIX_SPAWN_SETSIGDEF) | Int32(POSIX_SPAWN_SETSIGMASK) | Int32(POSIX_SPAWN_SETPGROUP)
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard result == 0 else {
            _ = closeFD(input.write)
            _ = closeFD(output.read)
            _ = closeFD(errors.read)
            throw SpawnError(description: "cannot start \(executable): \(String(cString: strerror(result)))")
        }
        return ChildProcess(pid: pid, stdin: input.write, stdout: output.read, stderr: errors.read)
    }

    /// Sends `signal` to the child's process group and to the child.
    func signal(_ number: Int32) {
        _ = kill(-pid, number)
        _ = kill(pid, number)
    }

    /// Waits for the child on a thread of its own (`waitpid` blocks) and reports how it ended.
    func onExit(_ report: @escaping @Sendable (ProcessExit) -> Void) {
        let pid = self.pid
        let thread = Thread {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 {
                guard errno == EINTR else {
                    report(ProcessExit(status: -1, signaled: false))
                    return
                }
            }
            let low = status & 0x7f
            if low == 0 {
                report(ProcessExit(status: (status >> 8) & 0xff, signaled: false))
            } else {
                report(ProcessExit(status: low, signaled: true))
            }
        }
        thread.name = "agent-\(pid)-wait"
        thread.start()
    }

    private static func makePipe() throws -> (read: Int32, write: Int32) {
        var descriptors: [Int32] = [0, 0]
        guard pipe(&descriptors) == 0 else {
            throw SpawnError(description: "cannot create a pipe: \(String(cString: strerror(errno)))")
        }
        // Keep these ends out of every other child (the dup2'd copies in this child stay open).
        _ = fcntl(descriptors[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(descriptors[1], F_SETFD, FD_CLOEXEC)
        return (descriptors[0], descriptors[1])
    }
}

/// `close(2)`, named apart from the many `close` methods in scope.
func closeFD(_ descriptor: Int32) -> Int32 {
    #if canImport(Darwin)
    return Darwin.close(descriptor)
    #elseif canImport(Glibc)
    return Glibc.close(descriptor)
    #else
    return Musl.close(descriptor)
    #endif
}
