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
        .library(name: "DoctorKit", targets: ["DoctorKit"]),
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
        .target(name: "Netfilter", dependencies: ["CNetfilter"], swiftSettings: swiftSettings),
        .target(name: "DoctorKit", dependencies: ["Netfilter", "CZlib"], swiftSettings: swiftSettings),
        // The policy file's YAML parser, apart from DoctorKit so Yams (and the CoreFoundation it brings) stays out of the engine.
        .target(name: "PolicyFile", dependencies: ["DoctorKit", .product(name: "Yams", package: "Yams")], swiftSettings: swiftSettings),
        .target(name: "Checks", dependencies: ["DoctorKit"], path: "Checks", swiftSettings: swiftSettings),
        // The wizard's pure part: cards, flows, trace and INVALID analysis. No I/O.
        .target(name: "Wizard", dependencies: ["DoctorKit", "Checks"], swiftSettings: swiftSettings),
        // The wizard on a host: terminal, signals, listeners, journaled temporary changes.
        .target(name: "WizardHost", dependencies: ["Wizard", "DoctorKit", "Checks", "Netfilter"], swiftSettings: swiftSettings),
        .target(
            name: "CTDoctorCLI",
            dependencies: ["DoctorKit", "Checks", "PolicyFile", "Wizard", "WizardHost", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "ctdoctor", dependencies: ["CTDoctorCLI"], swiftSettings: swiftSettings),
        .testTarget(name: "DoctorKitTests", dependencies: ["DoctorKit", "PolicyFile"], resources: [.copy("Fixtures")], swiftSettings: swiftSettings),
        .testTarget(name: "ChecksTests", dependencies: ["Checks", "DoctorKit"], swiftSettings: swiftSettings),
        .testTarget(name: "NetfilterTests", dependencies: ["Netfilter"], swiftSettings: swiftSettings),
        .testTarget(name: "WizardTests", dependencies: ["Wizard", "DoctorKit"], swiftSettings: swiftSettings),
        .testTarget(name: "CLITests", dependencies: ["CTDoctorCLI", "DoctorKit", "Checks"], swiftSettings: swiftSettings),
    ]
)
