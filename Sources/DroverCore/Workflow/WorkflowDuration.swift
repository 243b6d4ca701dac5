import Foundation

/// A length of time in a workflow document: a number of seconds (`2.5`) or a string with a
/// unit (`"500ms"`, `"30s"`, `"5m"`, `"2h"`). Written back as seconds.
public struct WorkflowDuration: Codable, Sendable, Hashable, Comparable, CustomStringConvertible {
    public var seconds: Double

    /// The longest duration a document may give: 10^9 s (about 31 years). Longer ones would
    /// put instants past what dates can be written as.
    public static let maxSeconds: Double = 1_000_000_000

    public init(seconds: Double) {
        self.seconds = seconds
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Double.self) {
            guard number >= 0, number <= Self.maxSeconds else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "a duration must be from 0 to \(Int(Self.maxSeconds)) seconds"
                )
            }
            seconds = number
            return
        }
        let text = try container.decode(String.self)
        guard let parsed = Self.parse(text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "'\(text.prefix(40))' is not a duration (use seconds, or \"500ms\", \"30s\", \"5m\", \"2h\")"
            )
        }
        seconds = parsed
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(seconds)
    }

    /// Seconds in `text` (`"1.5s"`, `"200ms"`, `"3m"`, `"1h"`, `"10"`), or `nil`.
    public static func parse(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3_600)]
        for (suffix, scale) in units where trimmed.hasSuffix(suffix) {
            guard let number = Double(trimmed.dropLast(suffix.count)), number >= 0, number * scale <= maxSeconds else { return nil }
            return number * scale
        }
        guard let number = Double(trimmed), number >= 0, number <= maxSeconds else { return nil }
        return number
    }

    public static func < (lhs: WorkflowDuration, rhs: WorkflowDuration) -> Bool { lhs.seconds < rhs.seconds }

    public var description: String { "\(seconds) s" }
}
