import DroverCore
import Foundation

/// Everything `drover manager` can be told.
public struct ManagerConfiguration: Sendable {
    /// Address the HTTP API and node gateway bind to.
    public var host: String
    /// Port; 0 picks a free one (printed when serving).
    public var port: Int
    /// Where state lives: `sqlite:PATH` or `memory:`.
    public var store: String
    /// The admin token; when `nil`, the stored one, or a new one generated at first start.
    public var adminToken: String?
    /// How often nodes heartbeat (told to them in `welcome`).
    public var heartbeatInterval: Duration
    /// Silence after which a node is `down` and its agents are placed elsewhere.
    public var heartbeatGrace: Duration
    /// Heartbeats per second the whole fleet may send (0: no limit). A fleet that needs more
    /// is told a longer interval, and its grace grows by as much (see `HeartbeatPace`); 50,
    /// as Nomad's `max_heartbeats_per_second`, keeps 5 s up to 250 nodes.
    public var maxHeartbeatsPerSecond: Double = 50
    /// After the manager starts, how long nodes have to reconnect before their silence counts:
    /// a node is `down` only after this plus `heartbeatGrace` without a heartbeat. It covers a
    /// node's reconnect backoff (5 s at most), so the manager's own restart moves no agent.
    public var reconnectGrace: Duration = .seconds(10)
    /// How often the reconciler, liveness check and task dispatcher run.
    public var reconcileInterval: Duration
    /// Largest WebSocket frame accepted, in bytes.
    public var maxFrameBytes: Int
    /// Timeout of a task that names none.
    public var defaultTaskTimeout: Double
    /// Longest timeout a task may ask for.
    public var maxTaskTimeout: Double
    /// The strategy of a deploy that names none.
    public var defaultStrategy: PlacementStrategy
    /// How many times its cores a node may promise in CPU requests (memory and GPUs never overcommit).
    /// 1.5 lets the seed's 4 CPU node hold 6 trading + 2 analysis + 4 risk agents.
    public var cpuOvercommit: Double
    /// How many other nodes an agent that crashed past its restart limit is tried on.
    public var maxFailovers: Int
    /// How often to rebalance on its own (`nil`: only when asked through the API).
    public var rebalanceInterval: Duration?
    /// Most agents one rebalance moves.
    public var rebalanceMaxMoves: Int
    /// The HMAC secret JWTs are signed with; when `nil`, the stored one, or a new one generated at first start.
    public var jwtSecret: String?
    /// The admin password of `POST /api/v1/auth/token`; when `nil`, the stored hash, or a new one printed at first start.
    public var adminPassword: String?
    /// How long a JWT from `POST /api/v1/auth/token` is valid, in seconds.
    public var jwtLifetime: Double
    /// Requests per second one credential may sustain (0: no limit).
    public var rateLimit: Double
    /// Requests one credential may make at once.
    public var rateBurst: Double
    /// A P-256 private key (PEM): JWTs are then ES256, signed with it, and HS256 ones are refused.
    public var jwtES256KeyPEM: String? = nil
    /// PEM certificate chain of the HTTPS API and `wss` gateway; TLS is on when this and `tlsKeyPath` are set.
    public var tlsCertificatePath: String?
    /// PEM private key of `tlsCertificatePath`.
    public var tlsKeyPath: String?
    /// `MASTER_SECRET_KEY`: the key agent secrets are encrypted with (see `MasterKey`); `nil`: a key file beside the store.
    public var masterSecretKey: String?

    /// Whether the manager serves HTTPS and `wss`.
    public var tlsEnabled: Bool { tlsCertificatePath != nil }

