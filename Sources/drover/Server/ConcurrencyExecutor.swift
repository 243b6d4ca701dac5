import Foundation
import NIOCore
import NIOPosix

/// Where the manager runs Swift Concurrency's jobs.
///
/// By default, on Swift's own thread pool. With `DROVER_EXECUTOR=nio`, on NIO's event loops
/// (`MultiThreadedEventLoopGroup.singleton`, one thread per core, which also serve the sockets):
/// a frame or request is then handled on the thread that read it, without a hand-over to
/// another thread. Measured on 2 cores (`drover-bench-dispatch`), that answers single tasks
/// sooner (p50 1.6–1.8 ms instead of 2.1–2.8 ms at 1 client), but the loops do not share work:
/// a long job holds up every socket of its loop, and with 1,001 nodes the fleet benchmark's
/// single deploys were slower and list pages waited up to 133 ms while 100,000 agents started.
enum ConcurrencyExecutor {
    /// Installs the event loops as the global executor when `DROVER_EXECUTOR=nio`; call once,
    /// first thing in `main`. Returns whether it did.
    @discardableResult
    static func installFromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        guard environment["DROVER_EXECUTOR"] == "nio" else { return false }
        return NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }
}
