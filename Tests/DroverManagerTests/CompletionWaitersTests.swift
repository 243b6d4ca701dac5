import Foundation
import Testing
@testable import DroverManager

/// Waiters must never miss a finish, wherever it lands relative to the caller's look at the state.
@Suite("Completion waiters", .timeLimit(.minutes(1)))
struct CompletionWaitersTests {
    @Test("a finish between arming and waiting is returned at once, not after the timeout")
    func finishBeforeWait() async {
        let waiters = CompletionWaiters<String, Int>()
        let ticket = await waiters.arm("t1")
        await waiters.finished("t1", 42)  // lands after the caller read "not final" and before it waits
        let start = ContinuousClock.now
        let value = await waiters.wait("t1", ticket: ticket, timeout: .seconds(10))
        #expect(value == 42)
        #expect(ContinuousClock.now - start < .seconds(1))
        #expect(await waiters.count == 0)
    }

    @Test("a waiter is woken by the finish, and one that times out gets nil and leaves nothing behind")
    func wakeAndTimeout() async {
        let waiters = CompletionWaiters<String, Int>()
        let ticket = await waiters.arm("t2")
        async let woken = waiters.wait("t2", ticket: ticket, timeout: .seconds(10))
        try? await Task.sleep(for: .milliseconds(20))
        await waiters.finished("t2", 7)
        #expect(await woken == 7)

        let late = await waiters.arm("t3")
        #expect(await waiters.wait("t3", ticket: late, timeout: .milliseconds(20)) == nil)
        let disarmed = await waiters.arm("t4")
        await waiters.disarm("t4", ticket: disarmed)
        #expect(await waiters.count == 0)
    }

    @Test("20,000 races of a finish against arm, read, wait: every caller gets its value, none waits for the timeout")
    func racesNeverLoseAWakeup() async {
        let waiters = CompletionWaiters<Int, Int>()
        let store = FinishedStore()
        let got = await withTaskGroup(of: Int?.self) { group in
            for key in 0..<20_000 {
                group.addTask {
                    // The caller's protocol: arm, read the state, wait only if it is not final.
                    let ticket = await waiters.arm(key)
                    if let value = await store.value(key) {
                        await waiters.disarm(key, ticket: ticket)
                        return value
                    }
                    return await waiters.wait(key, ticket: ticket, timeout: .seconds(30))
                }
                group.addTask {
                    // The finisher's: record the state, then wake.
                    await store.finish(key)
                    await waiters.finished(key, key)
                    return nil
                }
            }
            var values: [Int] = []
            for await value in group { if let value { values.append(value) } }
            return values
        }
        // A caller whose wake-up was lost waits for its timeout and gets nil: it is missing here.
        #expect(got.count == 20_000, "some caller waited for its timeout")
        #expect(Set(got).count == 20_000)
        #expect(await waiters.count == 0)
    }

    @Test("a cancelled waiter returns nil at once")
    func cancelled() async {
        let waiters = CompletionWaiters<String, Int>()
        let ticket = await waiters.arm("c")
        let task = Task { await waiters.wait("c", ticket: ticket, timeout: .seconds(30)) }
        try? await Task.sleep(for: .milliseconds(20))
        task.cancel()
        #expect(await task.value == nil)
        #expect(await waiters.count == 0)
    }
}

/// The state a caller reads (the store, in the manager).
private actor FinishedStore {
    private var finished: Set<Int> = []
    func finish(_ key: Int) { finished.insert(key) }
    func value(_ key: Int) -> Int? { finished.contains(key) ? key : nil }
}
