import Foundation

/// Parses JSON text into a `JSONValue`, for the records the manager reads by the thousand
/// (200,000 agents when it starts, 10,000 in a bulk deploy's answer).
///
/// An accelerator, never the judge: it answers `nil` for anything it is not sure `JSONDecoder`
/// would read the same way (invalid text, duplicate keys, lone surrogates, a whole number
/// written with a fraction or exponent, nesting past 256 levels), and callers then fall back
/// to `JSONDecoder`, which reads the value or reports the error.
///
/// Hand-written: Foundation's `JSONDecoder` costs about 1.5 µs per field on this project's
/// machines; none of the project's dependencies offers a faster parser.
public enum JSONTextReader {
    /// The value of `data`, or `nil` (see the type's note).
    public static func parse(_ data: Data) -> JSONValue? {
        data.withUnsafeBytes { raw in parse(UnsafeBufferPointer(start: raw.baseAddress?.assumingMemoryBound(to: UInt8.self), count: raw.count)) }
    }

    /// The value of `text`, or `nil` (see the type's note).
    public static func parse(_ text: String) -> JSONValue? {
        var text = text
        return text.withUTF8 { parse($0) }
    }

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> JSONValue? {
        var parser = JSONTextParser(bytes: bytes)
        guard let value = parser.value(depth: 0) else { return nil }
        parser.skipSpace()
        // Not a ternary: `nil` there would be read as the JSON literal `null`.
        guard parser.index == bytes.count else { return nil }
        return value
    }
}

/// The state of one parse: the bytes and the position in them.
private struct JSONTextParser {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0
    static let maxDepth = 256

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    private var atEnd: Bool { index >= bytes.count }

    mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    mutating func value(depth: Int) -> JSONValue? {
        skipSpace()
        guard !atEnd, depth < Self.maxDepth else { return nil }
        switch bytes[index] {
        case UInt8(ascii: "{"): return object(depth: depth)
        case UInt8(ascii: "["): return array(depth: depth)
        case UInt8(ascii: "\""): return string().map(JSONValue.string)
        case UInt8(ascii: "t"): return literal("true") ? JSONValue?.some(.bool(true)) : JSONValue?.none
        case UInt8(ascii: "f"): return literal("false") ? JSONValue?.some(.bool(false)) : JSONValue?.none
        case UInt8(ascii: "n"): return literal("null") ? JSONValue?.some(.null) : JSONValue?.none
        default: return number()
        }
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        let matches = word.withUTF8Buffer { expected in (0..<count).allSatisfy { bytes[index + $0] == expected[$0] } }
        if matches { index += count }
        return matches
    }

    private mutating func object(depth: Int) -> JSONValue? {
        index += 1
        var members: [String: JSONValue] = [:]
        skipSpace()
        if !atEnd, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            skipSpace()
            guard !atEnd, bytes[index] == UInt8(ascii: "\""), let key = string() else { return nil }
            skipSpace()
            guard !atEnd, bytes[index] == UInt8(ascii: ":") else { return nil }
            index += 1
            guard let member = value(depth: depth + 1) else { return nil }
            // A duplicate key: which one JSONDecoder keeps is its business.
            guard members.updateValue(member, forKey: key) == nil else { return nil }
            skipSpace()
            guard !atEnd else { return nil }
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"):
                index += 1
                return .object(members)
            default: return nil
            }
        }
    }

    private mutating func array(depth: Int) -> JSONValue? {
        index += 1
        var elements: [JSONValue] = []
        skipSpace()
        if !atEnd, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            guard let element = value(depth: depth + 1) else { return nil }
            elements.append(element)
            skipSpace()
            guard !atEnd else { return nil }
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"):
                index += 1
                return .array(elements)
            default: return nil
            }
        }
    }

    /// A string at the opening quote; valid UTF-8 only.
    mutating func string() -> String? {
        index += 1
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let text = String(validating: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { return nil }
            index += 1
        }
        var unescaped = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return String(validating: unescaped, as: UTF8.self)
            case UInt8(ascii: "\\"):
                index += 1
                guard !atEnd else { return nil }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): unescaped.append(escape)
                case UInt8(ascii: "b"): unescaped.append(0x08)
                case UInt8(ascii: "f"): unescaped.append(0x0C)
                case UInt8(ascii: "n"): unescaped.append(0x0A)
                case UInt8(ascii: "r"): unescaped.append(0x0D)
                case UInt8(ascii: "t"): unescaped.append(0x09)
                case UInt8(ascii: "u"):
                    guard let scalar = unicodeEscape() else { return nil }
                    unescaped.append(contentsOf: String(Character(scalar)).utf8)
                default: return nil
                }
            default:
                if byte < 0x20 { return nil }
                unescaped.append(byte)
                index += 1
            }
        }
        return nil
    }

    /// The scalar of `\uXXXX` (the `\u` already read), with a surrogate pair taken whole.
    private mutating func unicodeEscape() -> Unicode.Scalar? {
        guard let first = hexUnit() else { return nil }
        switch first {
        case 0xD800...0xDBFF:
            guard index + 2 <= bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else { return nil }
            index += 2
            guard let second = hexUnit(), (0xDC00...0xDFFF).contains(second) else { return nil }
            return Unicode.Scalar(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))
        case 0xDC00...0xDFFF: return nil
        default: return Unicode.Scalar(first)
        }
    }

    private mutating func hexUnit() -> UInt32? {
        guard index + 4 <= bytes.count else { return nil }
        var unit: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            unit = unit << 4 | UInt32(digit)
            index += 1
        }
        return unit
    }

    /// A number as JSON writes it: `-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`. Whole
    /// numbers are `.int` (past `Int`'s range, `.double`); a fraction or exponent gives `.double`,
    /// or `nil` when its value is whole (whether `JSONDecoder` calls that an integer is left to it).
    private mutating func number() -> JSONValue? {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard let first = digitsRun(), first.count == 1 || bytes[first.lowerBound] != UInt8(ascii: "0") else { return nil }
        var whole = true
        if !atEnd, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digitsRun() != nil else { return nil }
            whole = false
        }
        if !atEnd, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if !atEnd, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digitsRun() != nil else { return nil }
            whole = false
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        if whole, let integer = Int(text) {
            // `-0` is -0.0 to a Double field and 0 to an Int one: JSONDecoder decides.
            guard integer != 0 || bytes[start] != UInt8(ascii: "-") else { return nil }
            return .int(integer)
        }
        guard let number = Double(text), number.isFinite else { return nil }
        if !whole, number.rounded() == number, abs(number) < 9.3e18 { return nil }
        return .double(number)
    }

    private mutating func digitsRun() -> Range<Int>? {
        let start = index
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
        return index > start ? start..<index : nil
    }
}
