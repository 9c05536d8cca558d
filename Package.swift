// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "AppliedAITestbed",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "testbed", targets: ["TestbedServer"]),
        .executable(name: "benchmark", targets: ["benchmark"]),
        .library(name: "InferenceCore", targets: ["InferenceCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .target(
            name: "InferenceCore",
            dependencies: [
                "CBLAS",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(
            name: "TestbedServer",
            dependencies: [
                "InferenceCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "benchmark",
            dependencies: [
                "InferenceCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "InferenceCoreTests",
            dependencies: ["InferenceCore"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "TestbedCLITests",
            dependencies: ["TestbedServer"]
        ),
    ]
)
