import Foundation
import Testing
import VigilTesting

/// The benchmark commands that need a broker, at tiny sizes: they must report what they promise (these are not
/// timed tests; figures come from release builds, `Benchmarks/RESULTS.md`).
@Suite(.serialized, .ownThreads, .timeLimit(.minutes(5)))
struct BenchSmokeTests {
    func jsonLine(_ out: String) throws -> [String: Any] {
        let lines = out.split(separator: "\n")
        #expect(lines.count == 1, "expected one JSON line: \(out)")
        return try #require(try JSONSerialization.jsonObject(with: Data((lines.first ?? "").utf8)) as? [String: Any])
    }

    @Test("vigil-bench latency at 300 readings/s reports percentiles of every crossing")
    func latencyReports() throws {
        let r = try runBench(["latency", "--rates", "300", "--seconds", "3", "--warm-up", "1", "--enterprises", "40", "--no-find-max"])
        #expect(r.status == 0, "stderr: \(r.err)")
        let object = try jsonLine(r.out)
        #expect(object["workload"] as? String == "W3")
        let rates = try #require(object["rates"] as? [[String: Any]])
        #expect(rates.count == 1)
        let point = try #require(rates.first)
        #expect(point["rate"] as? Int == 300)
        let crossings = try #require(point["crossings"] as? Int)
        let count = try #require(point["count"] as? Int)
        #expect(crossings >= 2 && count == crossings, "\(count) alerts for \(crossings) crossings")
        let (p50, p99, p999, max) = try (
            #require(point["p50_ms"] as? Double), #require(point["p99_ms"] as? Double), #require(point["p999_ms"] as? Double),
            #require(point["max_ms"] as? Double)
        )
        #expect(p50 > 0 && p50 <= p99 && p99 <= p999 && p999 <= max, "\(p50) \(p99) \(p999) \(max)")
        #expect(point["window_close"] is [String: Any])
        #expect(object["max_sustainable"] is NSNull)
    }

    @Test("vigil-bench e2e --workers 1,2 reports both counts and the scaling")
    func e2eWorkersReportsScaling() throws {
        let r = try runBench(["e2e", "--records", "40000", "--partitions", "8", "--passes", "1", "--workers", "1,2"])
        #expect(r.status == 0, "stderr: \(r.err)")
        let object = try jsonLine(r.out)
        let each = try #require(object["by_workers"] as? [[String: Any]])
        #expect(each.compactMap { $0["workers"] as? Int } == [1, 2])
        let scaling = try #require(object["scaling"] as? Double)
        let rates = each.compactMap { $0["records_per_s"] as? Double }
        #expect(rates.count == 2 && abs(scaling - rates[1] / rates[0]) < 1e-9)
        #expect(object["readings"] as? Int == 40_000)
    }

    @Test("vigil-bench checkpoint --workers 1,2 runs the job with both counts")
    func jobWorkersReportsScaling() throws {
        let r = try runBench(["checkpoint", "--records", "40000", "--partitions", "8", "--passes", "1", "--modes", "detectors", "--workers", "1,2"])
        #expect(r.status == 0, "stderr: \(r.err)")
        let lines = r.out.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(lines.compactMap { $0["workers"] as? Int } == [1, 2])
        #expect(lines.last?["scaling"] is Double)
        #expect(lines.allSatisfy { ($0["records"] as? Int ?? 0) > 0 })
    }

    @Test("--workers is checked")
    func badWorkers() throws {
        let r = try runBench(["e2e", "--workers", "1,x"])
        #expect(r.status != 0)
        #expect(r.err.contains("--workers must be worker counts"))
    }
}
