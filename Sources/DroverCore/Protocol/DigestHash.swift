/// 64-bit FNV-1a over bytes, as the agent list digest feeds them (`RunningAgent.digest`).
struct DigestHash {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func feed(_ byte: UInt8) {
        value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
    }

    mutating func feed(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            for byte in bytes { feed(byte) }
        }
    }

    /// The bytes of `String(number)`, without making the string.
    mutating func feedDecimal(_ number: Int) {
        if number < 0 { feed(UInt8(ascii: "-")) }
        var magnitude = number.magnitude
        // 20 digits hold any UInt64; filled from the end.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var start = 20
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            for index in start..<20 { feed(digits[index]) }
        }
    }
}
