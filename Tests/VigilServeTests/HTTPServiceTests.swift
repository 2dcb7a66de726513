import Foundation
import Logging
import Prometheus
import ServiceLifecycle
import Synchronization
import Testing
import VigilRuntime
import VigilTesting
@testable import VigilServe

/// The server on loopback (port 0), asked with curl as any client would.
@Suite struct HTTPServiceTests {
    /// Runs `body` against a server of `site`, and stops the server afterwards, checking that the port closed.
    ///
    /// The server's tasks run on their own thread (``ThreadExecutor``) and `body` (whose curl calls block) on
    /// another: other suites block the cooperative pool's threads (2 on this machine) for minutes with their
    /// broker calls, which would starve a server that needs the pool. `vigil` itself never blocks the pool.
    func withServer(_ site: HTTPService.Site, _ body: @escaping @Sendable (Int) throws -> Void) async throws {
        let executor = ThreadExecutor()
        try await Task(executorPreference: executor) {
            let server = HTTPService(address: "127.0.0.1", port: 0, site: site, logger: Logger(label: "test"))
            let group = serviceGroup([server], logger: Logger(label: "test"))
            let running = Task(executorPreference: executor) { try await group.run() }
            let port = try #require(await server.bound.wait(seconds: 30), "the server did not start")
            try await onDedicatedThread(name: "test-client") { try body(port) }
            await group.triggerGracefulShutdown()
            try await running.value
            let (status, _, _) = try await onDedicatedThread(name: "test-client") {
                try runProcess("/usr/bin/curl", ["-s", "-o", "/dev/null", "--max-time", "2", "http://127.0.0.1:\(port)/healthz"])
            }
            #expect(status != 0, "the server still answers after shutdown")
        }.value
    }

    /// Status, content type and body of one request.
    func get(_ port: Int, _ path: String, method: String = "GET") throws -> (status: Int, type: String, body: String) {
        let (_, out, err) = try runProcess(
            "/usr/bin/curl", ["-s", "-X", method, "--max-time", "10", "-w", "\n%{http_code} %{content_type}", "http://127.0.0.1:\(port)\(path)"])
        let lines = out.split(separator: "\n", omittingEmptySubsequences: false)
        let meta = (lines.last ?? "").split(separator: " ", maxSplits: 1)
        #expect(!meta.isEmpty, "curl \(path): \(err)")
        return (Int(meta.first ?? "") ?? 0, meta.count > 1 ? String(meta[1]) : "", lines.dropLast().joined(separator: "\n"))
    }

    func liveStore() -> LiveStore {
        let store = LiveStore()
        store.write { state in
            state.applyGrade(Records.grade("E1", "red", score: 88, ts: 1_000), at: 5)
            state.applyGrade(Records.grade("E2", "blue", score: 20, ts: 2_000, region: "south"), at: 5)
            state.applyAlert(Records.alert("E1-GT-1/flammable_gas/1000", "raised", ts: 1_000), at: 5)
        }
        return store
    }

