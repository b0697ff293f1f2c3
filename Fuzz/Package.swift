// swift-tools-version:6.1
import PackageDescription

// libFuzzer entry points for the harnesses in ../Tests/XDSCFuzzHarnesses (linked here as
// Sources/XDSCFuzzHarnesses). Kept out of the main package so its builds never see the
// fuzzer flags. Build and run with `make fuzz` (see docs/fuzzing.md).
let harnessDependencies: [Target.Dependency] = [
    .product(name: "XDSCDriver", package: "xdsc"),
    // The proxy harness drives the downstream handlers on an EmbeddedChannel.
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "NIOHTTP1", package: "swift-nio"),
    .product(name: "NIOEmbedded", package: "swift-nio"),
]
// Each entry file defines `<module>_main` (SwiftPM links `main` to that name) and starts
// libFuzzer's driver from it, so it is parsed as a library, not as top-level code.
let entryPoint: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]

let package = Package(
    name: "xdsc-fuzz",
    dependencies: [
        // The explicit name keeps the identity `xdsc` whatever the checkout's folder is called.
        .package(name: "xdsc", path: ".."),
        // The version the main package resolves.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        .target(name: "XDSCFuzzHarnesses", dependencies: harnessDependencies),
        .target(name: "CLibFuzzer"),
        .executableTarget(name: "fuzz-lint", dependencies: ["XDSCFuzzHarnesses", "CLibFuzzer"], swiftSettings: entryPoint),
        .executableTarget(name: "fuzz-regex", dependencies: ["XDSCFuzzHarnesses", "CLibFuzzer"], swiftSettings: entryPoint),
        .executableTarget(name: "fuzz-shadowing", dependencies: ["XDSCFuzzHarnesses", "CLibFuzzer"], swiftSettings: entryPoint),
        .executableTarget(name: "fuzz-envoy", dependencies: ["XDSCFuzzHarnesses", "CLibFuzzer"], swiftSettings: entryPoint),
        .executableTarget(name: "fuzz-proxy", dependencies: ["XDSCFuzzHarnesses", "CLibFuzzer"], swiftSettings: entryPoint),
    ]
)
