// swift-tools-version: 6.0
import PackageDescription

/// One set of compiler settings shared by every target (Swift 6 mode, strict concurrency).
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "Drover",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "drover", targets: ["drover"]),
        .library(name: "DroverCore", targets: ["DroverCore"]),
        .library(name: "DroverClient", targets: ["DroverClient"]),
        .library(name: "DroverAgentKit", targets: ["DroverAgentKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.13.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .target(
            name: "DroverCore",
            swiftSettings: swiftSettings
        ),
        .target(
            // Reading YAML within limits (alias bombs, deep nesting), for the manager and the node.
            name: "DroverYAML",
            dependencies: [.product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "DroverStore",
            dependencies: [
                "DroverCore",
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "DroverManager",
            dependencies: [
                "DroverCore",
                "DroverStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
                "DroverYAML",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "DroverNode",
            dependencies: [
                "DroverCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Yams", package: "Yams"),
                "DroverYAML",
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "DroverClient",
            dependencies: [
                "DroverCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "DroverAgentKit",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "drover",
            dependencies: [
                "DroverCore",
                "DroverStore",
                "DroverManager",
                "DroverNode",
                "DroverClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "swift-echo-agent",
            dependencies: ["DroverAgentKit"],
            path: "examples/agents/swift/EchoAgent",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "DroverTestSupport",
            dependencies: ["DroverClient", "DroverCore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "drover-bench-failover",
            dependencies: ["DroverTestSupport", "DroverClient", "DroverCore"],
            path: "Benchmarks/FailoverBenchmark",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "drover-bench-workflow",
            dependencies: ["DroverTestSupport", "DroverClient", "DroverCore"],
            path: "Benchmarks/WorkflowBenchmark",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "drover-bench-dispatch",
            dependencies: ["DroverTestSupport", "DroverClient", "DroverCore"],
            path: "Benchmarks/DispatchBenchmark",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "drover-bench-fleet",
            dependencies: [
                "DroverTestSupport", "DroverClient", "DroverCore",
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/FleetBenchmark",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "drover-bench-codec",
            dependencies: ["DroverCore"],
            path: "Benchmarks/CodecBenchmark",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "drover-bench-placement",
            dependencies: ["DroverCore"],
            path: "Benchmarks/PlacementBenchmark",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DroverCoreTests",
            dependencies: ["DroverCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DroverStoreTests",
            dependencies: ["DroverStore", "DroverCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DroverManagerTests",
            dependencies: [
                "DroverManager", "DroverCore", "DroverStore", "DroverTestSupport",
                .product(name: "JWTKit", package: "jwt-kit"), .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "DroverYAMLTests", dependencies: ["DroverYAML"], swiftSettings: swiftSettings),
        .testTarget(name: "DroverNodeTests", dependencies: ["DroverNode", "DroverCore", "DroverTestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "DroverIntegrationTests",
            dependencies: [
                "DroverClient", "DroverCore", "DroverStore", "DroverTestSupport",
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
