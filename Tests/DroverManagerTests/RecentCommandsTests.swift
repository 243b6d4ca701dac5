@testable import DroverManager
import Foundation
import Testing

@Suite("Recent commands")
struct RecentCommandsTests {
    @Test("a command goes out once per window; old ones are forgotten in order, however many there are")
    func window() {
        var recent = RecentCommands(window: 5)
        let start = Date(timeIntervalSince1970: 1_000)
        let sent = [
            recent.shouldSend("start:n1:a1:1", now: start), recent.shouldSend("start:n1:a1:1", now: start.addingTimeInterval(4.9)),
            recent.shouldSend("start:n1:a1:2", now: start.addingTimeInterval(4.9)), recent.shouldSend("start:n1:a1:1", now: start.addingTimeInterval(5)),
        ]
        #expect(sent == [true, false, true, true])
        // 200,000 distinct commands over 100 s: each goes out once, and the same ones again after the window.
        for index in 0..<200_000 {
            let now = start.addingTimeInterval(10 + Double(index) / 2_000)
            let first = recent.shouldSend("start:n:\(index)", now: now)
            #expect(first)
            if index % 50_000 == 0 {
                let again = recent.shouldSend("start:n:\(index)", now: now.addingTimeInterval(1))
                #expect(!again)
            }
        }
        let later = recent.shouldSend("start:n:0", now: start.addingTimeInterval(200))
        #expect(later)
    }
}
