import ArgumentParser
import Dispatch
import Logging
import VigilPipeline
import VigilRuntime

#if canImport(Glibc)
import Glibc
#endif

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a pipeline as a member of its Kafka consumer group until SIGINT or SIGTERM.",
        discussion: """
            Joins the pipeline's consumer group, decodes readings from its input topics, computes its windows \
            per assigned partition and produces window rows; bad and late records go to the dead-letter topic. \
            Start the same command on several machines to share the partitions; stopping one (SIGTERM) finishes \
            the batch, flushes, commits and leaves the group, and the others take its partitions over.

            /metrics (Prometheus text) and /healthz are served on the pipeline's metrics port.

            Examples:
              vigil run Pipelines/chemical-park.yaml --brokers kafka-1:9092,kafka-2:9092
              KAFKA_BROKERS=127.0.0.1:9092 vigil run Pipelines/coal-mine.yaml --metrics-port 9500
              vigil broker &   # then: vigil run Pipelines/chemical-park.yaml --brokers <printed address>
            """
    )

    @Argument(help: "The pipeline file.", completion: .file(extensions: ["yaml", "yml"]))
    var file: String

    @Option(help: "Bootstrap servers host:port[,…] (overrides the file's brokers).")
    var brokers: String?

    @Option(help: "Port of /metrics and /healthz (overrides metrics.port; 0 picks a free port).")
    var metricsPort: Int?

    @Option(help: "Address /metrics and /healthz bind to.")
    var metricsAddress: String = "0.0.0.0"

    @Option(help: "session.timeout.ms of the consumer (use 6000 on the embedded broker).")
    var sessionTimeoutMs: Int?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        if let p = metricsPort, !(0...65535).contains(p) { throw ValidationError("--metrics-port must be in 0…65535") }
    }

    func run() async throws {
        let spec = try loadPipeline(file)
        let level = Logger.Level(rawValue: logLevel)!
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var options = RunOptions()
        options.brokers = brokers
        options.metricsPort = metricsPort
        options.metricsAddress = metricsAddress
        options.sessionTimeoutMs = sessionTimeoutMs
        let runner = PipelineRunner(spec: spec, options: options, logger: Logger(label: "vigil"))
        let stop = StopSignal()
        let sources = installStopSignals(stop)
        let sendableRunner = UncheckedSendable(runner)
        do {
            try await onDedicatedThread(name: "vigil-pipeline") { try sendableRunner.value.run(stop: stop) }
        } catch {
            printError("vigil run: \(error)")
            throw ExitCode(1)
        }
        withExtendedLifetime(sources) {}
    }
}

/// Turns SIGINT/SIGTERM into a stop request (handled on a Dispatch queue, whichever thread receives them).
func installStopSignals(_ stop: StopSignal) -> [any DispatchSourceSignal] {
    [SIGINT, SIGTERM].map { sig in
        signal(sig, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
        source.setEventHandler { stop.request() }
        source.resume()
        return source
    }
}

/// Hands a non-Sendable object to exactly one other thread (the caller does not touch it meanwhile).
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
