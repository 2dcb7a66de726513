import ArgumentParser
#if canImport(Glibc)
    import Glibc
#endif
import CAllocCounter
import VigilCore
import VigilKafka
import VigilPipeline
import VigilRuntime
import VigilTools
import VigilWorkloads

/// `vigil-bench`: the benchmark harness. It is its own executable, apart from the shipped `vigil`, because it
/// replaces malloc to count heap allocations (CAllocCounter).
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigil-bench",
        abstract: "Vigil's benchmark harness: run a built-in workload and print one JSON line.",
        discussion: """
            Build it in release mode (swift build -c release --product vigil-bench) and record figures, with the
            command that produced them, in Benchmarks/RESULTS.md.

            Examples:
              vigil-bench core                      # W1: the window engine, in memory
              vigil-bench core --detectors          # W1 plus alarm rules and anomaly scores per reading
              vigil-bench core --detectors --grading   # … and enterprise grading
              vigil-bench e2e                       # W2: JSON readings through the embedded Kafka cluster
              vigil-bench decode                    # the JSON decoder alone
            """,
        subcommands: [Core.self, EndToEnd.self, Decode.self, Checkpoint.self, Anomaly.self]
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
                  vigil-bench core
                  vigil-bench core --records 2000000 --repeat 5
                  vigil-bench core --quantiles        # W1-quantiles: adds p95 and EWMA
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

        @Flag(
            help:
                "Run W1 through the production partition pipeline with a threshold rule (and its alerts) and the anomaly scorer (and its records) on every reading; prints both rates and their ratio."
        )
        var detectors = false

        @Flag(
            help:
                "With --detectors: also grade the 2,000 enterprises (24 h alarm behaviour per reading, grade evaluated per alarm transition and per minute)."
        )
        var grading = false

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
            guard !grading || detectors else { throw ValidationError("--grading needs --detectors") }
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
            if detectors {
                var bestDetect: (W1Runner.Outcome, Int)? = nil
                for _ in 0..<`repeat` {
                    let r = W1Runner.runWithDetectors(batches: batches, spec: spec, grading: grading)
                    if bestDetect == nil || r.0.seconds < bestDetect!.0.seconds { bestDetect = r }
                }
                let d = bestDetect!.0
                print(
                    "{\"workload\":\"\(grading ? "W1+detectors+grading" : "W1+detectors")\",\"records\":\(d.records),\"seconds\":\(json(d.seconds)),"
                        + "\"records_per_s\":\(json(Double(d.records) / d.seconds)),\"w1_seconds\":\(json(o.seconds)),"
                        + "\"cost_ratio\":\(json(d.seconds / o.seconds)),\"anomaly_and_grade_records\":\(bestDetect!.1)}"
                )
                return
            }
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

extension BenchCommand {
    struct EndToEnd: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "e2e",
            abstract: "Workload W2: JSON readings through the embedded Kafka cluster (raw consume vs consume + decode + windows).",
            discussion: """
                Produces JSON readings of the W1 key space (40,000 sensors) to an in-process embedded cluster, \
                with enough partitions that no partition exceeds the mock broker's ~5 MiB retention, then reads \
                the topic in alternating passes: (a) raw batch consume, payloads untouched; (b) consume + decode \
                into batches + W1 window statistics. Only consuming is timed. Prints one JSON line with the best \
                rate of each and the ratio (b)/(a).

                Examples:
                  vigil-bench e2e
                  vigil-bench e2e --records 500000 --passes 3
                """
        )

        @Option(help: "Number of readings.")
        var records: Int = 2_000_000

        @Option(help: "Partitions of the input topic (keep records × ~90 B / partitions under 5 MiB).")
        var partitions: Int32 = 64

        @Option(help: "Measured passes of each kind; the best is reported.")
        var passes: Int = 2

        @Option(help: "Compression of the produced readings (none, lz4, zstd, gzip, snappy).")
        var compression: String = "lz4"

        func validate() throws {
            guard records > 0 else { throw ValidationError("--records must be > 0") }
            guard (1...256).contains(partitions) else { throw ValidationError("--partitions must be in 1…256") }
            guard KafkaProducerConfig.Compression(rawValue: compression) != nil else {
                throw ValidationError("--compression must be one of none, lz4, zstd, gzip, snappy")
            }
            guard passes > 0 else { throw ValidationError("--passes must be > 0") }
            if records / Int(partitions) * 90 > 5 * 1_048_576 {
                throw ValidationError(
                    "--records \(records) over \(partitions) partitions exceeds the embedded broker's ~5 MiB per partition; raise --partitions")
            }
        }

        func run() async throws {
            let (records, partitions, passes) = (records, partitions, passes)
            let codec = KafkaProducerConfig.Compression(rawValue: compression)!
            let o = try await onDedicatedThread(name: "vigil-bench-e2e") {
                try E2EBenchmark.run(records: records, partitions: partitions, passes: passes, compression: codec) { printError($0) }
            }
            print(
                "{\"workload\":\"W2\",\"records\":\(o.records),\"raw_seconds\":\(json(o.rawSeconds)),"
                    + "\"raw_records_per_s\":\(json(o.rawPerSecond)),\"seconds\":\(json(o.fullSeconds)),"
                    + "\"records_per_s\":\(json(o.fullPerSecond)),\"ratio\":\(json(o.ratio)),\"readings\":\(o.readings),"
                    + "\"rows\":\(o.rows),\"rejected\":\(o.rejected),\"payload_bytes\":\(o.payloadBytes),"
                    + "\"compression\":\"\(compression)\",\"raw_runs_s\":[\(o.rawRuns.map(json).joined(separator: ","))],\"runs_s\":[\(o.fullRuns.map(json).joined(separator: ","))]}"
            )
        }
    }
}

