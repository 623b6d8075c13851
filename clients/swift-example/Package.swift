// swift-tools-version:6.1
import PackageDescription

// A client of fwsessiond generated from the repository's openapi.yaml (a symbolic link in the
// target) by swift-openapi-generator's build plugin, and a program that walks through the README's
// FTP story with it. A package of its own, built with its own scratch path
// (`swift build --package-path clients/swift-example --scratch-path .build-swift-client`), so that
// the server's build never carries the generator.
let package = Package(
    name: "swift-example",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: "https://github.com/apple/swift-openapi-generator", from: "1.14.3"),
        .package(url: "https://github.com/apple/swift-openapi-runtime", from: "1.13.4"),
        .package(url: "https://github.com/apple/swift-openapi-urlsession", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        .executableTarget(
            name: "FirewallWalkthrough",
            dependencies: [
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIURLSession", package: "swift-openapi-urlsession"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
