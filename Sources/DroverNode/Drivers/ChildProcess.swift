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
///
/// The child inherits nothing but its pipes, as descriptors 0, 1 and 2 (and, with a lifeline,
/// 3): none of what the node has open, close-on-exec or not (its listening socket, its
/// connection to the manager, files).
struct ChildProcess: Sendable {
    let pid: pid_t
    /// Parent's ends of the pipes.
    let stdin: Int32
    let stdout: Int32
    let stderr: Int32
    /// With `lifeline: true`: the write end of a pipe whose read end is the child's
    /// descriptor 3. Only the node holds it (close-on-exec, and closed in every other child),
    /// so the child sees end of file on 3 when the node closes it (`closeLifeline`) or dies.
    let lifeline: Int32?

    struct SpawnError: Error, CustomStringConvertible {
        var description: String
    }

    /// Starts `executable` with `arguments` (argv[1...]) and exactly `environment`; with
    /// `lifeline`, the read end of a lifeline pipe is its descriptor 3.
    static func spawn(executable: String, arguments: [String], environment: [String: String], lifeline: Bool = false) throws -> ChildProcess {
        let input = try makePipe()
        let output = try makePipe()
        let errors = try makePipe()
        let line = lifeline ? try makePipe() : nil
        defer {
            // The child's ends belong to the child only.
            _ = closeFD(input.read)
            _ = closeFD(output.write)
            _ = closeFD(errors.write)
            if let line { _ = closeFD(line.read) }
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
        // The dup2s first (every source is ≥ 4, so none is overwritten before it is copied;
        // a dup2'd copy is not close-on-exec), then close everything above them.
        posix_spawn_file_actions_adddup2(&actions, input.read, 0)
        posix_spawn_file_actions_adddup2(&actions, output.write, 1)
        posix_spawn_file_actions_adddup2(&actions, errors.write, 2)
        if let line { posix_spawn_file_actions_adddup2(&actions, line.read, 3) }
        let firstClosed: Int32 = line == nil ? 3 : 4
        #if canImport(Darwin)
        // Darwin has no closefrom action; POSIX_SPAWN_CLOEXEC_DEFAULT (below) closes all but the dup2 targets.
        _ = firstClosed
        #else
        try addCloseFrom(&actions, firstClosed)
        #endif

        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attributes, &all)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setpgroup(&attributes, 0)
        var flags = Int32(POSIX_SPAWN_SETSIGDEF) | Int32(POSIX_SPAWN_SETSIGMASK) | Int32(POSIX_SPAWN_SETPGROUP)
        #if canImport(Darwin)
        flags |= Int32(POSIX_SPAWN_CLOEXEC_DEFAULT)
        #endif
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
            if let line { _ = closeFD(line.write) }
            throw SpawnError(description: "cannot start \(executable): \(String(cString: strerror(result)))")
        }
        return ChildProcess(pid: pid, stdin: input.write, stdout: output.read, stderr: errors.read, lifeline: line?.write)
    }

    /// Closes the node's end of the lifeline: the child (or what is left of its process
    /// group) sees end of file on descriptor 3. Call it once, after the child has exited.
    func closeLifeline() {
        if let lifeline { _ = closeFD(lifeline) }
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
        do {
            return (try aboveTargets(descriptors[0]), try aboveTargets(descriptors[1]))
        } catch {
            _ = closeFD(descriptors[0])
            _ = closeFD(descriptors[1])
            throw error
        }
    }

    /// `descriptor`, moved to 4 or above when it is one of the dup2 targets 0...3 (a node
    /// started with a closed stdin gets 0 from `pipe`), so that no dup2 overwrites a source.
    private static func aboveTargets(_ descriptor: Int32) throws -> Int32 {
        guard descriptor < 4 else { return descriptor }
        let moved = fcntl(descriptor, F_DUPFD_CLOEXEC, Int32(4))
        guard moved >= 0 else { throw SpawnError(description: "cannot move a pipe descriptor: \(String(cString: strerror(errno)))") }
        _ = closeFD(descriptor)
        return moved
    }

    #if !canImport(Darwin)
    private typealias CloseFromAction = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+). Swift's Glibc module does
    /// not show it (it is declared under `_GNU_SOURCE`), so it is looked up once by name.
    private static let closeFromAction: CloseFromAction? = {
        guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: CloseFromAction.self)
    }()

    /// Adds "close every descriptor ≥ `first`" to `actions`. Without the glibc action (older
    /// glibc, musl), it closes each descriptor open now; one opened by another thread between
    /// this listing and the spawn would then still be inherited unless it is close-on-exec.
    private static func addCloseFrom(_ actions: inout posix_spawn_file_actions_t, _ first: Int32) throws {
        if let closeFromAction {
            let result = closeFromAction(&actions, first)
            guard result == 0 else { throw SpawnError(description: "cannot close descriptors in the child: \(String(cString: strerror(result)))") }
            return
        }
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for descriptor in open.compactMap({ Int32($0) }) where descriptor >= first {
            posix_spawn_file_actions_addclose(&actions, descriptor)
        }
    }
    #endif
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
