import DroverCore
import Foundation
import Testing

@Suite("Heartbeat pace")
struct HeartbeatPaceTests {
    let base = NodeLiveness(interval: .seconds(5), grace: .seconds(15))
    let start = Date(timeIntervalSince1970: 1_000)

    @Test("up to max_per_second × interval nodes keep the base; a larger fleet stays under the rate, its grace grown by as much as its interval")
    func stretches() throws {
        var pace = HeartbeatPace(base: base, maxPerSecond: 50)
        #expect(pace.update(nodes: 250, now: start) == nil)
        #expect(pace.announced == base)
        let grownUpdate = pace.update(nodes: 1_001, now: start)
        let grown = try #require(grownUpdate)
        let interval = NodeLiveness.seconds(grown.interval), grace = NodeLiveness.seconds(grown.grace)
        #expect(1_001 / interval <= 50)
        #expect(abs(interval - 1_001.0 / 50 * HeartbeatPace.headroom) < 0.01)
        #expect(abs((grace - interval) - 10) < 0.01, "the slack after the interval stays 10 s: \(grace) - \(interval)")
        #expect(pace.judging(at: start) == grown)
    }

    @Test("a fleet that grows one node at a time changes the interval in a few steps, and never beats faster than the limit")
    func steps() {
        var pace = HeartbeatPace(base: base, maxPerSecond: 50)
        var changes = 0
        for nodes in 1...2_000 {
            if pace.update(nodes: nodes, now: start) != nil { changes += 1 }
            #expect(Double(nodes) / NodeLiveness.seconds(pace.announced.interval) <= 50 + 1e-9)
        }
        // One change per quarter of growth past 250 nodes (×8 to 2,000 nodes: 10 changes, not 1,750).
        let steps = Int((log(2_000.0 / 250) / log(HeartbeatPace.headroom)).rounded(.up))
        #expect(changes <= steps, "\(changes) changes")
        #expect(changes >= 2)
    }

    @Test("when the fleet shrinks the interval follows, and the longer grace judges until nodes had time to hear")
    func shrinks() throws {
        var pace = HeartbeatPace(base: base, maxPerSecond: 50)
        let longUpdate = pace.update(nodes: 2_000, now: start)
        let long = try #require(longUpdate)
        #expect(pace.update(nodes: 1_900, now: start) == nil, "a small change keeps the interval")
        let later = start.addingTimeInterval(60)
        let shortUpdate = pace.update(nodes: 10, now: later)
        let short = try #require(shortUpdate)
        #expect(short == base)
        #expect(pace.judging(at: later) == long)
        #expect(pace.judging(at: later.addingTimeInterval(NodeLiveness.seconds(long.grace) - 1)) == long)
        #expect(pace.judging(at: later.addingTimeInterval(NodeLiveness.seconds(long.grace) + 1)) == base)
    }

    @Test("two shrinks close together keep the longest grace for the later window")
    func twoShrinks() throws {
        var pace = HeartbeatPace(base: base, maxPerSecond: 50)
        let longestUpdate = pace.update(nodes: 4_000, now: start)
        let longest = try #require(longestUpdate)
        #expect(pace.update(nodes: 1_000, now: start.addingTimeInterval(1)) != nil)
        #expect(pace.update(nodes: 10, now: start.addingTimeInterval(2)) != nil)
        #expect(pace.judging(at: start.addingTimeInterval(3)) == longest)
        #expect(pace.judging(at: start.addingTimeInterval(2 + NodeLiveness.seconds(longest.grace) + 1)) == base)
    }

    @Test("no limit (nil or 0) always keeps the base")
    func unlimited() {
        for limit in [nil, 0.0] {
            var pace = HeartbeatPace(base: base, maxPerSecond: limit)
            #expect(pace.update(nodes: 100_000, now: start) == nil)
            #expect(pace.judging(at: start) == base)
        }
    }
}
