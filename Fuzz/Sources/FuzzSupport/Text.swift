/// Fuzz input as the probes see files: bytes decoded as UTF-8 with invalid sequences replaced, as `HostRoot.read` does.
public func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

/// The first byte picks one of `count` parsers (so one harness covers a family of formats); the rest is the input.
public func pick(_ bytes: [UInt8], among count: Int) -> (Int, [UInt8]) {
    guard let first = bytes.first else { return (0, []) }
    return (Int(first) % count, Array(bytes.dropFirst()))
}
