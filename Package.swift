// swift-tools-version:6.1
import PackageDescription

// Stages and their dependencies point one way:
// Request <- Diagnostics <- Syntax <- Policy (IR) <- Analysis / Emit <- Driver <- xdsc (CLI).
// Request (the HTTP request value) is lowest: a diagnostic shows one, the Envoy model evaluates one.
// The Envoy model, the automata and the route analysis sit beside them so they can
// also read configuration that xdsc did not write.
let package = Package(
    name: "xdsc",
    products: [
        .executable(name: "xdsc", targets: ["xdsc"]),
        .library(name: "XDSCDriver", targets: ["XDSCDriver"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        // HTTP/2 (h2c) in the embedded proxy only.
        .package(url: "https://github.com/apple/swift-nio-http2", from: "1.46.0"),
    ],
    targets: [
        // C libraries, each behind exactly one Swift file.
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(name: "CJSONC", pkgConfig: "json-c", providers: [.apt(["libjson-c-dev"])]),
        .target(name: "CRE2Shim", linkerSettings: [.linkedLibrary("re2")]),

        // The HTTP request value (and its header map): what a diagnostic's example shows and
        // what the Envoy model, the route engine, the analysis, the proxy and the diff evaluate.
        .target(name: "XDSCRequest", dependencies: ["XDSCJSON"]),
        .target(name: "XDSCDiagnostics", dependencies: ["XDSCJSON", "XDSCRequest"]),
        .target(name: "XDSCSyntax", dependencies: ["XDSCDiagnostics", "CYAML"]),
        .target(name: "XDSCJSON", dependencies: ["CJSONC"]),
        .target(name: "XDSCRegex", dependencies: ["CRE2Shim"]),
        .target(name: "XDSCPolicy", dependencies: ["XDSCDiagnostics", "XDSCSyntax", "XDSCRegex", "XDSCRequest"]),
        .target(name: "XDSCAnalysis", dependencies: ["XDSCDiagnostics", "XDSCPolicy", "XDSCRegex"]),
        .target(name: "XDSCAutomata"),
        .target(name: "XDSCEnvoy", dependencies: ["XDSCDiagnostics", "XDSCJSON", "XDSCRegex", "XDSCRequest"]),
        .target(name: "XDSCEnvoyReader", dependencies: ["XDSCDiagnostics", "XDSCSyntax", "XDSCEnvoy", "XDSCJSON", "XDSCRequest"]),
        .target(name: "XDSCEmit", dependencies: ["XDSCDiagnostics", "XDSCPolicy", "XDSCEnvoy"]),
        .target(name: "XDSCRouteEngine", dependencies: ["XDSCDiagnostics", "XDSCEnvoy", "XDSCJSON", "XDSCRequest"]),
        .target(
            name: "XDSCRoutes",
            dependencies: ["XDSCDiagnostics", "XDSCEnvoy", "XDSCAutomata", "XDSCRegex", "XDSCRouteEngine", "XDSCRequest"]),
        .target(
            name: "XDSCDiff", dependencies: ["XDSCDiagnostics", "XDSCEnvoy", "XDSCJSON", "XDSCRouteEngine", "XDSCRoutes", "XDSCRequest"]),
        // The embedded proxy: executes the route engine's decisions over real sockets.
        .target(
            name: "XDSCProxy",
            dependencies: [
                "XDSCEnvoy", "XDSCRouteEngine", "XDSCJSON", "XDSCRequest", "XDSCDiagnostics",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
            ]),
        .target(
            name: "XDSCDriver",
            dependencies: [
                "XDSCDiagnostics", "XDSCSyntax", "XDSCJSON", "XDSCPolicy", "XDSCAnalysis",
                "XDSCEnvoy", "XDSCEnvoyReader", "XDSCEmit", "XDSCRoutes", "XDSCRouteEngine", "XDSCRegex", "XDSCDiff",
                "XDSCProxy", "XDSCRequest",
            ]),
        .executableTarget(
            name: "xdsc-bench", dependencies: ["XDSCRoutes", "XDSCAutomata", "XDSCRouteEngine", "XDSCEnvoy", "XDSCDriver", "XDSCRequest"]),
        .executableTarget(
            name: "xdsc",
            dependencies: [
                "XDSCDriver", "XDSCDiagnostics", "XDSCDiff", "XDSCProxy", "XDSCRequest",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // Helpers shared by the test targets (in no product): the ⟨marker⟩ text, the package
        // root and shared directory, the process runner.
        .target(
            name: "XDSCTestSupport", dependencies: ["XDSCDiagnostics", "XDSCDriver", "XDSCJSON", "XDSCEnvoy", "XDSCEnvoyReader"],
            path: "Tests/XDSCTestSupport"),

        // Fuzz harness bodies: the libFuzzer entry points in Fuzz/ and the corpus replay test run them.
        .target(
            name: "XDSCFuzzHarnesses",
            dependencies: [
                "XDSCRequest",
                "XDSCDriver", "XDSCDiagnostics", "XDSCAutomata", "XDSCRegex", "CRE2Shim", "XDSCEnvoy", "XDSCJSON", "XDSCRoutes",
                "XDSCEnvoyReader", "XDSCProxy", "XDSCRouteEngine",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            path: "Tests/XDSCFuzzHarnesses"),

        // One test target per module, named after it.
        .testTarget(name: "XDSCSyntaxTests", dependencies: ["XDSCSyntax", "XDSCDiagnostics", "XDSCDriver", "XDSCTestSupport"]),
        .testTarget(name: "XDSCJSONTests", dependencies: ["XDSCJSON", "XDSCTestSupport"]),
        .testTarget(name: "XDSCRegexTests", dependencies: ["XDSCRegex"]),
        .testTarget(name: "XDSCRequestTests", dependencies: ["XDSCRequest", "XDSCJSON"]),
        .testTarget(
            name: "XDSCDiagnosticsTests",
            dependencies: ["XDSCDiagnostics", "XDSCJSON", "XDSCRegex", "XDSCDriver", "XDSCTestSupport"]),
        .testTarget(name: "XDSCPolicyTests", dependencies: ["XDSCPolicy", "XDSCDiagnostics", "XDSCDriver", "XDSCTestSupport"]),
        .testTarget(
            name: "XDSCAnalysisTests", dependencies: ["XDSCAnalysis", "XDSCDiagnostics", "XDSCPolicy", "XDSCSyntax", "XDSCTestSupport"]),
        .testTarget(name: "XDSCAutomataTests", dependencies: ["XDSCAutomata", "XDSCRegex", "XDSCTestSupport"]),
        .testTarget(
            name: "XDSCEnvoyTests",
            dependencies: ["XDSCRequest", "XDSCEnvoy", "XDSCEnvoyReader", "XDSCDiagnostics", "XDSCJSON", "XDSCTestSupport"]),
        .testTarget(
            name: "XDSCEmitTests",
            dependencies: [
                "XDSCRequest",
                "XDSCEmit", "XDSCEnvoy", "XDSCEnvoyReader", "XDSCDiagnostics", "XDSCJSON", "XDSCRegex", "XDSCDriver",
                "XDSCRouteEngine", "XDSCTestSupport",
            ]),
        .testTarget(
            name: "XDSCDiffTests",
            dependencies: [
                "XDSCRequest", "XDSCDiff", "XDSCDriver", "XDSCEnvoy", "XDSCRouteEngine", "XDSCRoutes", "XDSCJSON", "XDSCTestSupport",
                "xdsc",
            ]),
        .testTarget(
            name: "XDSCRoutesTests",
            dependencies: [
                "XDSCRequest", "XDSCRoutes", "XDSCRouteEngine", "XDSCEnvoy", "XDSCEnvoyReader", "XDSCDiagnostics", "XDSCRegex",
                "XDSCTestSupport",
            ]),
        .testTarget(
            name: "XDSCDriverTests",
            dependencies: [
                "XDSCRequest", "XDSCDriver", "XDSCDiagnostics", "XDSCJSON", "XDSCTestSupport", "XDSCFuzzHarnesses", "XDSCProxy",
                "XDSCRouteEngine", "XDSCEnvoy",
            ]),
        .testTarget(
            name: "XDSCRouteEngineTests",
            dependencies: [
                "XDSCRequest",
                "XDSCRouteEngine", "XDSCEnvoy", "XDSCEnvoyReader", "XDSCRoutes", "XDSCDriver", "XDSCDiagnostics", "XDSCJSON",
                "XDSCTestSupport",
            ]),
        .testTarget(
            name: "XDSCEnvoyReaderTests",
            dependencies: [
                "XDSCEnvoyReader", "XDSCEnvoy", "XDSCDiagnostics", "XDSCSyntax", "XDSCDriver", "XDSCJSON", "XDSCTestSupport",
            ]),
        .testTarget(
            name: "XDSCProxyTests",
            dependencies: [
                "XDSCProxy", "XDSCEnvoy", "XDSCEnvoyReader", "XDSCDiagnostics", "XDSCRouteEngine", "XDSCJSON", "XDSCRequest",
                "XDSCTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
            ]),
        .testTarget(
            name: "XDSCCLITests",
            dependencies: [
                "XDSCRequest",
                "xdsc", "XDSCDriver", "XDSCPolicy", "XDSCDiagnostics", "XDSCJSON", "XDSCTestSupport",
            ]),
    ],
    cxxLanguageStandard: .cxx17
)
