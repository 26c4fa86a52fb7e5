import Foundation

/// Decodes snapshot files, with errors that say what is wrong with which file.
public enum SnapshotFile {
    /// The snapshot in `raw`, read from `path` (named in errors only).
    public static func decode(_ raw: [UInt8], path: String) throws(InputError) -> HostSnapshot {
        let data = Data(raw)
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw InputError("--snapshot \(path): not valid JSON (truncated or damaged): \(Self.reason(error))")
        }
        guard let dict = object as? [String: Any], let schema = dict["schema"] as? String else {
            throw InputError("--snapshot \(path): not a ctdoctor snapshot (no \"schema\" field; make one with `ctdoctor snapshot`)")
        }
        guard schema == HostSnapshot.schemaID else {
            throw InputError("--snapshot \(path): schema is \"\(schema)\", this ctdoctor reads \"\(HostSnapshot.schemaID)\"")
        }
        do {
            return try JSONDecoder().decode(HostSnapshot.self, from: data)
        } catch let error as DecodingError {
            throw InputError("--snapshot \(path): \(Self.describe(error))")
        } catch {
            throw InputError("--snapshot \(path): \(Self.reason(error))")
        }
    }

    public static func describe(_ error: DecodingError) -> String {
        func at(_ path: [any CodingKey]) -> String {
            path.isEmpty ? "top level" : path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let ctx): return "missing \"\(key.stringValue)\" at \(at(ctx.codingPath))"
        case .typeMismatch(_, let ctx), .valueNotFound(_, let ctx), .dataCorrupted(let ctx):
            return "bad value at \(at(ctx.codingPath)): \(ctx.debugDescription)"
        @unknown default: return "\(error)"
        }
    }

    /// "path: reason" from HostRoot, without the path repeated.
    public static func errnoText(_ problem: String, path: String) -> String {
        problem.hasPrefix(path + ": ") ? String(problem.dropFirst(path.count + 2)) : problem
    }

    public static func reason(_ error: any Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if let debug = ns.userInfo[NSDebugDescriptionErrorKey] as? String { return debug }
        return ns.localizedDescription
    }
}
