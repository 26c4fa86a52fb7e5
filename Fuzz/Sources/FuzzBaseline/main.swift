// `--baseline REPORT.json`.
import DoctorCore
import FuzzSupport

runFuzzer { bytes in
    _ = try? Baseline.decode(bytes, path: "fuzz.json")
}
