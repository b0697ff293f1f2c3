import CLibFuzzer
import XDSCFuzzHarnesses

/// libFuzzer calls this once per input; a violated invariant stops the process.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    EnvoyHarness.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}

/// The process entry point (see Package.swift): libFuzzer's driver, with this harness.
@_cdecl("fuzz_envoy_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { fuzzTestOneInput($0, $1) }
}
