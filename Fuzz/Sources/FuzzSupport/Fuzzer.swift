import CFuzzer
import Foundation

/// The one input the fuzzer is trying now (a harness's body), reached from libFuzzer's C callback.
nonisolated(unsafe) private var currentBody: (([UInt8]) -> Void)?

/// Hands control to libFuzzer with `body` as the function under test; every libFuzzer flag on the command line works
/// (`-runs=N`, `-max_total_time=S`, corpus folders). A Swift executable has a main of its own, so libFuzzer's main is
/// not used: its documented entry for that case, LLVMFuzzerRunDriver, is.
public func runFuzzer(_ body: @escaping ([UInt8]) -> Void) -> Never {
    currentBody = body
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        currentBody?(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
        return 0
    })
}

/// libFuzzer's archive references the classic entry point even when LLVMFuzzerRunDriver is used.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    currentBody?(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}
