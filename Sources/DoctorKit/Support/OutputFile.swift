import Foundation

/// Writes a whole file or nothing: the text goes to a temporary file beside the target, then is renamed over it.
public enum OutputFile {
    public static func write(_ text: String, to path: String, flag: String = "--output") throws(InputError) {
        let target = URL(fileURLWithPath: path)
        let temp = target.deletingLastPathComponent()
            .appendingPathComponent(".\(target.lastPathComponent).tmp-\(getpid())")
        do {
            try Data(text.utf8).write(to: temp)
        } catch {
            throw InputError("\(flag) \(path): cannot write: \(SnapshotFile.reason(error))")
        }
        guard rename(temp.path, target.path) == 0 else {
            let why = String(cString: strerror(errno))
            unlink(temp.path)
            throw InputError("\(flag) \(path): cannot write: \(why)")
        }
    }
}
