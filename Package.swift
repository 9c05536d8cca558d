// swift-tools-version:6.0
import Foundation
import PackageDescription

/// Our own code is optimised in debug builds too, as in release: the tests train models, which
/// unoptimised code does in minutes rather than seconds. The dependencies stay unoptimised in a debug
/// build, which builds in about half the time of a release build on two cores; that is why
/// `scripts/test.sh` tests a debug build. (The driver says it ignores `-enable-batch-mode`: SwiftPM
/// asks for it in debug builds, and whole-module optimisation replaces it.)
let optimisedInDebug: [SwiftSetting] = [
    .unsafeFlags(["-O", "-whole-module-optimization", "-num-threads", "\(ProcessInfo.processInfo.activeProcessorCount)"],
                 .when(configuration: .debug)),
]

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
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.20.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.0"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.0"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.0"),
        .package(url: "https://github.com/apple/swift-nio-http2", from: "1.36.0"),
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
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            // The .proto is the source of the committed generated code (scripts/generate-protos.sh), not a resource.
            exclude: ["Export/ONNX/Protos"],
            swiftSettings: optimisedInDebug
        ),
        .executableTarget(
            name: "TestbedServer",
            dependencies: [
                "InferenceCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                // GRPC/MessageSizeGuard reads HTTP/2 frames of gRPC streams.
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
            ],
            exclude: ["GRPC/Protos"],
            resources: [.copy("Dashboard/site")],
            swiftSettings: optimisedInDebug
        ),
        .executableTarget(
            name: "benchmark",
            dependencies: [
                "InferenceCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                // The gRPC load generator (client-only generated code in Sources/benchmark/Generated).
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
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
        .testTarget(
            name: "BenchmarkTests",
            dependencies: ["benchmark"]
        ),
        .testTarget(
            name: "TestbedServerTests",
            dependencies: [
                "TestbedServer",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                // The generated gRPC client over grpc-swift's HTTP/2 transport, for the gRPC tests.
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
    ]
)
