import DroverCore
import DroverTestSupport
import Foundation
import Logging
import Prometheus
import Testing
@testable import DroverManager

/// The published OpenAPI document stays true to the router: the same (method, path) set, and
/// a well-formed document (every reference resolves, every path parameter is declared).
@Suite("OpenAPI document")
struct OpenAPIRouteTests {
    static var document: JSONValue {
        get throws { try JSONCoding.decoder().decode(JSONValue.self, from: OpenAPIDocument.json) }
    }

    @Test("the document lists exactly the routes the manager's router has")
    func sameRoutes() async throws {
        let configuration = ManagerConfiguration(port: 0, store: "memory", adminToken: "openapi-test-admin-token-0123456789")
        let app = try await DroverManagerApp.build(configuration: configuration, logger: Logger(label: "test"), metrics: PrometheusCollectorRegistry())
        #expect(app.routes.count > 30)
        let documented = OpenAPIDocument.routes
        #expect(app.routes.subtracting(documented).sorted() == [], "routes the document does not describe")
        #expect(documented.subtracting(app.routes).sorted() == [], "documented routes the router does not have")
        // The JSON served is the same set.
        let paths = try #require(try Self.document["paths"]?.objectValue)
        let served = Set(paths.flatMap { path, item in (item.objectValue ?? [:]).keys.map { APIRoute(method: $0, path: path) } })
        #expect(served == app.routes)
    }

    @Test("every reference resolves, every path parameter is declared, every operation answers 2xx and errors as ErrorBody")
    func wellFormed() throws {
        let document = try Self.document
        let validator = OpenAPIValidator(document: document)
        #expect(document["openapi"] == "3.0.3")
        var refs: [String] = []
        func collect(_ value: JSONValue) {
            switch value {
            case .object(let members):
                if let ref = members["$ref"]?.stringValue { refs.append(ref) }
                members.values.forEach(collect)
            case .array(let items): items.forEach(collect)
            default: break
            }
        }
        collect(document)
        #expect(refs.count > 100)
        for ref in Set(refs) { #expect(validator.resolve(ref) != nil, "unresolved \(ref)") }

        var operationIDs = Set<String>()
        for (path, item) in try #require(document["paths"]?.objectValue) {
            for (method, operation) in try #require(item.objectValue) {
                let id = try #require(operation["operationId"]?.stringValue)
                #expect(operationIDs.insert(id).inserted, "duplicate operationId \(id)")
                let declared = (operation["parameters"]?.arrayValue ?? []).filter { $0["in"] == "path" }.compactMap { $0["name"]?.stringValue }
                let inPath = path.split(separator: "/").filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) }
                #expect(declared == inPath, "\(method) \(path): path parameters \(declared) vs \(inPath)")
                let statuses = validator.statuses(method: method, path: path)
                #expect(statuses.contains { (200..<300).contains($0) }, "\(method) \(path) lists no success")
                // The one 5xx: 503 store_unavailable, for calls that write while the store refuses writes.
                #expect(!statuses.contains { $0 >= 500 && $0 != 503 }, "\(method) \(path) documents a 5xx other than 503")
                #expect(statuses.contains(503) == (method != "get" && !(operation["security"] == JSONValue.array([]))), "\(method) \(path) 503")
                for status in statuses where status >= 400 {
                    #expect(validator.responseSchema(method: method, path: path, status: status) == OAS.ref("ErrorBody"), "\(method) \(path) \(status)")
                }
                let isPublic = operation["security"] == JSONValue.array([])
                #expect(isPublic == ["/health", "/api/v1/openapi.json", "/api/v1/auth/token"].contains(path), "\(method) \(path) security")
                if !isPublic { #expect(statuses.isSuperset(of: [401, 403, 429]), "\(method) \(path) lacks 401/403/429") }
            }
        }
    }

    @Test("the validator catches a missing field, a wrong type and a value outside an enum")
    func validatorBites() throws {
        let validator = OpenAPIValidator(document: try Self.document)
        let schema = OAS.ref("ClusterActionResponse")
        let good: JSONValue = ["action": "rebalance", "dry_run": true, "moves": [["agent_id": "a", "from": "n1", "to": "n2"]], "nodes": ["n1": "active"]]
        #expect(validator.problems(good, against: schema) == [])
        #expect(validator.problems(["action": "rebalance", "dry_run": true, "moves": []], against: schema) == ["$.nodes: required but missing"])
        #expect(!validator.problems(["action": "rebalance", "dry_run": "yes", "moves": [], "nodes": [:]], against: schema).isEmpty)
        #expect(!validator.problems(["action": "dance", "dry_run": true, "moves": [], "nodes": [:]], against: schema).isEmpty)
        #expect(!validator.problems(["action": "rebalance", "dry_run": true, "moves": [["agent_id": 1]], "nodes": [:]], against: schema).isEmpty)
        #expect(!validator.problems(["error": ["code": "x"]], against: OAS.ref("ErrorBody")).isEmpty)
    }
}

@Suite("Method not allowed")
struct MethodNotAllowedTests {
    @Test("a known path with another method names the allowed ones; an unknown path has none")
    func allowed() {
        let routes = OpenAPIDocument.routes
        #expect(ErrorMiddleware.methods(for: "/health", in: routes) == ["GET"])
        #expect(ErrorMiddleware.methods(for: "/api/v1/cluster/agents/agt-1", in: routes) == ["DELETE", "GET"])
        #expect(ErrorMiddleware.methods(for: "/api/v1/tenants/acme/tokens/tok-1", in: routes) == ["DELETE"])
        #expect(ErrorMiddleware.methods(for: "/api/v1/cluster/agents/a/b/c", in: routes) == [])
        #expect(ErrorMiddleware.methods(for: "/nothing", in: routes) == [])
    }
}

extension MethodNotAllowedTests {
    @Test("a literal segment wins over a parameter, as in the router")
    func literalWins() {
        let routes = OpenAPIDocument.routes
        #expect(ErrorMiddleware.methods(for: "/api/v1/cluster/agents/deploy", in: routes) == ["POST"])
        #expect(ErrorMiddleware.methods(for: "/api/v1/workflows/runs", in: routes) == ["GET"])
        #expect(ErrorMiddleware.methods(for: "/api/v1/workflows/wordcount", in: routes) == ["GET"])
    }
}
