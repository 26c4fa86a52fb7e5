// Kernel log: dmesg / kern.log text and /dev/kmsg records.
@testable import DoctorHost
import FuzzSupport

runFuzzer { bytes in
    _ = KernelLogProbe.parseText(text(bytes), source: "dmesg")
    _ = KernelLogProbe.parseKmsgRecord(bytes[...])
}