    @Test("the API answers JSON; every bad request gets a 4xx JSON error naming its parameter; nothing is a 500")
    func api() async throws {
        let site = HTTPService.Site(
            registry: PrometheusCollectorRegistry(), probes: HealthProbes(healthy: { true }, ready: { true }), live: liveStore())
        let errorSchema = try MiniJSONSchema(path: packageRoot() + "/Schemas/api.v1.error.schema.json")
        try await withServer(site) { port in
            let good: [(String, String, (String) -> Bool)] = [
                ("/api/v1/enterprises?grade=red", "api.v1.enterprises", { $0.contains(#""enterprise":"E1""#) && !$0.contains(#""E2""#) }),
                ("/api/v1/enterprises/E1", "api.v1.enterprise", { $0.contains(#""open_alerts":[{"#) }),
                ("/api/v1/alerts?state=active&severity=yellow&department=safety", "api.v1.alerts", { $0.contains(#""total":1"#) }),
                ("/api/v1/heatmap?by=region", "api.v1.heatmap", { $0.contains(#""key":"north""#) && $0.contains(#""key":"south""#) }),
            ]
            for (path, schemaName, check) in good {
                let r = try get(port, path)
                #expect(r.status == 200 && r.type == "application/json" && check(r.body), "\(path): \(r)")
                let schema = try MiniJSONSchema(path: packageRoot() + "/Schemas/\(schemaName).schema.json")
                #expect(schema.validate(json: Data(r.body.utf8)).isEmpty, "\(path): \(schema.validate(json: Data(r.body.utf8)))")
            }
            let bad: [(String, Int, String?)] = [
                ("/api/v1/enterprises?grade=purple", 400, "grade"), ("/api/v1/enterprises?limit=5000", 400, "limit"),
                ("/api/v1/enterprises?offset=x", 400, "offset"), ("/api/v1/enterprises?sort=score", 400, "sort"),
                ("/api/v1/enterprises/E9", 404, "id"), ("/api/v1/enterprises/E1?verbose=1", 400, "verbose"),
                ("/api/v1/alerts?state=closed", 400, "state"), ("/api/v1/alerts?severity=AL1", 400, "severity"),
                ("/api/v1/alerts?limit=0", 400, "limit"), ("/api/v1/heatmap?by=district", 400, "by"), ("/api/v1/heatmap?by=", 400, "by"),
                ("/api/v2/heatmap", 404, nil), ("/api/v1/enterprises/E1/history", 404, nil),
            ]
            for (path, status, parameter) in bad {
                let r = try get(port, path)
                #expect(r.status == status && r.type == "application/json", "\(path): \(r)")
                #expect(errorSchema.validate(json: Data(r.body.utf8)).isEmpty, "\(path): \(r.body)")
                let body = try JSONDecoder().decode(API.ErrorBody.self, from: Data(r.body.utf8))
                #expect(body.error.status == status && body.error.parameter == parameter, "\(path): \(r.body)")
            }
            // Nothing writes: other methods are refused, never served.
            for method in ["POST", "PUT", "DELETE"] {
                let r = try get(port, "/api/v1/enterprises", method: method)
                #expect((400..<500).contains(r.status), "\(method): \(r)")
            }
            let page = try get(port, "/")
            #expect(page.status == 200 && page.type.hasPrefix("text/html") && page.body.contains(#"<table id="heatmap">"#))
            #expect(!page.body.contains("http://") && !page.body.contains("https://"), "the page loads nothing from elsewhere")
        }
    }

    @Test("/metrics renders the registry; /healthz and /ready follow their probes; no live state means /api answers 404")
    func probesAndMetrics() async throws {
        let registry = PrometheusCollectorRegistry()
        let metrics = RuntimeMetrics(pipeline: "p", registry: registry)
        metrics.update { $0.readings = 42 }
        let (healthy, ready) = (Switch(true), Switch(false))
        let probes = HealthProbes(healthy: { healthy.value.load(ordering: .relaxed) }, ready: { ready.value.load(ordering: .relaxed) })
        try await withServer(HTTPService.Site(registry: registry, probes: probes)) { port in
            let m = try get(port, "/metrics")
            #expect(m.status == 200 && m.type.hasPrefix("text/plain; version=0.0.4"))
            #expect(m.body.contains(#"vigil_readings_total{pipeline="p"} 42"#) && m.body.contains("# TYPE vigil_readings_total counter"), "\(m.body)")
            #expect(try get(port, "/healthz").status == 200 && get(port, "/ready").status == 503)
            ready.value.store(true, ordering: .relaxed)
            healthy.value.store(false, ordering: .relaxed)
            #expect(try get(port, "/healthz").status == 503 && get(port, "/ready") == (200, "text/plain; charset=utf-8", "ready\n"))
            let api = try get(port, "/api/v1/heatmap")
            #expect(api.status == 404 && api.body.contains("holds no live state"))
            #expect(try get(port, "/").status == 404)
        }
    }
}

/// A task executor on one dedicated thread (a serial Dispatch queue, outside the cooperative pool).
final class ThreadExecutor: TaskExecutor, @unchecked Sendable {
    // The queue is the only state, and Dispatch queues are thread-safe.
    private let queue = DispatchQueue(label: "vigil.test.executor")

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

final class Switch: Sendable {
    let value: Atomic<Bool>
    init(_ on: Bool) { value = Atomic(on) }
}

@Suite struct RuntimeMetricsTests {
    @Test("counters grow by what each step adds; a revoked partition's lag series goes away; batch latency is a histogram")
    func publishing() {
        let metrics = RuntimeMetrics(pipeline: "p")
        metrics.update { s in
            s.inputTopics = ["in"]
            s.readings = 10
            s.lag = ["in/0": 5, "in/1": 7]
            s.alerts = ["raised AL2": 2]
        }
        metrics.update { s in
            s.readings = 25
            s.lag = ["in/0": 0]
            s.alerts["raised AL2"] = 3
        }
        metrics.observeLatency(seconds: 0.003)
        metrics.observeLatency(seconds: 0.2)
        let lines = Set(metrics.render().split(separator: "\n").map(String.init))
        for expected in [
            #"vigil_readings_total{pipeline="p"} 25"#, #"vigil_alerts_total{pipeline="p",event="raised",level="AL2"} 3"#,
            #"vigil_consumer_lag{pipeline="p",topic="in",partition="0"} 0.0"#, #"vigil_records_in_total{pipeline="p",topic="in"} 0"#,
            #"vigil_batch_latency_seconds_bucket{pipeline="p",le="0.005"} 1"#, #"vigil_batch_latency_seconds_bucket{pipeline="p",le="0.25"} 2"#,
            #"vigil_batch_latency_seconds_count{pipeline="p"} 2"#, #"vigil_up{pipeline="p"} 0.0"#,
        ] {
            #expect(lines.contains(expected), "\(expected)\n\(lines.sorted().joined(separator: "\n"))")
        }
        #expect(!lines.contains { $0.contains(#"partition="1""#) })
    }

    @Test("several workers publish their sum; up and ready need every worker; a table counts as read when all have read it")
    func workersAreSummed() {
        let metrics = RuntimeMetrics(pipeline: "p")
        metrics.expectWorkers(2)
        metrics.update(worker: 0) { s in
            s.inputTopics = ["in"]
            s.readings = 10
            s.lag = ["in/0": 4]
            s.assignedPartitions = 1
            s.alerts = ["raised AL2": 1]
            s.tableTopics = ["t": ("profiles", 1, 8, true)]
            s.running = true
            s.lastStepAt = 2_000
        }
        #expect(!metrics.snapshot.running, "worker 1 has not started")
        #expect(metrics.snapshot.tableTopics["t"]?.complete == false)
        metrics.update(worker: 1) { s in
            s.inputTopics = ["in"]
            s.readings = 5
            s.lag = ["in/1": 3]
            s.assignedPartitions = 2
            s.alerts = ["raised AL2": 2, "cleared normal": 1]
            s.tableTopics = ["t": ("profiles", 1, 6, true)]
            s.running = true
            s.lastStepAt = 1_000
        }
        let s = metrics.snapshot
        #expect(s.running && s.readings == 15 && s.assignedPartitions == 3 && s.lastStepAt == 1_000)
        #expect(s.lag == ["in/0": 4, "in/1": 3] && s.alerts == ["raised AL2": 3, "cleared normal": 1])
        #expect(s.tableTopics["t"]?.read == 6 && s.tableTopics["t"]?.complete == true)
        let lines = Set(metrics.render().split(separator: "\n").map(String.init))
        for expected in [
            #"vigil_readings_total{pipeline="p"} 15"#, #"vigil_up{pipeline="p"} 1.0"#, #"vigil_assigned_partitions{pipeline="p"} 3.0"#,
            #"vigil_consumer_lag{pipeline="p",topic="in",partition="1"} 3.0"#,
        ] {
            #expect(lines.contains(expected), "\(expected)\n\(lines.sorted().joined(separator: "\n"))")
        }
        metrics.update(worker: 1) { $0.running = false }
        #expect(!metrics.snapshot.running)
        #expect(metrics.workerSnapshots.map(\.readings) == [10, 5])
    }
}
