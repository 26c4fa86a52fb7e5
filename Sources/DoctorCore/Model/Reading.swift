/// The outcome of reading one fact from the host: the value, or why there is none.
///
/// Checks map the cases to statuses: `absent` usually means not-applicable (the kernel has no such
/// thing), `denied` means skipped (not permitted, e.g. not root), `failed` means error.
public enum Reading<Value: Sendable & Equatable & Codable>: Sendable, Equatable {
    case value(Value)
    /// Not present on this kernel or in this root (ENOENT and friends).
    case absent(String)
    /// Not permitted (EACCES, EPERM).
    case denied(String)
    /// Any other failure; the text says what happened.
    case failed(String)

    public var value: Value? {
        if case .value(let v) = self { return v }
        return nil
    }

    /// Why there is no value, or nil when there is one.
    public var problem: String? {
        switch self {
        case .value: return nil
        case .absent(let why), .denied(let why), .failed(let why): return why
        }
    }

    public func map<T>(_ transform: (Value) -> T) -> Reading<T> {
        switch self {
        case .value(let v): return .value(transform(v))
        case .absent(let why): return .absent(why)
        case .denied(let why): return .denied(why)
        case .failed(let why): return .failed(why)
        }
    }

    /// No source gave a value: the worst of their problems decides the case (failed > denied > absent); the text
    /// is the caller's, usually all of the reasons.
    public static func worst<Other>(of problems: [Reading<Other>], text: String) -> Reading {
        if problems.contains(where: { if case .failed = $0 { true } else { false } }) { return .failed(text) }
        if problems.contains(where: { if case .denied = $0 { true } else { false } }) { return .denied(text) }
        return .absent(text)
    }

    /// A fact a collection (a sosreport) did not keep: the host has it, the collection does not. Checks treat it like
    /// any value that cannot be seen (skipped, never not-applicable); the text starts with `notCollectedPrefix`.
    public static func notCollected(_ why: String) -> Reading { .denied(notCollectedPrefix + why) }
    public static var notCollectedPrefix: String { "not collected: " }

    public func flatMap<T>(_ transform: (Value) -> Reading<T>) -> Reading<T> {
        switch self {
        case .value(let v): return transform(v)
        case .absent(let why): return .absent(why)
        case .denied(let why): return .denied(why)
        case .failed(let why): return .failed(why)
        }
    }
}

/// Encoded as a one-key object: `{"value": …}`, `{"absent": "why"}`, `{"denied": "why"}`, `{"failed": "why"}`.
extension Reading: Codable {
    private enum Key: String, CodingKey { case value, absent, denied, failed }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        guard c.allKeys.count == 1, let key = c.allKeys.first else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: c.codingPath,
                debugDescription: "expected exactly one of value, absent, denied, failed"))
        }
        switch key {
        case .value: self = .value(try c.decode(Value.self, forKey: .value))
        case .absent: self = .absent(try c.decode(String.self, forKey: .absent))
        case .denied: self = .denied(try c.decode(String.self, forKey: .denied))
        case .failed: self = .failed(try c.decode(String.self, forKey: .failed))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        switch self {
        case .value(let v): try c.encode(v, forKey: .value)
        case .absent(let why): try c.encode(why, forKey: .absent)
        case .denied(let why): try c.encode(why, forKey: .denied)
        case .failed(let why): try c.encode(why, forKey: .failed)
        }
    }
}
