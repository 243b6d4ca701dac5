import DroverCore
import DroverStore
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import HummingbirdWebSocket
import Logging
import Prometheus
import ServiceLifecycle

/// The manager process: store, REST API, node gateway and the cluster loop, as services.
///
/// `services` go into one `ServiceGroup`; they start in order and stop in reverse, so the
/// store closes last.
public struct DroverManagerApp: Sendable {
    public let configuration: ManagerConfiguration
    /// The admin token when it is known on this start (given, or generated now); `nil` when
    /// the store holds only its hash (it was generated on an earlier start).
    public let adminToken: String?
    /// Whether the token was generated on this start (print it then: it is shown only once).
    public let tokenWasGenerated: Bool
    /// The admin password when it was generated on this start (print it once; only its hash is stored).
    public let generatedAdminPassword: String?
    public let services: [any Service]
    /// Every (method, path) the HTTP router answers (the node gateway's WebSocket aside).
    public let routes: Set<APIRoute>

    /// Opens the store and builds every service. Prints `drover manager listening on URL`
    /// to stdout once the server accepts connections.
    public static func build(
        configuration: ManagerConfiguration, logger: Logger, metrics: PrometheusCollectorRegistry,
        onListening: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws -> DroverManagerApp {
        try configuration.validate()
        let location = try StoreLocation.parse(configuration.store)
        let opened = try await location.open(logger: logger)
        // Whatever fails from here on, the store is closed again (an SQLite connection left
        // open at exit is a crash, not a message).
        do {
            return try await assemble(configuration: configuration, location: location, opened: opened, logger: logger, metrics: metrics, onListening: onListening)
        } catch {
            try? await (opened.store as? SQLiteStore)?.close()
            throw error
        }
    }

    /// Everything `build` does once the store is open.
    private static func assemble(
        configuration: ManagerConfiguration, location: StoreLocation, opened: (store: any Store, service: (any Service)?),
        logger: Logger, metrics: PrometheusCollectorRegistry, onListening: @escaping @Sendable (String) -> Void
    ) async throws -> DroverManagerApp {
        let admin = try await AdminToken.resolve(configured: configuration.adminToken, store: opened.store)
        let secretBox = try Self.secretBox(configuration: configuration, location: location, logger: logger)
        let loadStarted = ContinuousClock.now
        let model = try await ClusterModel.load(from: opened.store)
        logger.info("cluster loaded", metadata: [
            "nodes": "\(model.nodes().count)", "agents": "\(model.agentCount)", "seconds": "\((ContinuousClock.now - loadStarted).formatted(.units(allowed: [.seconds], fractionalPart: .show(length: 3))))",
        ])
        let controller = ClusterController(store: opened.store, model: model, configuration: configuration, logger: logger, secrets: secretBox)
        let jwt: JWTService
        if let pem = configuration.jwtES256KeyPEM {
            do {
                jwt = try await JWTService(es256PrivateKeyPEM: pem, lifetime: configuration.jwtLifetime)
            } catch {
                throw ConfigurationError("the ES256 key (--jwt-es256-key) is not a P-256 private key in PEM: \(error)")
            }
        } else {
            jwt = await JWTService(
                secret: try await JWTSecret.resolve(configured: configuration.jwtSecret, file: Self.secretFile(location, JWTSecret.file), store: opened.store),
                lifetime: configuration.jwtLifetime
            )
        }
        let (passwordHash, generatedPassword) = try await AdminPassword.resolve(configured: configuration.adminPassword, store: opened.store)
        let authenticator = Authenticator(adminTokenHash: admin.hash, jwt: jwt, store: opened.store)

        let router = Router(context: ManagerRequestContext.self)
        router.add(middleware: ErrorMiddleware(routes: OpenAPIDocument.routes))
        let limiter = RateLimiter(rate: configuration.rateLimit, burst: configuration.rateBurst)
        router.add(middleware: AuthMiddleware(authenticator: authenticator, limiter: limiter))
        router.add(middleware: RateLimitMiddleware(limiter: limiter))
        router.add(middleware: AuditMiddleware(log: controller.auditLog))
        router.get("health") { _, _ in try JSONResponse.make(controller.health) }
        router.get("api/v1/openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.json))
            )
        }
        router.get("metrics") { _, context in
            _ = try context.requireAdmin()
            var buffer: [UInt8] = []
            metrics.emit(into: &buffer)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer))
            )
        }
        let cluster = router.group("api/v1/cluster")
        ContainerRoutes(controller: controller).addRoutes(to: cluster)
        AgentRoutes(controller: controller).addRoutes(to: cluster)
        ActionRoutes(controller: controller).addRoutes(to: cluster)
        TaskRoutes(controller: controller).addRoutes(to: router.group("api/v1/tasks"))
        let workflows = WorkflowEngine(controller: controller)
        WorkflowRoutes(engine: workflows).addRoutes(to: router.group("api/v1/workflows"))
        AuthRoutes(jwt: jwt, adminPassword: passwordHash).addRoutes(to: router)
        TenantRoutes(controller: controller).addRoutes(to: router.group("api/v1/tenants"))
        JoinTokenRoutes(controller: controller, authenticator: authenticator).addRoutes(to: router.group("api/v1/tokens"))
        AuditRoutes(store: opened.store).addRoutes(to: router)
        router.get("api/v1/events") { request, context in
            // Admins see every event (or one tenant's with ?tenant=); a tenant only its own.
            let caller = try context.caller
            let tenant = caller.isAdmin ? request.uri.queryParameters.get("tenant") : caller.tenant
            if tenant == nil { _ = try context.requireAdmin() }
            let (after, limit) = try Paging.read(request)
            let events = try await controller.store.events(after: after, limit: limit, tenant: tenant)
            return try JSONResponse.make(ListResponse(items: events, nextCursor: Paging.nextCursor(count: events.count, limit: limit, last: events.last.map { String($0.sequence) })))
        }

        let wsRouter = Router(context: ManagerRequestContext.self)
        wsRouter.add(middleware: ErrorMiddleware())
        NodeGateway(
            controller: controller, codec: NodeMessageCodec(maxFrameBytes: configuration.maxFrameBytes), authenticator: authenticator, limiter: limiter
        )
            .addRoutes(to: wsRouter)

        let host = configuration.host
        // No pings from this side: a node heartbeats every few seconds, a silent one is declared
        // down and its session closed (liveness), and the node pings the manager to find a dead
        // connection itself. Pinging every session as well would add a third to an idle
        // manager's frames.
        var server: HTTPServerBuilder = .http1WebSocketUpgrade(
            webSocketRouter: wsRouter,
            configuration: .init(ws: .init(maxFrameSize: configuration.maxFrameBytes, autoPing: .disabled))
        )
        if let certificate = configuration.tlsCertificatePath, let key = configuration.tlsKeyPath {
            // The same port serves HTTPS and wss; a plain-HTTP client fails its handshake.
            server = try .tls(server, tlsConfiguration: try ServerTLS.configuration(certificatePath: certificate, keyPath: key))
        }
        let scheme = configuration.tlsEnabled ? "https" : "http"
        let app = Application(
            router: router,
            server: server,
            configuration: .init(address: .hostname(host, port: configuration.port), serverName: "drover-manager"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                onListening("\(scheme)://\(host):\(port)")
            },
            logger: logger
        )
        var services: [any Service] = []
        if let service = opened.service { services.append(service) }
        services.append(ManagerLoop(controller: controller, interval: configuration.reconcileInterval))
        services.append(workflows)
        services.append(app)
        return DroverManagerApp(
            configuration: configuration, adminToken: admin.token, tokenWasGenerated: admin.generated, generatedAdminPassword: generatedPassword, services: services,
            routes: Set(router.routes.map { APIRoute(method: $0.method.rawValue, path: $0.path.description) })
        )
    }

    /// The box that seals agent secrets, under the key `MasterKey` resolves (never stored in the database).
    private static func secretBox(configuration: ManagerConfiguration, location: StoreLocation, logger: Logger) throws -> SecretBox {
        let (key, source) = try MasterKey.resolve(configured: configuration.masterSecretKey, keyFile: secretFile(location, MasterKey.keyFile))
        logger.info("agent secrets are encrypted with \(source)")
        return SecretBox(key: key)
    }

    /// The secret file beside a SQLite store (`nil` for the `memory:` store).
    private static func secretFile(_ location: StoreLocation, _ name: (String) -> String) -> String? {
        if case .sqlite(let path) = location { return name(path) }
        return nil
    }
}
