// swift-tools-version:6.2
import PackageDescription

// The benchmark harness is its own package so that `make test` never builds it and the malloc
// interposer stays out of Vigil's own dependency graph. Run with `make bench` or
// `swift package --disable-sandbox benchmark` from this directory.
let package = Package(
    name: "VigilBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        // `name:` keeps the identity stable whatever the checkout folder is called.
        .package(name: "vigil", path: "../"),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "CoreBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "VigilCore", package: "vigil"),
                .product(name: "VigilWorkloads", package: "vigil"),
                .product(name: "VigilTesting", package: "vigil"),
            ],
            path: "Benchmarks/CoreBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
)
