@testable import DroverManager
import Foundation
import Testing

@Suite("Pass trigger", .timeLimit(.minutes(1)))
struct PassTriggerTests {
    @Test("a wait ends at its timeout with no request")
    func timesOut() async {
        let trigger = PassTrigger()
        let started = ContinuousClock.now
        await trigger.wait(upTo: .milliseconds(200))
        #expect(ContinuousClock.now - started >= .milliseconds(190))
    }

    @Test("a request made before the wait ends it at once; many requests count as one")
    func requestBefore() async {
        let trigger = PassTrigger()
        for _ in 0..<1_000 { trigger.request() }
        let started = ContinuousClock.now
        await trigger.wait(upTo: .seconds(30))
        #expect(ContinuousClock.now - started < .seconds(5))
        // The thousand requests were one: the next wait runs to its timeout.
        let again = ContinuousClock.now
        await trigger.wait(upTo: .milliseconds(200))
        #expect(ContinuousClock.now - again >= .milliseconds(190))
    }

    @Test("a request during a wait ends it; requests racing the timeout never leave a wait hanging")
    func requestDuring() async {
        let trigger = PassTrigger()
        let waiter = Task { await trigger.wait(upTo: .seconds(30)) }
        try? await Task.sleep(for: .milliseconds(100))
        trigger.request()
        await waiter.value
        for round in 0..<200 {
            async let waited: Void = trigger.wait(upTo: .milliseconds(Int64(round % 3)))
            trigger.request()
            await waited
        }
    }

    @Test("cancelling the waiting task ends its wait")
    func cancelled() async {
        let trigger = PassTrigger()
        let waiter = Task { await trigger.wait(upTo: .seconds(30)) }
        try? await Task.sleep(for: .milliseconds(50))
        let started = ContinuousClock.now
        waiter.cancel()
        await waiter.value
        #expect(ContinuousClock.now - started < .seconds(5))
    }
}
