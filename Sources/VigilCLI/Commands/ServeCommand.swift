import ArgumentParser
import Logging
import ServiceLifecycle
import UnixSignals
import VigilPipeline
import VigilRuntime
import VigilServe
import VigilTools

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a pipeline's live risk state: the query API and the dashboard, for the whole group.",
        discussion: """
            Reads the pipeline's grades and alerts topics, every partition from the beginning (read committed, \
            no consumer group), into in-memory tables, and serves them until SIGINT or SIGTERM: one answer for \
            the whole consumer group from one URL, however many `vigil run` instances share the partitions. \
            Several `vigil serve` processes may run side by side (each reads everything).

            Served (GET only; nothing can change state):
              /                                the dashboard (heat map, red and orange enterprises, open alerts,
                                               an enterprise's 24 h grade timeline), updated every 2 s
              /api/v1/enterprises              ?grade=red,orange &region=R &industry=I &limit=100 &offset=0
              /api/v1/enterprises/{id}         the risk portrait: the newest grade record, 24 h of grades
              /api/v1/alerts                   ?state=active|overdue &severity=red,… &department=D &enterprise=E
              /api/v1/heatmap                  ?by=region|industry
              /metrics  /healthz  /ready       (/ready once every partition has been read to its end)
            A bad parameter gets a 400 (an unknown enterprise a 404) with a JSON error naming it. Response \\
            schemas: Schemas/api.v1.*.schema.json.

            Examples:
              vigil serve --pipeline Pipelines/chemical-park.yaml --brokers kafka-1:9092
              vigil serve --pipeline Pipelines/chemical-park.yaml --http 0.0.0.0:8080
            """
    )

    @Option(help: "The pipeline whose grades and alerts topics are served.", completion: .file(extensions: ["yaml", "yml"]))
    var pipeline: String

    @Option(help: "Bootstrap servers host:port[,…] (overrides the file's brokers).")
    var brokers: String?

    @Option(help: "host:port to serve on (port 0 picks a free one).")
    var http: String = "127.0.0.1:8080"

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func validate() throws {
        try validateLogLevel(logLevel)
        try validateHTTP(http, example: "127.0.0.1:8080")
    }

    func run() async throws {
        let spec = try loadPipeline(pipeline)
        bootstrapLogging(Logger.Level(rawValue: logLevel)!)
        let logger = Logger(label: "vigil.serve")
        var config = LiveStateFeed.Config(brokers: brokers ?? spec.brokers, gradesTopic: spec.sinks.grades, alertsTopic: spec.sinks.alerts)
        config.additional = spec.kafka
        let store = LiveStore()
        let feed = LiveStateFeed(config: config, store: store, logger: logger)
        let (host, port) = HTTPService.parseAddress(http)!
        let server = HTTPService(
            address: host, port: port, site: .init(registry: processMetrics, probes: feed.probes, live: store), logger: logger)
        do {
            try await serviceGroup([server, feed], logger: logger, signals: [.sigterm, .sigint]).run()
        } catch {
            printError("vigil serve: \(error)")
            throw ExitCode(1)
        }
    }
}
