// swift-tools-version: 6.0
// libFuzzer harnesses for every parser ctdoctor feeds outside input. A package of its own, depending on the main one by
// path, so the fuzzing flags never touch the normal build. Build and run them with `Fuzz/run` (see README there).
import PackageDescription

let harnesses = [
    "FuzzSnapshot", "FuzzPolicy", "FuzzBaseline", "FuzzJournal", "FuzzProc", "FuzzKernelLog", "FuzzNftJSON", "FuzzIptables",
    "FuzzSosCommands", "FuzzNetlink", "FuzzListeners", "FuzzNftBytecode",
]

let package = Package(
    name: "ctdoctor-fuzz",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "ctdoctor", path: ".."),
        // The same Yams as the main package: FuzzPolicy checks the nesting pre-scan against what Yams builds.
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        .systemLibrary(name: "CFuzzer"),
        .target(name: "FuzzSupport", dependencies: [
            "CFuzzer", .product(name: "DoctorCore", package: "ctdoctor"), .product(name: "Checks", package: "ctdoctor"),
        ]),
    ] + harnesses.map { name in
        .executableTarget(
            name: name,
            dependencies: [
                "FuzzSupport",
                .product(name: "DoctorCore", package: "ctdoctor"),
                .product(name: "DoctorHost", package: "ctdoctor"),
                .product(name: "PolicyFile", package: "ctdoctor"),
                .product(name: "Netfilter", package: "ctdoctor"),
                .product(name: "Yams", package: "Yams"),
            ],
            path: "Sources/\(name)")
    }
)
