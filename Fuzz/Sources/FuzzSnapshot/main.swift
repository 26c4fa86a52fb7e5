// `check --snapshot FILE`: the JSON decoder, then every check, and one output picked by the input's length.
import DoctorCore
import FuzzSupport

runFuzzer { bytes in
    guard let snapshot = try? SnapshotFile.decode(bytes, path: "fuzz.json") else { return }
    judgeAndRender(snapshot, format: bytes.count)
}
