import Foundation

// Every mutating API call writes an audit entry, and many calls write an event: written here
// exactly as `JSONEncoder` writes them (sorted keys, `nil` optionals left out); a test compares
// the two byte for byte.

extension AuditEntry: JSONTextEncodable {
    public func writeJSON(to writer: inout JSONTextWriter) throws {
        writer.raw("{\"action\":")
        writer.string(action)
        writer.raw(",\"at\":")
        writer.date(at)
        writer.raw(",\"method\":")
        writer.string(method)
        writer.raw(",\"path\":")
        writer.string(path)
        try writer.member(",\"principal\":", principal)
        writer.member(",\"remote\":", remote)
        writer.raw(",\"sequence\":")
        writer.int(sequence)
        writer.raw(",\"status\":")
        writer.int(status)
        writer.raw("}")
    }
}

extension Principal: JSONTextEncodable {
    public func writeJSON(to writer: inout JSONTextWriter) throws {
        var first = true
        writer.raw("{")
        if let credential {
            writer.key("\"credential\":", first: &first)
            writer.string(credential)
        }
        writer.key("\"role\":", first: &first)
        writer.string(role.rawValue)
        writer.raw(",\"subject\":")
        writer.string(subject)
        writer.member(",\"tenant\":", tenant)
        writer.raw("}")
    }
}

extension ClusterEvent: JSONTextEncodable {
    public func writeJSON(to writer: inout JSONTextWriter) throws {
        var first = true
        writer.raw("{")
        if let agentID {
            writer.key("\"agent_id\":", first: &first)
            writer.string(agentID)
        }
        writer.key("\"at\":", first: &first)
        writer.date(at)
        writer.raw(",\"kind\":")
        writer.string(kind)
        writer.raw(",\"message\":")
        writer.string(message)
        writer.member(",\"node_id\":", nodeID)
        writer.raw(",\"sequence\":")
        writer.int(sequence)
        writer.member(",\"tenant\":", tenant)
        writer.raw("}")
    }
}

extension JSONValue: JSONTextEncodable {
    public func writeJSON(to writer: inout JSONTextWriter) throws {
        try writer.value(self)
    }
}
