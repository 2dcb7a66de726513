import Foundation
public import Hummingbird
public import Logging
public import Prometheus
public import ServiceLifecycle
import Synchronization
import Metrics
public import VigilRuntime

/// The one HTTP server of a process, on Hummingbird: `/metrics` (Prometheus text of the process's registry),
/// `/healthz` and `/ready`, and, when the process holds a live state, the query API under `/api/v1/` and the
/// dashboard at `/`. Everything is GET; nothing served can change state.
///
/// Start it first in the process's service group, so that it answers until the pipeline has left its group.
public struct HTTPService: Service, CustomStringConvertible {
    /// What the server exposes.
    public struct Site: Sendable {
        public var registry: PrometheusCollectorRegistry
        public var probes: HealthProbes
        /// The live state for the API and the dashboard (nil: `/api/` answers 404).
        public var live: LiveStore?
        public init(registry: PrometheusCollectorRegistry, probes: HealthProbes, live: LiveStore? = nil) {
            self.registry = registry
            self.probes = probes
            self.live = live
        }
    }

    public let address: String
    public let requestedPort: Int
    public let site: Site
    let logger: Logger
    /// The port bound, once the server listens (useful with port 0).
    public let bound = BoundPort()

    public init(address: String, port: Int, site: Site, logger: Logger) {
        self.address = address
        self.requestedPort = port
        self.site = site
        self.logger = logger
    }

    public var description: String { "http(\(address):\(requestedPort))" }

    public func run() async throws {
        let (address, bound, logger, live) = (self.address, self.bound, self.logger, site.live != nil)
        let app = Application(
            router: Self.router(site),
            configuration: ApplicationConfiguration(address: .hostname(address, port: requestedPort), serverName: "vigil"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                bound.set(port)
                logger.info("metrics on http://\(address):\(port)/metrics", metadata: ["port": "\(port)"])
                if live { logger.info("dashboard on http://\(address):\(port)/ (API under /api/v1/)") }
            },
            logger: logger)
        do {
            try await app.run()
        } catch {
            throw HTTPServiceError(description: "cannot serve on \(address):\(requestedPort): \(error)")
        }
    }

    /// The routes of `site`.
    public static func router(_ site: Site) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: MetricsMiddleware())
        let (registry, probes) = (site.registry, site.probes)
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        router.get("/healthz") { _, _ in probes.healthy() ? text(.ok, "ok\n") : text(.serviceUnavailable, "not running\n") }
        router.get("/ready") { _, _ in probes.ready() ? text(.ok, "ready\n") : text(.serviceUnavailable, "not ready\n") }
        QueryAPI(live: site.live).register(on: router)
        return router
    }
}

func text(_ status: HTTPResponse.Status, _ body: String, contentType: String = "text/plain; charset=utf-8") -> Response {
    Response(status: status, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(string: body)))
}

public struct HTTPServiceError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

/// The port a server bound, published from its start-up callback.
public final class BoundPort: Sendable {
    private let port = Mutex<Int?>(nil)
    public init() {}
    func set(_ p: Int) { port.withLock { $0 = p } }
    /// The port, waiting up to `seconds` for the server to listen; nil if it did not.
    public func wait(seconds: Double = 30) async -> Int? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let p = port.withLock({ $0 }) { return p }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    /// ``wait(seconds:)`` for a dedicated thread (never call it from a task: it blocks the thread).
    public func waitBlocking(seconds: Double = 30) -> Int? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let p = port.withLock({ $0 }) { return p }
            usleep(20_000)
        }
        return nil
    }
}

extension HTTPService {
    /// Parses `host:port` (`127.0.0.1:9464`, `0.0.0.0:0`); the host must be an IPv4 address or `localhost`.
    public static func parseAddress(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            return nil
        }
        let host = String(text[..<colon])
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        guard host == "localhost" || octets.count == 4 && octets.allSatisfy({ UInt8($0) != nil }) else { return nil }
        return (host, port)
    }
}

/// The process's metrics registry, also installed as swift-metrics' backend (once), so that what libraries
/// record through `MetricsSystem` (Hummingbird's request metrics) is on `/metrics` beside Vigil's own.
public let processMetrics: PrometheusCollectorRegistry = {
    let registry = PrometheusCollectorRegistry()
    MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    return registry
}()
