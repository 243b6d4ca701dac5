import AsyncHTTPClient
import DroverCore
import Foundation
import NIOCore
import NIOHTTP1

/// A typed client of the manager's REST API; the CLI and the tests use it.
public struct DroverClient: Sendable {
    public let baseURL: String
    public let token: String?
    let httpClient: HTTPClient
    let timeout: Duration

    /// - Parameters:
    ///   - baseURL: the manager, e.g. `http://127.0.0.1:8000`.
    ///   - token: the bearer token; `nil` sends none.
    public init(baseURL: String, token: String?, httpClient: HTTPClient = .shared, timeout: Duration = .seconds(30)) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.token = token
        self.httpClient = httpClient
        self.timeout = timeout
    }

    // MARK: Cluster

    public func health() async throws -> HealthResponse { try await get("/health") }

    public func clusterStatus() async throws -> ClusterStatus { try await get("/api/v1/cluster/status") }

    /// Every node the caller may see (all pages).
    public func nodes() async throws -> [NodeRecord] {
        try await all("/api/v1/cluster/containers")
    }

    public func node(id: String) async throws -> NodeRecord { try await get("/api/v1/cluster/containers/\(Self.escape(id))") }

    public func deleteNode(id: String) async throws {
        _ = try await send("DELETE", "/api/v1/cluster/containers/\(Self.escape(id))", body: Optional<Data>.none)
    }

    public func registerContainer(_ request: ContainerRegisterRequest) async throws -> ContainerRegisterResponse {
        try await post("/api/v1/cluster/containers/register", request)
    }

    public func containerHeartbeat(id: String, _ request: ContainerHeartbeatRequest) async throws -> ContainerRegisterResponse {
        try await post("/api/v1/cluster/containers/\(Self.escape(id))/heartbeat", request)
    }

    // MARK: Agents

    /// Every agent the caller may see (all pages), oldest first.
    public func agents() async throws -> [AgentRecord] {
        try await all("/api/v1/cluster/agents")
    }

    /// One page of agents: `query` holds the filters (`node_id=...&status=...`), `cursor` a `next_cursor`.
    public func agentsPage(query: String = "", limit: Int = 100, cursor: String? = nil) async throws -> ListResponse<AgentRecord> {
        var path = "/api/v1/cluster/agents?limit=\(limit)" + (query.isEmpty ? "" : "&" + query)
        if let cursor { path += "&cursor=\(Self.escape(cursor))" }
        return try await get(path)
    }

    /// Places `replicas` agents of one spec in one call: all of them, or none (a 422 says how many fit).
    public func deploy(_ request: DeployRequest, replicas: Int, dryRun: Bool = false) async throws -> [AgentRecord] {
        var body = request
        body.replicas = replicas
        let response: ListResponse<AgentRecord> = try await post("/api/v1/cluster/agents/deploy" + (dryRun ? "?dry_run=true" : ""), body)
        return response.items
    }

    /// Follows `next_cursor` through a paged list, 1,000 items a page.
    func all<Item: Codable & Sendable>(_ path: String) async throws -> [Item] {
        var items: [Item] = []
        var cursor: String?
        repeat {
            var page = path + "?limit=1000"
            if let cursor { page += "&cursor=\(Self.escape(cursor))" }
            let response = try await get(page, as: ListResponse<Item>.self)
            items += response.items
            cursor = response.nextCursor
        } while cursor != nil
        return items
    }

    public func agent(id: String) async throws -> AgentRecord { try await get("/api/v1/cluster/agents/\(Self.escape(id))") }

    public func deploy(_ request: DeployRequest) async throws -> AgentRecord {
        try await post("/api/v1/cluster/agents/deploy", request)
    }

    /// Where the agent would go, without deploying it (`?dry_run=true`).
    public func deployDryRun(_ request: DeployRequest) async throws -> AgentRecord {
        try await post("/api/v1/cluster/agents/deploy?dry_run=true", request)
    }

    /// Moves an agent to another node (the scheduler picks one when `target` is `nil`).
    public func migrate(agentID: String, _ request: MigrateRequest = MigrateRequest()) async throws -> MigrateResponse {
        try await post("/api/v1/cluster/agents/\(Self.escape(agentID))/migrate", request)
    }

    /// Drains a node: no new agents; its agents move away.
    public func drain(nodeID: String) async throws -> NodeRecord {
        try await decode(send("POST", "/api/v1/cluster/containers/\(Self.escape(nodeID))/drain", body: Optional<Data>.none))
    }

    /// Runs a cluster action (`rebalance`, `health_check`).
    public func action(_ request: ClusterActionRequest) async throws -> ClusterActionResponse {
        try await post("/api/v1/cluster/actions", request)
    }

    /// Agents per node, type and tenant, and each node's used and free resources.
    public func distribution() async throws -> Distribution {
        try await get("/api/v1/cluster/metrics/distribution")
    }

    /// Cluster events (node down, agent moved, ...) numbered above `after`, oldest first.
    public func events(after: Int = 0, limit: Int = 100) async throws -> [ClusterEvent] {
        try await get("/api/v1/events?after=\(after)&limit=\(limit)", as: ListResponse<ClusterEvent>.self).items
    }

    public func undeploy(id: String) async throws -> AgentRecord {
        try await decode(send("DELETE", "/api/v1/cluster/agents/\(Self.escape(id))", body: Optional<Data>.none))
    }

    // MARK: Tasks

    /// Sends a task; with `wait`, the call returns when the task is final or its timeout passes.
    public func submitTask(agentID: String, input: JSONValue, timeoutSeconds: Double? = nil, wait: Bool = false) async throws -> TaskRecord {
        let body = TaskSubmitRequest(input: input, timeoutSeconds: timeoutSeconds)
        let path = "/api/v1/cluster/agents/\(Self.escape(agentID))/tasks" + (wait ? "?wait=true" : "")
        let extra = wait ? Duration.milliseconds(Int64((timeoutSeconds ?? 60) * 1000)) : .zero
        return try await decode(send("POST", path, body: try JSONCoding.encoder().encode(body), extraTimeout: extra))
    }

    /// A task; with `wait`, blocks until it is final (or its deadline passes).
    public func task(id: String, wait: Bool = false) async throws -> TaskRecord {
        let path = "/api/v1/tasks/\(Self.escape(id))" + (wait ? "?wait=true" : "")
        return try await decode(send("GET", path, body: Optional<Data>.none, extraTimeout: wait ? .seconds(3600) : .zero))
    }

    public func tasks(agentID: String) async throws -> [TaskRecord] {
        try await get("/api/v1/cluster/agents/\(Self.escape(agentID))/tasks", as: ListResponse<TaskRecord>.self).items
    }

    // MARK: Raw

    /// Sends any request and returns the status and body as they came, errors included
    /// (for scripts and for tests that send bad input on purpose).
    public func raw(method: String, path: String, body: Data? = nil, contentType: String = "application/json") async throws -> (status: Int, body: Data) {
        let response = try await rawResponse(method: method, path: path, body: body, contentType: contentType)
        return (response.status, response.body)
    }

    /// Like `raw`, with the response headers too (names lowercased).
    public func rawResponse(
        method: String, path: String, body: Data? = nil, contentType: String = "application/json"
    ) async throws -> (status: Int, headers: [String: String], body: Data) {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = HTTPMethod(rawValue: method)
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        do {
            let response = try await httpClient.execute(request, timeout: .init(timeout))
            let buffer = try await response.body.collect(upTo: 64 << 20)
            let headers = Dictionary(response.headers.map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { first, _ in first })
            return (Int(response.status.code), headers, Data(buffer.readableBytesView))
        } catch let error where ClientTLS.describe(error, baseURL: baseURL) != nil {
            throw DroverClientError.transport(ClientTLS.describe(error, baseURL: baseURL) ?? "")
        } catch let error as HTTPClientError {
            throw DroverClientError.transport("cannot reach the manager at \(baseURL): \(Self.describe(error))")
        } catch {
            throw DroverClientError.transport("cannot reach the manager at \(baseURL): \(error)")
        }
    }

    // MARK: Plumbing

    /// Percent-encodes one path segment.
    public static func escape(_ segment: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return segment.addingPercentEncoding(withAllowedCharacters: allowed) ?? segment
    }

    func get<T: Decodable>(_ path: String, as type: T.Type = T.self) async throws -> T {
        try await decode(send("GET", path, body: Optional<Data>.none))
    }

    func post<T: Decodable>(_ path: String, _ body: some Encodable) async throws -> T {
        try await decode(send("POST", path, body: try JSONCoding.encoder().encode(body)))
    }

    func send(
        _ method: String, _ path: String, body: Data?, extraTimeout: Duration = .zero, contentType: String = "application/json"
    ) async throws -> Data {
        let client = DroverClient(baseURL: baseURL, token: token, httpClient: httpClient, timeout: timeout + extraTimeout)
        let (status, data) = try await client.raw(method: method, path: path, body: body, contentType: contentType)
        guard (200..<300).contains(status) else { throw DroverClientError.from(status: status, body: data) }
        return data
    }

    func decode<T: Decodable>(_ data: Data) throws -> T {
        do {
            return try JSONCoding.decode(T.self, from: data, using: JSONCoding.decoder())
        } catch {
            throw DroverClientError.decoding(describeDecodingError(error))
        }
    }

    private static func describe(_ error: HTTPClientError) -> String {
        let text = "\(error)"
        if text.contains("connect") || text.contains("refused") { return "connection refused" }
        if text.contains("deadline") || text.contains("timeout") { return "timed out" }
        return text
    }
}
