import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import CAllocCounter
import VigilCore
import VigilSimulator

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run a built-in benchmark workload and print one JSON line.",
        subcommands: [Core.self]
    )

    struct Core: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "core",
            abstract: "Workload W1 through the window engine (one core, in memory).",
            discussion: """
                W1: 40,000 sensors (2,000 enterprises × 20), one reading per sensor per second in event-time \
                order, 60 s tumbling windows computing count, mean, min, max and standard deviation per sensor. \
                Readings are generated before the clock starts; the measured region is window processing plus \
                the emission of every window row into a reusable buffer.

                Output (one line): {"workload":"W1","records":…,"seconds":…,"records_per_s":…,"allocs_per_record":…,…}

                Examples:
                  vigil bench core
                  vigil bench core --records 2000000 --repeat 5
                  vigil bench core --quantiles        # W1-quantiles: adds p95 and EWMA
                """
        )

        @Option(help: "Number of readings (a multiple of 40,000 keeps whole seconds).")
        var records: Int = 10_000_000

        @Option(help: "Readings per batch handed to the operator.")
        var batchSize: Int = 8_192

        @Option(help: "Runs to make; the best (fastest) is reported, all are listed in \"runs_s\".")
        var `repeat`: Int = 3

        @Flag(help: "W1-quantiles variant: also compute p95 and EWMA per window.")
        var quantiles = false

        @Option(
            help: ArgumentHelp(
                "Read W1 from the columns written by shared/bench/w1-data.py instead of generating it.",
                valueName: "dir"
            ),
            completion: .directory
        )
        var data: String?

        @Option(
            help: ArgumentHelp("Write every window row as CSV (enterprise,sensor,window_start_ms,count,mean,min,max,std).", valueName: "file"),
            completion: .file()
        )
        var rowsCsv: String?

        func validate() throws {
            guard records > 0 else { throw ValidationError("--records must be > 0") }
            guard batchSize > 0 else { throw ValidationError("--batch-size must be > 0") }
            guard `repeat` > 0 else { throw ValidationError("--repeat must be > 0") }
        }

        mutating func run() async throws {
            let batches: [ReadingBatch]
            var keys: [(Int32, Int32)]? = nil
            if let data {
                let loaded = try W1Columns.load(directory: data, batchSize: batchSize)
                batches = loaded.batches
                keys = loaded.keys
            } else {
                batches = W1Workload(records: records, batchSize: batchSize).makeBatches()
            }
            let spec = W1Workload.spec(quantiles: quantiles)
            var best: W1Runner.Outcome? = nil
            var bestAllocs: Int64 = 0
            var runs: [Double] = []
            for _ in 0..<`repeat` {
                var before: Int64 = 0
                var after: Int64 = 0
                let outcome = W1Runner.run(
                    batches: batches, spec: spec,
                    onStart: {
                        vigil_alloc_counter_enable(1)
                        before = vigil_alloc_counter_count()
                    },
                    onStop: {
                        after = vigil_alloc_counter_count()
                        vigil_alloc_counter_enable(0)
                    }
                )
                runs.append(outcome.seconds)
                if best == nil || outcome.seconds < best!.seconds {
                    best = outcome
                    bestAllocs = after - before
                }
            }
            let o = best!
            if let rowsCsv {
                try writeRows(batches: batches, spec: spec, keys: keys, to: rowsCsv)
            }
            let allocs = vigil_alloc_counter_available() != 0 ? json(Double(bestAllocs) / Double(o.records)) : "null"
            let line =
                "{\"workload\":\"\(quantiles ? "W1-quantiles" : "W1")\",\"records\":\(o.records),"
                + "\"seconds\":\(json(o.seconds)),\"records_per_s\":\(json(Double(o.records) / o.seconds)),"
                + "\"allocs_per_record\":\(allocs),\"allocations\":\(bestAllocs),\"rows\":\(o.rows),"
                + "\"late\":\(o.lateRecords),\"checksum\":\(json(o.checksum)),"
                + "\"runs_s\":[\(runs.map(json).joined(separator: ","))]}"
            print(line)
        }
    }
}

/// Runs W1 once more and writes every row as CSV (for checking against `ref.npz`).
func writeRows(batches: [ReadingBatch], spec: WindowSpec, keys: [(Int32, Int32)]?, to path: String) throws {
    let op = PaneWindowOperator(spec: spec, watermark: Watermark(outOfOrderness: 0), expectedSensors: W1Workload.sensors)
    var out = WindowResults()
    var late = LateRecords()
    for batch in batches { op.process(batch, into: &out, late: &late) }
    op.finish(into: &out)
    var text = "enterprise,sensor,window_start_ms,count,mean,min,max,std\n"
    text.reserveCapacity(out.rowCount * 90)
    for i in 0..<out.rowCount {
        let slot = Int(out.sensor[i])
        let (e, s) = keys?[slot] ?? (Int32(slot / W1Workload.sensorsPerEnterprise + 1), Int32(slot % W1Workload.sensorsPerEnterprise + 1))
        text += "\(e),\(s),\(out.windowStart[i]),\(out.count[i]),\(out.mean[i]),\(out.min[i]),\(out.max[i]),\(out.variance[i].squareRoot())\n"
    }
    guard let f = fopen(path, "w") else { throw ValidationError("cannot write \(path)") }
    defer { fclose(f) }
    fputs(text, f)
}

func json(_ x: Double) -> String {
    x.isFinite ? "\(x)" : "null"
}
