import DroverCore
import Foundation

/// What can go wrong talking to the manager, worded for the person at the terminal.
public enum DroverClientError: Error, CustomStringConvertible, Equatable {
    /// The manager answered with an error body.
    case api(status: Int, code: String, message: String)
    /// The manager could not be reached, or the exchange broke.
    case transport(String)
    /// The manager answered something this client cannot read.
    case decoding(String)

    public var description: String {
        switch self {
        case .api(let status, let code, let message): return "\(message) (\(code), HTTP \(status))"
        case .transport(let detail): return detail
        case .decoding(let detail): return "unexpected answer from the manager: \(detail)"
        }
    }

    /// Builds the error for a non-2xx answer, reading the `{"error": ...}` body when there is one.
    public static func from(status: Int, body: Data) -> DroverClientError {
        if let decoded = try? JSONCoding.decoder().decode(APIErrorBody.self, from: body) {
            return .api(status: status, code: decoded.error.code, message: decoded.error.message)
        }
        let text = String(decoding: body.prefix(200), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return .api(status: status, code: "http_\(status)", message: text.isEmpty ? "the manager answered HTTP \(status)" : text)
    }
}
