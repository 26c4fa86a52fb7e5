// swift-tools-version: 6.0
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "ctdoctor",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "ctdoctor", targets: ["ctdoctor"]),
        .library(name: "DoctorCore", targets: ["DoctorCore"]),
        .library(name: "DoctorHost", targets: ["DoctorHost"]),
        // For the fuzz harnesses under Fuzz/, a package of their own that reaches the parsers through these.
        .library(name: "PolicyFile", targets: ["PolicyFile"]),
        .library(name: "Netfilter", targets: ["Netfilter"]),
        .library(name: "Checks", targets: ["Checks"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CNetfilter",
            pkgConfig: "libnetfilter_conntrack libmnl",
            providers: [.apt(["libnetfilter-conntrack-dev", "libmnl-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // Header-only: openat2(2) through syscall(2), which Swift cannot call (variadic).
        .systemLibrary(name: "CLinux"),
        .target(name: "Netfilter", dependencies: ["CNetfilter"], swiftSettings: swiftSettings),
        // The pure core: snapshot model, check protocol, findings, remediation plans, scoring, gate, policy
        // evaluation, reporters. No file, process, netlink or namespace access: it depends on nothing of the host.
        .target(name: "DoctorCore", swiftSettings: swiftSettings),
        // The host side: host root, command runner, probes, table streaming, namespaces, fix applier and journal.
        .target(name: "DoctorHost", dependencies: ["DoctorCore", "Netfilter", "CZlib", "CLinux"], swiftSettings: swiftSettings),
        // The policy file's YAML parser, apart from the core so Yams (and the CoreFoundation it brings) stays out of it.
        .target(name: "PolicyFile", dependencies: ["DoctorCore", .product(name: "Yams", package: "Yams")], swiftSettings: swiftSettings),
        // Checks see the core only, so a check that reaches for the host does not compile.
        .target(name: "Checks", dependencies: ["DoctorCore"], path: "Checks", swiftSettings: swiftSettings),
        // The wizard's pure part: cards, flows, trace and INVALID analysis. Core only: no I/O.
        .target(name: "Wizard", dependencies: ["DoctorCore", "Checks"], swiftSettings: swiftSettings),
        // The wizard on a host: terminal, signals, listeners, journaled temporary changes.
        .target(name: "WizardHost", dependencies: ["Wizard", "DoctorCore", "DoctorHost", "Checks", "Netfilter"], swiftSettings: swiftSettings),
        // `watch`'s pure part: interval aggregation, the checks' thresholds applied to rates, text and JSON lines.
        .target(name: "Watch", dependencies: ["DoctorCore"], swiftSettings: swiftSettings),
        // `watch` on a host: counters, the event listener and /dev/kmsg in one poll loop.
        .target(name: "WatchHost", dependencies: ["Watch", "DoctorCore", "DoctorHost", "Netfilter"], swiftSettings: swiftSettings),
        .target(
            name: "CTDoctorCLI",
            dependencies: ["DoctorCore", "DoctorHost", "Checks", "PolicyFile", "Wizard", "WizardHost", "Watch", "WatchHost", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "ctdoctor", dependencies: ["CTDoctorCLI"], swiftSettings: swiftSettings),
        // What the test targets share: the per-process folder their temporary files go under.
        .target(name: "TestSupport", path: "Tests/Support", swiftSettings: swiftSettings),
        .testTarget(name: "DoctorHostTests", dependencies: ["DoctorCore", "DoctorHost", "PolicyFile", "TestSupport"], resources: [.copy("Fixtures")], swiftSettings: swiftSettings),
        .testTarget(name: "ChecksTests", dependencies: ["Checks", "DoctorCore", "DoctorHost", "Watch"], swiftSettings: swiftSettings),
        .testTarget(name: "WatchTests", dependencies: ["Watch", "DoctorCore"], swiftSettings: swiftSettings),
        .testTarget(name: "NetfilterTests", dependencies: ["Netfilter"], swiftSettings: swiftSettings),
        .testTarget(name: "WizardTests", dependencies: ["Wizard", "DoctorCore", "DoctorHost"], swiftSettings: swiftSettings),
        .testTarget(name: "CLITests", dependencies: ["CTDoctorCLI", "DoctorCore", "DoctorHost", "Checks", "TestSupport"], swiftSettings: swiftSettings),
    ]
)
