import DroverCore
import Foundation
import Hummingbird
import NIOCore

/// Builds JSON responses and reads JSON bodies with the project's one JSON configuration.
enum JSONResponse {
    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        // Agent records (and lists of them) write their own text: many times faster than `JSONEncoder`.
        if let value = value as? any JSONTextEncodable {
            var writer = JSONTextWriter(capacity: 4_096)
            try value.writeJSON(to: &writer)
            return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: writer.bytes)))
        }
        let data = try JSONCoding.encoder().encode(value)
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Like `decode`, but an empty body gives `nil` (for calls whose body is optional).
    static func decodeOptional<T: Decodable>(_ type: T.Type, from request: Request, context: ManagerRequestContext) async throws -> T? {
        let data = try await body(of: request, context: context)
        return data.isEmpty ? nil : try decode(type, from: data)
    }

    /// Decodes the body as `T`, turning every failure into a 4xx with the field path.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, context: ManagerRequestContext) async throws -> T {
        try decode(type, from: try await body(of: request, context: context))
    }

    /// The whole body, up to the upload limit (413 past it).
    static func body(of request: Request, context: ManagerRequestContext) async throws -> Data {
        var request = request
        do {
            return Data(try await request.collectBody(upTo: context.maxUploadSize).readableBytesView)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw APIError(.contentTooLarge, code: "body_too_large", "request body is over the \(context.maxUploadSize)-byte limit")
        }
    }

    /// Decodes `data` as `T`: 400 for an empty body, JSON that does not parse or nests too
    /// deep, and for a value of the wrong type (with the field path).
    static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        guard !data.isEmpty else { throw APIError.badRequest("request body is empty; expected a JSON object") }
        do {
            let value = try JSONTextReader.parse(data) ?? JSONCoding.decoder().decode(JSONValue.self, from: data)
            guard value.depth <= 64 else { throw APIError.badRequest("JSON nests deeper than 64 levels") }
            if T.self == JSONValue.self, let value = value as? T { return value }
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(.badRequest, code: "invalid_json", "body is not valid JSON")
        }
        do {
            return try JSONCoding.decoder().decode(T.self, from: data)
        } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
            // The body parsed above, so this is Foundation failing a number that does not fit
            // the field's type (it names no field, and calls it invalid JSON).
            throw APIError(.badRequest, code: "invalid_body", "a number in the body is out of range for its field (whole numbers must fit in 64 bits)")
        } catch {
            throw APIError(.badRequest, code: "invalid_body", describeDecodingError(error))
        }
    }
}
