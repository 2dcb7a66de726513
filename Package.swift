// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "vigil",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "VigilCore", targets: ["VigilCore"]),
        .library(name: "VigilKafka", targets: ["VigilKafka"]),
        .library(name: "VigilPipeline", targets: ["VigilPipeline"]),
        .library(name: "VigilRuntime", targets: ["VigilRuntime"]),
        .library(name: "VigilSimulator", targets: ["VigilSimulator"]),
        .executable(name: "vigil", targets: ["VigilCLI"]),
        // The benchmark harness: W1, W2 end to end, checkpoint cost, with heap-allocation counting.
        .executable(name: "vigil-bench", targets: ["VigilBenchCLI"]),
        // The W1 workloads and the end-to-end benchmarks, for `vigil-bench` and the Benchmarks package.
        .library(name: "VigilWorkloads", targets: ["VigilWorkloads"]),
        // Naive reference kernels and stream generators, for tests and the benchmark package.
        .library(name: "VigilTesting", targets: ["VigilTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // The HTTP server (metrics, health, the query API, the dashboard); without swift-configuration support.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: ["FullFoundation"]),
        // Latency percentiles of the benchmark harness (W3).
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"]), .brew(["librdkafka"])]
        ),
        // The engine: columnar batches, time, windows, statistics. No Kafka, no YAML, no logging backend.
        .target(name: "VigilCore", dependencies: ["CPrefetch"]),
        // A cache prefetch hint for the batch kernels (one static inline C function).
        .target(name: "CPrefetch"),
        // The only module that imports CRdKafka.
        .target(name: "VigilKafka", dependencies: ["CRdKafka", "VigilCore"]),
        .target(
            name: "VigilPipeline",
            dependencies: ["VigilCore", .product(name: "Yams", package: "Yams")]
        ),
        // The running job: consumer group, partition pipelines, tables, checkpoints, metrics.
        .target(
            name: "VigilRuntime",
            dependencies: [
                "VigilCore", "VigilKafka", "VigilPipeline", .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"), .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // What people and probes see over HTTP: one Hummingbird server per process with /metrics, /healthz,
        // /ready, the query API over the live state materialized from the output topics, and the dashboard.
        .target(
            name: "VigilServe",
            dependencies: [
                "VigilCore", "VigilKafka", "VigilPipeline", "VigilRuntime", .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"), .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .target(name: "VigilSimulator", dependencies: ["VigilCore", "VigilPipeline"]),
        // What the CLI offers besides running: the demo, simulation runs, score-csv, grade explanations.
        .target(
            name: "VigilTools",
            dependencies: [
                "VigilCore", "VigilKafka", "VigilPipeline", "VigilRuntime", "VigilServe", "VigilSimulator",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"), .product(name: "CSV", package: "CSV.swift"),
            ]
        ),
        .target(
            name: "VigilWorkloads",
            dependencies: [
                "VigilCore", "VigilKafka", "VigilPipeline", "VigilRuntime", "VigilSimulator", .product(name: "Logging", package: "swift-log"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]),
        // Counts heap allocations for `vigil-bench` (glibc malloc override, linked into that executable only).
        .target(name: "CAllocCounter"),
        .executableTarget(
            name: "VigilCLI",
            dependencies: [
                "VigilCore", "VigilKafka", "VigilPipeline", "VigilRuntime", "VigilServe", "VigilSimulator", "VigilTools",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "VigilBenchCLI",
            dependencies: [
                "VigilCore", "VigilKafka", "VigilPipeline", "VigilRuntime", "VigilSimulator", "VigilTools", "VigilWorkloads", "CAllocCounter",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(name: "VigilTesting", dependencies: ["VigilCore"], path: "Tests/VigilTesting"),
        .testTarget(name: "VigilCoreTests", dependencies: ["VigilCore", "VigilTesting"]),
        .testTarget(
            name: "VigilPipelineTests",
            dependencies: [
                "VigilPipeline", "VigilCore", "VigilSimulator", "VigilTesting", .product(name: "Yams", package: "Yams"),
            ],
            exclude: ["Fixtures"]
        ),
        // The pipelines' domain rules on records in memory (no broker): milliseconds per test.
        .testTarget(name: "VigilRuntimeTests", dependencies: ["VigilCore", "VigilPipeline", "VigilRuntime", "VigilTools", "VigilTesting"]),
        .testTarget(
            name: "VigilKafkaTests", dependencies: ["VigilKafka", "VigilCore", "VigilPipeline", "VigilRuntime", "VigilTools", "VigilTesting"]),
        // The live state, the query API, /metrics and the probes, over a real HTTP server on loopback.
        .testTarget(
            name: "VigilServeTests",
            dependencies: [
                "VigilServe", "VigilRuntime", "VigilTesting", .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // Runs the built `vigil` executable (built by `swift build --build-tests`).
        .testTarget(name: "VigilCLITests", dependencies: ["VigilTesting"]),
    ]
)

// Settings for every target in one place: explicit Sendable, explicit imports, `any` for existentials.
for target in package.targets where target.type != .system && target.type != .binary {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.treatWarning("ExplicitSendable", as: .error))
    target.swiftSettings = settings
}
