import ArgumentParser
import VigilTools
import Dispatch
import Logging
import VigilPipeline
import VigilRuntime
import VigilServe
import ServiceLifecycle
import UnixSignals

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

            State (windows, alarm states, anomaly baselines, grades) is checkpointed every checkpoint.interval, \
            when partitions are revoked and on shutdown; a restarted or new member resumes each partition from \
            its snapshot. Stores: directory (atomic files under checkpoint.path; the instances of a group share \
            it, e.g. on shared storage; it records the cluster it was written against, and a run against \
            another cluster stops instead of restoring offsets that mean nothing there) or kafka (compacted \
            topic vigil.<pipeline>.checkpoints, one transaction per checkpoint with the outputs and offsets; \
            give each instance a stable --instance-id).

            The process runs --workers partition workers (default: the file's workers, else one per core). \
            Each is a member of the group with its own consumer and producer, owns the partitions the group \
            assigns it with all of their state, and runs on its own thread; on SIGTERM each checkpoints and \
            leaves. Outputs do not depend on the number of workers (Docs/workers.md).

            One HTTP server (Hummingbird) serves /metrics (Prometheus text), /healthz (alive) and /ready \
            (joined, state restored, tables read) on --http, or on 127.0.0.1 and the pipeline's metrics.port. \
            The query API and the dashboard are served by `vigil serve`.

            Examples:
              vigil run Pipelines/chemical-park.yaml --brokers kafka-1:9092,kafka-2:9092
              KAFKA_BROKERS=127.0.0.1:9092 vigil run Pipelines/coal-mine.yaml --http 0.0.0.0:9500
              vigil broker &   # then: vigil run Pipelines/chemical-park.yaml --brokers <printed address>
              vigil run Pipelines/chemical-park.yaml --checkpoint-path /mnt/shared/vigil/chemical-park
              vigil run Pipelines/chemical-park.yaml --checkpoint-store kafka --instance-id node-3
              vigil run Pipelines/chemical-park.yaml --workers 4
            """
    )

    @Argument(help: "The pipeline file.", completion: .file(extensions: ["yaml", "yml"]))
    var file: String

    @Option(help: "Bootstrap servers host:port[,…] (overrides the file's brokers).")
    var brokers: String?

    @Option(help: "host:port of /metrics, /healthz and /ready (default 127.0.0.1 and metrics.port; port 0 picks a free one).")
    var http: String?

    @Option(help: "Port of the HTTP server (the older spelling of --http's port; overrides metrics.port).")
    var metricsPort: Int?

    @Option(help: "Address of the HTTP server (the older spelling of --http's host).")
    var metricsAddress: String = "127.0.0.1"

    @Option(help: "session.timeout.ms of the consumer (use 6000 on the embedded broker).")
    var sessionTimeoutMs: Int?

    @Option(help: "Checkpoint store: directory, kafka or none (overrides checkpoint.store).")
    var checkpointStore: String?

    @Option(help: "Directory of the directory store (overrides checkpoint.path).")
    var checkpointPath: String?

    @Option(help: "Stable name of this instance for the kafka store's transactional.id (default: the host name).")
    var instanceID: String?

    @Option(help: "Partition workers in this process, 1…256 (default: the file's workers, else one per core).")
    var workers: Int?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func validate() throws {
        try validateLogLevel(logLevel)
        if let p = metricsPort, !(0...65535).contains(p) { throw ValidationError("--metrics-port must be in 0…65535") }
        if let http { try validateHTTP(http, example: "0.0.0.0:9464") }
        if let w = workers, !(1...256).contains(w) { throw ValidationError("--workers must be in 1…256, got \(w)") }
        if let s = checkpointStore, RunOptions.CheckpointStoreChoice(rawValue: s) == nil {
            throw ValidationError("--checkpoint-store must be directory, kafka or none")
        }
    }

    func run() async throws {
        let spec = try loadPipeline(file)
        bootstrapLogging(Logger.Level(rawValue: logLevel)!)
        var options = RunOptions()
        options.brokers = brokers
        options.sessionTimeoutMs = sessionTimeoutMs
        options.checkpointStore = checkpointStore.flatMap(RunOptions.CheckpointStoreChoice.init(rawValue:))
        options.checkpointPath = checkpointPath
        options.instanceID = instanceID
        options.workers = workers
        let logger = Logger(label: "vigil")
        do {
            let pipeline = PipelineRunner(spec: spec, options: options, logger: logger, registry: processMetrics).services()
            var services: [any Service] = [pipeline.consumer]
            // metrics.port 0 in the file turns the server off, unless a port is asked for.
            let (host, port) = http.flatMap(HTTPService.parseAddress) ?? (metricsAddress, metricsPort ?? spec.metrics.port)
            if port != 0 || http != nil || metricsPort != nil {
                let site = HTTPService.Site(registry: processMetrics, probes: pipeline.probes)
                services.insert(HTTPService(address: host, port: port, site: site, logger: logger), at: 0)
            }
            // SIGTERM and SIGINT shut the group down gracefully: the consumer finishes its batch, checkpoints
            // and leaves the group, then the HTTP server closes.
            try await serviceGroup(services, logger: logger, signals: [.sigterm, .sigint]).run()
        } catch {
            printError("vigil run: \(error)")
            throw ExitCode(1)
        }
    }
}

/// Turns SIGINT/SIGTERM into a stop request for a tool's loop (handled on a Dispatch queue, whichever thread
/// receives them).
func installStopSignals(_ stop: StopSignal) -> [any DispatchSourceSignal] {
    [SIGINT, SIGTERM].map { sig in
        signal(sig, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
        source.setEventHandler { stop.request() }
        source.resume()
        return source
    }
}