extension BenchCommand {
    struct Decode: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "decode",
            abstract: "Decode the W2 JSON readings from memory into batches (no Kafka).",
            discussion: """
                Decodes the W2 payloads (JSON readings of the W1 key space) from memory into reading batches, \
                three times, and prints one JSON line with the best readings/s and bytes/s.

                Examples:
                  vigil-bench decode
                  vigil-bench decode --records 5000000
                """
        )

        @Option(help: "Number of readings.")
        var records: Int = 1_000_000

        mutating func run() async throws {
            let payloads = E2EBenchmark.payloads(records: records)
            var best = Double.infinity
            var bytes = 0
            for p in payloads { bytes += p.count }
            for _ in 0..<3 {
                var decoder = ReadingDecoder()
                decoder.config.futureHorizon = nil
                decoder.config.pastHorizon = nil
                var batch = ReadingBatch(capacity: 10_000)
                var rejections: [DecodeRejection] = []
                let clock = ContinuousClock()
                let start = clock.now
                for (i, p) in payloads.enumerated() {
                    p.withUnsafeBytes { _ = decoder.decode(payload: $0, offset: Int64(i), now: nil, into: &batch, rejections: &rejections) }
                    if batch.count == 10_000 { batch.removeAll() }
                }
                let d = clock.now - start
                best = min(best, Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18)
            }
            print(
                "{\"workload\":\"decode\",\"records\":\(records),\"seconds\":\(json(best)),\"records_per_s\":\(json(Double(records) / best)),\"bytes_per_s\":\(json(Double(bytes) / best))}"
            )
        }
    }
}

func json(_ x: Double) -> String {
    x.isFinite ? "\(x)" : "null"
}

extension BenchCommand {
    struct Checkpoint: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "checkpoint",
            abstract: "The throughput cost of checkpointing on W2 (none vs directory vs kafka store).",
            discussion: """
                Produces the W2 readings to an in-process embedded cluster, then runs the full stream job \
                (consumer group, decode, W1 windows, rows produced) over them once per checkpoint mode, in \
                alternating passes, checkpointing every --interval. Prints one JSON line per mode with the best \
                wall time (first record to last), records/s, the checkpoints written and the ratio to 'none'.

                Examples:
                  vigil-bench checkpoint
                  vigil-bench checkpoint --records 1000000 --interval 1s --passes 3
                  vigil-bench checkpoint --modes none,detectors   # what alarms, anomaly scores and grades cost in the job
                """
        )

        @Option(help: "Number of readings.")
        var records: Int = 2_000_000

        @Option(help: "Partitions of the input topic (keep records × ~90 B / partitions under 5 MiB).")
        var partitions: Int32 = 64

        @Option(help: "Measured passes of each mode; the best is reported.")
        var passes: Int = 2

        @Option(help: "Checkpoint interval, e.g. 1s, 5s.")
        var interval: String = "5s"

        @Option(help: "Modes to run, comma-separated: none, directory, kafka, detectors (none plus alarms, anomaly scores and grades).")
        var modes: String = "none,directory,kafka"

        @Option(help: "Directory for the directory store's snapshots (removed after each pass).")
        var directory: String = "/tmp/vigil-bench-checkpoint"

        func validate() throws {
            guard records > 0 else { throw ValidationError("--records must be > 0") }
            guard (1...256).contains(partitions) else { throw ValidationError("--partitions must be in 1…256") }
            guard passes > 0 else { throw ValidationError("--passes must be > 0") }
            for m in modes.split(separator: ",") where !["none", "directory", "kafka", "detectors"].contains(m) {
                throw ValidationError("--modes: '\(m)' is not one of none, directory, kafka, detectors")
            }
            guard let i = PipelineLoader.parseDuration(interval), i > 0 else {
                throw ValidationError("--interval must be a duration such as 1s or 5s")
            }
            if records / Int(partitions) * 90 > 5 * 1_048_576 {
                throw ValidationError(
                    "--records \(records) over \(partitions) partitions exceeds the embedded broker's ~5 MiB per partition; raise --partitions")
            }
        }

        func run() async throws {
            let (records, partitions, passes, directory) = (records, partitions, passes, directory)
            let interval = PipelineLoader.parseDuration(interval)!
            let modes = modes.split(separator: ",").map(String.init)
            let results = try await onDedicatedThread(name: "vigil-bench-checkpoint") {
                try CheckpointBenchmark.run(
                    records: records, partitions: partitions, passes: passes, interval: interval, directory: directory, modes: modes
                ) {
                    printError($0)
                }
            }
            let baseline = results.first { $0.mode == "none" }?.seconds
            for r in results {
                print(
                    "{\"workload\":\"W2-checkpoint\",\"mode\":\"\(r.mode)\",\"records\":\(records),\"interval_ms\":\(interval),"
                        + "\"seconds\":\(json(r.seconds)),\"records_per_s\":\(json(Double(records) / r.seconds)),"
                        + "\"checkpoints\":\(r.checkpoints),\"last_snapshot_bytes\":\(r.snapshotBytes),"
                        + "\"last_checkpoint_s\":\(json(r.checkpointSeconds)),\"risk_records\":\(r.riskRecords),"
                        + "\"throughput_vs_none\":\(baseline.map { json($0 / r.seconds) } ?? "null")}"
                )
            }
        }
    }
}
