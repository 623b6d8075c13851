// swift-tools-version:6.1
import PackageDescription

// The benchmark's peer: RetroactiveAllowBind's steady state written the idiomatic Hummingbird 2 way
// (an actor holding the same FirewallState, Foundation's JSON coders), to compare fwsessiond's
// libmicrohttpd path with. Built only by `make bench` and `make bench-build`, never by `make test`.
let package = Package(
    name: "HummingbirdPeer",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(name: "fwsessiond", path: "../../.."),
    ],
    targets: [
        .executableTarget(
            name: "HummingbirdPeer",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "FirewallSessions", package: "fwsessiond"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
