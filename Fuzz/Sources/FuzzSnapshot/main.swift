// `check --snapshot FILE`: the JSON decoder, then every check and report on what it decoded.
import DoctorCore
import FuzzSupport

runFuzzer { bytes in
    guard let snapshot = try? SnapshotFile.decode(bytes, path: "fuzz.json") else { return }
    judgeAndRender(snapshot)
}
