import Foundation

/// Commands sent in the last `window` seconds, so the same one is not sent again at once.
///
/// Entries leave in the order they came, as they age: remembering and forgetting cost O(1)
/// amortised however many commands a bulk deploy sends (a sweep over every entry on each call
/// would make 10,000 starts cost 10,000 sweeps).
struct RecentCommands: Sendable {
    let window: TimeInterval
    private var sentAt: [String: Date] = [:]
    private var order: [(key: String, at: Date)] = []
    private var head = 0

    init(window: TimeInterval) {
        self.window = window
    }

    /// Whether `key` may go out now; if so, it is remembered as sent at `now`.
    mutating func shouldSend(_ key: String, now: Date) -> Bool {
        forgetOld(now: now)
        if let last = sentAt[key], now.timeIntervalSince(last) < window { return false }
        sentAt[key] = now
        order.append((key, now))
        return true
    }

    private mutating func forgetOld(now: Date) {
        while head < order.count, now.timeIntervalSince(order[head].at) >= window {
            let (key, at) = order[head]
            if sentAt[key] == at { sentAt[key] = nil }
            head += 1
        }
        if head > 1_024, head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }
}
