import ArgumentParser
import Foundation
import Logging
import VigilPipeline
import VigilRuntime
import VigilServe
import VigilTools

#if canImport(Glibc)
    import Glibc
#endif

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the embedded Kafka cluster, the plant simulator and a pipeline in one process, and watch.",
        discussion: """
            Starts librdkafka's mock cluster on loopback, simulates a chemical park (gas detectors, oxygen, tank \
            temperature/pressure/level) with injected incidents at 60× real time, runs the pipeline as a \
            consumer-group member (decode → windows → window rows and dead letters), and reads the window rows \
            back like a downstream dashboard: progress every 2 s with the latest windows that crossed AL1/AL2 and \
            the latest alarm transitions (two-level threshold rules with deadband and delays), then a summary. \
            The dashboard (heat map, red and orange enterprises, open alerts, portraits), the query API and \
            /metrics are served on --http while it runs; its URL is printed first. Exits 0 when the duration \
            is over; --duration 0 runs until Ctrl-C.

            Examples:
              vigil demo
              vigil demo --duration 0 --enterprises 50    # then open the printed dashboard URL
              vigil demo --pipeline Pipelines/coal-mine.yaml --duration 30s
            """
    )

    @Option(
        help: "Pipeline file (default: Pipelines/chemical-park.yaml if present, else a built-in chemical park).",
        completion: .file(extensions: ["yaml", "yml"]))
    var pipeline: String?

    @Option(help: "Wall-clock duration, e.g. 60s or 2m; 0 runs until Ctrl-C.")
    var duration: String = "60s"

    @Option(help: "Simulated enterprises.")
    var enterprises: Int = 10

    @Option(help: "Seconds of event time simulated per second.")
    var speed: Int64 = 60

    @Option(help: "Random seed of the simulation.")
    var seed: UInt64 = 42

    @Option(help: "host:port of the dashboard, the query API and /metrics (port 0 picks a free one).")
    var http: String = "127.0.0.1:9464"

    func validate() throws {
        guard duration == "0" || parseDuration(duration) != nil else { throw ValidationError("--duration must look like 30s, 2m or 0") }
        guard (1...10_000).contains(enterprises) else { throw ValidationError("--enterprises must be in 1…10000") }
        guard (1...3_600).contains(speed) else { throw ValidationError("--speed must be in 1…3600") }
        try validateHTTP(http, example: "127.0.0.1:9464")
    }

    func run() async throws {
        let spec: PipelineSpec
        do {
            if let pipeline {
                spec = try PipelineLoader.load(path: pipeline)
            } else if FileManager.default.fileExists(atPath: "Pipelines/chemical-park.yaml") {
                spec = try PipelineLoader.load(path: "Pipelines/chemical-park.yaml")
            } else {
                spec = try PipelineLoader.parse(yaml: builtInPipeline, file: "<built-in chemical park>")
            }
        } catch {
            printError(error.detailedDescription())
            throw ExitCode(1)
        }
        bootstrapLogging(.warning)
        var options = Demo.Options()
        options.duration = duration == "0" ? 365 * 86_400_000 : parseDuration(duration)!
        options.enterprises = enterprises
        options.speed = speed
        options.seed = seed
        options.colour = isatty(1) != 0
        (options.httpAddress, options.httpPort) = HTTPService.parseAddress(http)!
        let stop = StopSignal()
        let sources = installStopSignals(stop)
        let settings = options
        let summary = try await onDedicatedThread(name: "vigil-demo") {
            try Demo.run(spec: spec, options: settings, stop: stop, logger: Logger(label: "vigil.demo")) { line in
                print(line)
                fflush(nil)
            }
        }
        withExtendedLifetime(sources) {}
        print("")
        print("Summary")
        print("  readings produced      \(summary.readingsProduced)")
        print("  readings processed     \(summary.readingsProcessed)")
        print("  window rows received   \(summary.windowRows)")
        print("  dead letters           \(summary.deadLetters)")
        print("  incidents injected     \(summary.incidents)")
        print("  windows ≥ AL1 / ≥ AL2  \(summary.alarmWindows["AL1"] ?? 0) / \(summary.alarmWindows["AL2"] ?? 0)")
        let alerts = summary.alerts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        print("  alert records          \(alerts.isEmpty ? "none" : alerts)")
        let grades = ["red", "orange", "yellow", "blue"].map { level in "\(level) \(summary.grades.values.filter { $0 == level }.count)" }
        print("  grades (latest)        \(grades.joined(separator: ", "))")
        print("  wall time              \(String(format: "%.1f", summary.wallSeconds)) s")
    }
}

/// Used when the demo runs outside a checkout (no Pipelines/ folder).
private let builtInPipeline = """
    name: chemical-park
    sources:
      readings: { topic: safety.readings, out_of_orderness: 5s }
    windows:
      - { name: minute, kind: tumbling, size: 1m, statistics: [count, mean, max, p95] }
    sensor_types:
      flammable_gas: { match: ["-GT-"], unit: "%LEL", al1: 25, al2: 50, range: [0, 100] }
      h2s: { match: ["-AT-H2S"], unit: mg/m3, al1: 10, al2: 20, range: [0, 100] }
      oxygen: { match: ["-O2-"], unit: "%VOL", l: 19.5, h: 23.5, range: [0, 30] }
      tank_temperature: { match: ["-TT-"], unit: degC, range: [-50, 300] }
    """
