import ArgumentParser
import VigilPipeline
import VigilRuntime
import VigilTools

struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Produce realistic readings (and profiles, permits, hazards) for a pipeline, with injected incidents.",
        discussion: """
            One monitoring point per sensor type of the pipeline and enterprise, sampled with noise (and a daily \
            cycle for temperatures), plus incidents chosen by the seed: gas leak ramp, spike, level shift, slow \
            drift, stuck sensor, dropout (offline) and chattering around AL1. The ground truth (which sensor, \
            which incident, start and end) is written as JSON lines. Deterministic for a seed.

            Examples:
              vigil simulate --pipeline Pipelines/chemical-park.yaml --brokers 127.0.0.1:9092 --duration 5m
              vigil simulate --pipeline Pipelines/coal-mine.yaml --brokers B --enterprises 50 --rate 500 --seed 7 \\
                  --ground-truth /tmp/truth.jsonl
              vigil simulate --pipeline P.yaml --brokers B --duration 1h --fast    # an hour of data, now
              vigil simulate --pipeline P.yaml --brokers B --duration 2h --speed 60  # 2 h of event time in 2 min
            """
    )

    @Option(help: "The pipeline whose sensor types and topics to simulate.", completion: .file(extensions: ["yaml", "yml"]))
    var pipeline: String

    @Option(help: "Bootstrap servers (overrides the pipeline's).")
    var brokers: String?

    @Option(help: "Number of enterprises.")
    var enterprises: Int = 10

    @Option(help: "Readings per second of event time over all sensors (default: one per sensor per second).")
    var rate: Double?

    @Option(help: "Event time to simulate, e.g. 60s, 10m, 2h.")
    var duration: String = "60s"

    @Option(help: "Random seed.")
    var seed: UInt64 = 42

    @Flag(help: "Produce as fast as possible (event times end now) instead of in real time.")
    var fast = false

    @Option(help: "Event time runs this many times faster than real time, ending now (e.g. 120: 2h of data in 1 min).")
    var speed: Double = 1

    @Option(help: "Write the injected incidents here (JSON lines).", completion: .file())
    var groundTruth: String?

    func validate() throws {
        guard (1...100_000).contains(enterprises) else { throw ValidationError("--enterprises must be in 1…100000") }
        if let rate, !(rate > 0) { throw ValidationError("--rate must be > 0") }
        guard speed > 0 && speed.isFinite else { throw ValidationError("--speed must be > 0") }
        guard let d = parseDuration(duration), d > 0 else { throw ValidationError("--duration must be a duration such as 60s, 10m or 2h") }
        _ = d
    }

    func run() async throws {
        let spec = try loadPipeline(pipeline)
        var options = SimulationRun.Options(brokers: brokers ?? spec.brokers)
        options.enterprises = enterprises
        options.rate = rate
        options.duration = parseDuration(duration)!
        options.seed = seed
        options.fast = fast
        options.speed = speed
        options.groundTruthPath = groundTruth
        options.kafka = spec.kafka
        let stop = StopSignal()
        let sources = installStopSignals(stop)
        let settings = options
        let summary = try await onDedicatedThread(name: "vigil-simulate") {
            try SimulationRun.run(spec: spec, options: settings, stop: stop) { printError($0) }
        }
        withExtendedLifetime(sources) {}
        print(
            "simulated \(summary.readings) readings, \(summary.profiles) profiles, \(summary.permits) permits, "
                + "\(summary.hazards) hazards, \(summary.incidents.count) incidents"
                + (groundTruth.map { " (ground truth in \($0))" } ?? "")
        )
    }
}

/// `500ms`, `30s`, `5m`, `2h`, `1d`, `1h30m` → ms (the pipeline files' syntax).
func parseDuration(_ text: String) -> Int64? { PipelineLoader.parseDuration(text) }
