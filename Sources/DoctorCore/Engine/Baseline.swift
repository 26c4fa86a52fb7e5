import Foundation

/// An earlier report (`--baseline FILE`): the checks failing in it are known debt, so only new failures gate.
public enum Baseline {
    /// The ids of the checks that failed in the report read from `path` (named in errors only).
    public static func decode(_ raw: [UInt8], path: String) throws(InputError) -> Set<String> {
        let data = Data(raw)
        guard let object = try? JSONSerialization.jsonObject(with: data) else {
            throw InputError("--baseline \(path): not valid JSON (make one with `ctdoctor check --format json --output FILE`)")
        }
        guard let dict = object as? [String: Any], dict["schema"] as? String == Report.schemaID else {
            throw InputError("--baseline \(path): not a ctdoctor report (its \"schema\" is not \"\(Report.schemaID)\")")
        }
        do {
            return failing(try JSONDecoder().decode(Report.self, from: data))
        } catch let error as DecodingError {
            throw InputError("--baseline \(path): \(SnapshotFile.describe(error))")
        } catch {
            throw InputError("--baseline \(path): \(SnapshotFile.reason(error))")
        }
    }

    public static func failing(_ report: Report) -> Set<String> {
        Set(report.findings.filter { $0.status == .fail }.map(\.id))
    }
}
