import Foundation

// Node records are written on registration, on every change placement weighs, and with a
// heartbeat every 30 s per node: with a thousand nodes, that is one JSONEncoder run every 30 ms
// for an otherwise idle manager. Written here exactly as `JSONEncoder` writes them (sorted keys,
// `nil` optionals left out); a test compares the two byte for byte.

extension NodeRecord: JSONTextEncodable {
    public func writeJSON(to writer: inout JSONTextWriter) throws {
        writer.raw("{\"agent_types\":")
        try writer.array(agentTypes)
        writer.raw(",\"api_port\":")
        writer.int(apiPort)
        writer.raw(",\"capabilities\":")
        writer.strings(capabilities)
        writer.raw(",\"connection\":")
        writer.string(connection.rawValue)
        try writer.member(",\"health_score\":", healthScore)
        writer.raw(",\"host_address\":")
        writer.string(hostAddress)
        writer.raw(",\"id\":")
        writer.string(id)
        writer.raw(",\"incarnation\":")
        writer.string(incarnation)
        writer.raw(",\"labels\":")
        writer.strings(labels)
        writer.raw(",\"last_heartbeat\":")
        writer.date(lastHeartbeat)
        writer.raw(",\"max_agents\":")
        writer.int(maxAgents)
        writer.raw(",\"metadata\":")
        try writer.value(.object(metadata))
        writer.raw(",\"name\":")
        writer.string(name)
        writer.raw(",\"registered_at\":")
        writer.date(registeredAt)
        writer.raw(",\"resources\":")
        try writer.encodable(resources)
        writer.member(",\"shared\":", shared)
        writer.raw(",\"status\":")
        writer.string(status.rawValue)
        writer.raw(",\"tenant\":")
        writer.string(tenant)
        writer.raw("}")
    }
}

extension AgentTypeInfo: JSONTextEncodable {
    public func writeJSON(to writer: inout JSONTextWriter) throws {
        writer.raw("{\"driver\":")
        writer.string(driver)
        writer.raw(",\"name\":")
        writer.string(name)
        writer.raw(",\"resources\":")
        try writer.encodable(resources)
        writer.raw("}")
    }
}

extension NodeResources: JSONTextEncodable {
    public func writeJSON(to writer: inout JSONTextWriter) throws {
        writer.raw("{\"capacity\":")
        try writer.encodable(capacity)
        try writer.member(",\"load_1m\":", load1)
        try writer.member(",\"memory_available_mb\":", memoryAvailableMB)
        writer.raw("}")
    }
}
