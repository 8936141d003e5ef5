// swift-tools-version:6.0
// The Swift `Mote` module: async/await MQTT over the C core (CSources/), which SwiftPM
// compiles directly. No unsafeFlags, so other packages can depend on this one.
import PackageDescription

let package = Package(
    name: "Mote",
    products: [
        .library(name: "Mote", targets: ["Mote"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // The freestanding C core (MQTT codec + client, JSON).
        .target(
            name: "CMote",
            path: "CSources/mote",
            exclude: ["CMakeLists.txt"],
            sources: ["src"],
            publicHeadersPath: "include",
            cSettings: [
                .define("MOTE_MQTT_V5", to: "1"),
                .define("MOTE_MQTT_V311", to: "1"),
            ]
        ),
        // Hosted adapters: POSIX TCP, clock, mbedTLS transport. mbedTLS's libraries are
        // linked here because modulemap link lines only reach the linker on a Swift import.
        .target(
            name: "CMotePOSIX",
            dependencies: ["CMote"],
            path: "CSources/mote-posix",
            exclude: ["CMakeLists.txt"],
            sources: ["src"],
            publicHeadersPath: "include",
            cSettings: [
                .define("_POSIX_C_SOURCE", to: "200809L"),
                .define("_DEFAULT_SOURCE"),
            ],
            linkerSettings: [
                .linkedLibrary("mbedtls"),
                .linkedLibrary("mbedx509"),
                .linkedLibrary("mbedcrypto"),
            ]
        ),
        // Small C helpers the Swift side needs (wake-up fd, poll over socket + wake-up).
        .target(
            name: "CMoteShims",
            dependencies: ["CMote", "CMotePOSIX"],
            path: "Sources/CMoteShims",
            cSettings: [.define("_GNU_SOURCE")]
        ),
        .target(
            name: "Mote",
            dependencies: [
                "CMote", "CMotePOSIX", "CMoteShims",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Mote",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "MoteBench",
            dependencies: [
                "Mote",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/MoteBench",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .testTarget(
            name: "MoteTests",
            dependencies: ["Mote", "CMote", .product(name: "Logging", package: "swift-log")],
            path: "Tests/MoteTests",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
