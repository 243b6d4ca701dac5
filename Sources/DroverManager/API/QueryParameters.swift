import Foundation
import Hummingbird

/// Strict reading of query parameters: a value that is there but not what the call takes is a
/// 400 naming the parameter, never silently replaced by the default.
enum Query {
    /// `true` or `false` (absent: `false`).
    static func bool(_ request: Request, _ name: String) throws -> Bool {
        guard let text = request.uri.queryParameters.get(name) else { return false }
        switch text {
        case "true": return true
        case "false": return false
        default: throw APIError.badRequest("\(name) must be true or false, not '\(text.prefix(40))'")
        }
    }

    /// A whole number in `range` (absent: `defaultValue`).
    static func int(_ request: Request, _ name: String, in range: ClosedRange<Int>, default defaultValue: Int) throws -> Int {
        guard let text = request.uri.queryParameters.get(name) else { return defaultValue }
        guard let value = Int(text), range.contains(value) else {
            throw APIError.badRequest("\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), not '\(text.prefix(40))'")
        }
        return value
    }

    /// A whole number in `range`, or `nil` when absent.
    static func optionalInt(_ request: Request, _ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard request.uri.queryParameters.get(name) != nil else { return nil }
        return try int(request, name, in: range, default: 0)
    }

    /// A finite number of seconds in `range`, or `nil` when absent.
    static func seconds(_ request: Request, _ name: String, in range: ClosedRange<Double>) throws -> Double? {
        guard let text = request.uri.queryParameters.get(name) else { return nil }
        guard let value = Double(text), value.isFinite, range.contains(value) else {
            throw APIError.badRequest("\(name) must be a number of seconds from \(Int(range.lowerBound)) to \(Int(range.upperBound)), not '\(text.prefix(40))'")
        }
        return value
    }

    /// One of the raw values of `T` (absent: `nil`).
    static func oneOf<T: RawRepresentable & CaseIterable>(_ request: Request, _ name: String, _ type: T.Type) throws -> T? where T.RawValue == String {
        guard let text = request.uri.queryParameters.get(name) else { return nil }
        guard let value = T(rawValue: text) else {
            let names = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw APIError.badRequest("\(name) '\(text.prefix(40))' is not one of \(names)")
        }
        return value
    }
}

/// The paging parameters of a listing: `limit`, and `cursor` (a `next_cursor` the same listing
/// answered) or, for listings numbered by sequence, its older spelling `after`.
enum Paging {
    static let maxLimit = 1_000

    /// `cursor` or `after` (a sequence number; default 0) and `limit` (default 100); anything
    /// else than whole numbers in range is a 400.
    static func read(_ request: Request, defaultLimit: Int = 100, maxLimit: Int = maxLimit) throws -> (after: Int, limit: Int) {
        let limit = try Query.int(request, "limit", in: 1...maxLimit, default: defaultLimit)
        guard let cursor = request.uri.queryParameters.get("cursor") else {
            return (try Query.int(request, "after", in: 0...Int.max, default: 0), limit)
        }
        guard let after = Int(cursor), after >= 0 else { throw invalidCursor(cursor) }
        return (after, limit)
    }

    /// The `next_cursor` of a page of `count` items read with `limit`: the last item's key when
    /// the page is full (there may be more), `nil` when the listing ended.
    static func nextCursor(count: Int, limit: Int, last: String?) -> String? {
        count >= limit ? last : nil
    }

    /// The 400 for a `cursor` this listing did not hand out.
    static func invalidCursor(_ cursor: String) -> APIError {
        APIError.badRequest("cursor '\(cursor.prefix(40))' is not a next_cursor of this list")
    }
}
