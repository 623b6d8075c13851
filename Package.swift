// swift-tools-version:6.1
import PackageDescription

// Layers, top to bottom (each depends only on those below it):
//   fwsessiond (CLI, configuration, lifecycle)
//   FirewallAPI (routes, handlers, problem+json)      MicroHTTPServer (HTTP over libmicrohttpd)
//   FirewallService (the SessionStore actor, timers)
//   FirewallPipeline (every change through each sink in order: durable store, then kernel)
//   FirewallPersistence (SQLite; PostgreSQL for arrays)   FirewallDataPlane (nftables)
//   FirewallSessions (pure domain: sessions, binds, IP filters, rules, HResult)
//   StrictJSON (strict JSON reader and ordered writer), CMicroHTTPD, CSQLite, CLibPQ, CNFTables, CNetfilterGlue (C glue)
let package = Package(
    name: "fwsessiond",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "fwsessiond", targets: ["fwsessiond"]),
        // Libraries for the fuzz harness and the benchmark peer, which live in packages of their own.
        .library(name: "FirewallAPI", targets: ["FirewallAPI"]),
        .library(name: "FirewallService", targets: ["FirewallService"]),
        .library(name: "FirewallSessions", targets: ["FirewallSessions"]),
        .library(name: "FirewallPersistence", targets: ["FirewallPersistence"]),
        .library(name: "FirewallPipeline", targets: ["FirewallPipeline"]),
        .library(name: "StrictJSON", targets: ["StrictJSON"]),
        .library(name: "EventLoop", targets: ["EventLoop"]),
        .library(name: "MicroHTTPServer", targets: ["MicroHTTPServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CMicroHTTPD",
            pkgConfig: "libmicrohttpd",
            providers: [.apt(["libmicrohttpd-dev"])]
        ),
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .systemLibrary(
            name: "CNFTables",
            pkgConfig: "libnftables",
            providers: [.apt(["libnftables-dev"])]
        ),
        .target(
            name: "CNetfilterGlue",
            linkerSettings: [.linkedLibrary("nftnl"), .linkedLibrary("mnl")]
        ),
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .systemLibrary(
            name: "CGnuTLS",
            pkgConfig: "gnutls",
            providers: [.apt(["libgnutls28-dev"])]
        ),
        .target(
            name: "StrictJSON"
        ),
        .systemLibrary(name: "CEventLoop"),
        .target(
            name: "EventLoop",
            dependencies: ["CEventLoop"]
        ),
        .target(
            name: "MicroHTTPServer",
            dependencies: [
                "CMicroHTTPD",
                "EventLoop",
                "CGnuTLS",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "FirewallSessions",
            dependencies: [
                .product(name: "HeapModule", package: "swift-collections"),
            ]
        ),
        .target(
            name: "FirewallPipeline",
            dependencies: [
                "EventLoop", "FirewallSessions",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "FirewallPersistence",
            dependencies: [
                "CLibPQ",
                "CSQLite",
                "FirewallPipeline",
                "FirewallSessions",
                "StrictJSON",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "FirewallDataPlane",
            dependencies: [
                "CNFTables",
                "CNetfilterGlue",
                "FirewallPipeline",
                "FirewallSessions",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "FirewallService",
            dependencies: [
                "EventLoop",
                "FirewallPipeline",
                "FirewallSessions",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "FirewallAPI",
            dependencies: [
                "FirewallService",
                "FirewallSessions",
                "MicroHTTPServer",
                "StrictJSON",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "fwsessiond",
            dependencies: [
                "EventLoop",
                "FirewallAPI",
                "FirewallService",
                "FirewallPersistence",
                "FirewallPipeline",
                "FirewallDataPlane",
                "FirewallSessions",
                "MicroHTTPServer",
                "StrictJSON",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(name: "StrictJSONTests", dependencies: ["StrictJSON"]),
        .testTarget(name: "MicroHTTPServerTests", dependencies: ["MicroHTTPServer", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "FirewallSessionsTests", dependencies: ["FirewallSessions"]),
        .testTarget(name: "FirewallDataPlaneTests", dependencies: ["FirewallDataPlane", "FirewallPipeline", "FirewallSessions"]),
        .testTarget(
            name: "FirewallPipelineTests",
            dependencies: ["FirewallPipeline", "FirewallPersistence", "FirewallSessions", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "FirewallPersistenceTests",
            dependencies: ["FirewallPersistence", "FirewallPipeline", "FirewallSessions", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "FirewallServiceTests",
            dependencies: [
                "FirewallService", "FirewallPersistence", "FirewallPipeline", "FirewallSessions",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "FirewallAPITests",
            dependencies: [
                "FirewallAPI", "FirewallService", "FirewallPersistence", "FirewallSessions", "MicroHTTPServer", "StrictJSON",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// Every file imports the modules whose members it uses (SE-0444): a dependency reached only
// through another file's import would hide a layer crossing.
for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + [.enableUpcomingFeature("MemberImportVisibility")]
}
