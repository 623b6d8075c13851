// swift-tools-version:6.1
import PackageDescription

// libFuzzer harnesses, built apart from the main package because every module must be compiled
// with -sanitize=fuzzer:
//   swift build -c release --package-path Tests/Fuzz -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library
// `make fuzz` builds and runs both for a bounded time.
let package = Package(
    name: "fwsessiond-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "fwsessiond", path: "../..")],
    targets: [
        .executableTarget(
            name: "RequestFuzzer",
            dependencies: [
                .product(name: "FirewallAPI", package: "fwsessiond"),
                .product(name: "FirewallService", package: "fwsessiond"),
                .product(name: "FirewallSessions", package: "fwsessiond"),
                .product(name: "MicroHTTPServer", package: "fwsessiond"),
            ]),
        .executableTarget(
            name: "ParserFuzzer",
            dependencies: [
                .product(name: "FirewallSessions", package: "fwsessiond"),
                .product(name: "StrictJSON", package: "fwsessiond"),
            ]),
    ],
    swiftLanguageModes: [.v6]
)
