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
        .target(name: "Checks", dependencies: ["DoctorKit"], path: "Checks", swiftSettings: swiftSettings),
        .target(
            name: "CTDoctorCLI",
            dependencies: ["DoctorKit", "Checks", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "ctdoctor", dependencies: ["CTDoctorCLI"], swiftSettings: swiftSettings),
        .testTarget(name: "DoctorKitTests", dependencies: ["DoctorKit"], resources: [.copy("Fixtures")], swiftSettings: swiftSettings),
        .testTarget(name: "ChecksTests", dependencies: ["Checks", "DoctorKit"], swiftSettings: swiftSettings),
        .testTarget(name: "NetfilterTests", dependencies: ["Netfilter"], swiftSettings: swiftSettings),
        .testTarget(name: "CLITests", dependencies: ["CTDoctorCLI", "DoctorKit", "Checks"], swiftSettings: swiftSettings),
    ]
)