    public init(
        host: String = "127.0.0.1", port: Int = 8000, store: String = "sqlite:./drover.db", adminToken: String? = nil,
        heartbeatInterval: Duration = .seconds(5), heartbeatGrace: Duration = .seconds(15),
        reconcileInterval: Duration = .seconds(1), maxFrameBytes: Int = 1 << 20,
        defaultTaskTimeout: Double = 60, maxTaskTimeout: Double = 86_400, defaultStrategy: PlacementStrategy = .leastLoaded,
        cpuOvercommit: Double = 1.5, maxFailovers: Int = 1, rebalanceInterval: Duration? = nil, rebalanceMaxMoves: Int = 10,
        jwtSecret: String? = nil, adminPassword: String? = nil, jwtLifetime: Double = 3_600, rateLimit: Double = 50, rateBurst: Double = 100
    ) {
        self.jwtSecret = jwtSecret
        self.adminPassword = adminPassword
        self.jwtLifetime = jwtLifetime
        self.rateLimit = rateLimit
        self.rateBurst = rateBurst
        self.rebalanceInterval = rebalanceInterval
        self.rebalanceMaxMoves = rebalanceMaxMoves
        self.defaultStrategy = defaultStrategy
        self.cpuOvercommit = cpuOvercommit
        self.maxFailovers = maxFailovers
        self.host = host
        self.port = port
        self.store = store
        self.adminToken = adminToken
        self.heartbeatInterval = heartbeatInterval
        self.heartbeatGrace = heartbeatGrace
        self.reconcileInterval = reconcileInterval
        self.maxFrameBytes = maxFrameBytes
        self.defaultTaskTimeout = defaultTaskTimeout
        self.maxTaskTimeout = maxTaskTimeout
    }

    /// Checks values a user typed; the message names the flag.
    public func validate() throws {
        guard (0...65_535).contains(port) else { throw ConfigurationError("--port must be between 0 and 65535, got \(port)") }
        guard heartbeatInterval > .zero else { throw ConfigurationError("--heartbeat-interval must be positive") }
        guard heartbeatGrace > heartbeatInterval else {
            throw ConfigurationError("--heartbeat-grace must be longer than --heartbeat-interval")
        }
        guard maxHeartbeatsPerSecond >= 0, maxHeartbeatsPerSecond.isFinite else {
            throw ConfigurationError("--max-heartbeats-per-second may not be negative (0: no limit)")
        }
        guard reconnectGrace >= .zero, reconnectGrace <= .seconds(3_600) else {
            throw ConfigurationError("--reconnect-grace must be between 0 and 3600 seconds")
        }
        guard cpuOvercommit >= 1, cpuOvercommit <= 100 else { throw ConfigurationError("--cpu-overcommit must be between 1 and 100") }
        guard maxFailovers >= 0 else { throw ConfigurationError("--max-failovers may not be negative") }
        switch (tlsCertificatePath, tlsKeyPath) {
        case (.some, nil): throw ConfigurationError("--tls-cert needs --tls-key, the certificate's private key (PEM)")
        case (nil, .some): throw ConfigurationError("--tls-key needs --tls-cert, the certificate chain (PEM)")
        default: break
        }
        if let adminToken, adminToken.count < 16 {
            throw ConfigurationError("the admin token must be at least 16 characters long")
        }
        if let jwtSecret, jwtSecret.utf8.count < 32 {
            throw ConfigurationError("the JWT secret (--jwt-secret, JWT_SECRET) must be at least 32 bytes long")
        }
        if let adminPassword, adminPassword.count < 8 || adminPassword.utf8.count > 1024 {
            throw ConfigurationError("the admin password (--admin-password, ADMIN_PASSWORD) must be 8 to 1024 characters long")
        }
        guard jwtLifetime >= 1, jwtLifetime <= 30 * 86_400 else { throw ConfigurationError("--jwt-ttl must be between 1 second and 30 days") }
        guard rateLimit >= 0, rateLimit <= 1_000_000 else { throw ConfigurationError("--rate-limit must be between 0 (off) and 1000000 per second") }
        guard rateBurst >= 1, rateBurst <= 1_000_000 else { throw ConfigurationError("--rate-burst must be between 1 and 1000000") }
    }
}

/// A configuration value a user got wrong.
public struct ConfigurationError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
