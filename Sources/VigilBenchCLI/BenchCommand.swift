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
              vigil-bench latency                   # W3: reading-to-alert latency at fixed rates
            """,
        subcommands: [Core.self, EndToEnd.self, Decode.self, Checkpoint.self, Latency.self, Anomaly.self]
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
                With --workers 1,2 each pass reads the topic once per worker count (N threads, each with its own \
                consumer assigned every N-th partition, as the job's workers own disjoint partitions); the line \
                then carries "by_workers" and "scaling": the N-worker over the 1-worker rate of (b).

                Examples:
                  vigil-bench e2e
                  vigil-bench e2e --records 500000 --passes 3
                  vigil-bench e2e --workers 1,2 --passes 5
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

        @Option(help: "Worker counts to compare, comma-separated (e.g. 1,2); the first is the baseline of \"scaling\".")
        var workers: String = "1"

        func validate() throws {
            _ = try parseWorkers(workers)
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
            let counts = try parseWorkers(workers)
            let outcomes = try await onDedicatedThread(name: "vigil-bench-e2e") {
                try E2EBenchmark.run(records: records, partitions: partitions, passes: passes, compression: codec, workers: counts) {
                    printError($0)
                }
            }
            let o = outcomes[0]
            func runs(_ r: [Double]) -> String { "[\(r.map(json).joined(separator: ","))]" }
            var line =
                "{\"workload\":\"W2\",\"records\":\(o.records),\"workers\":\(o.workers),\"raw_seconds\":\(json(o.rawSeconds)),"
                + "\"raw_records_per_s\":\(json(o.rawPerSecond)),\"seconds\":\(json(o.fullSeconds)),"
                + "\"records_per_s\":\(json(o.fullPerSecond)),\"ratio\":\(json(o.ratio)),\"readings\":\(o.readings),"
                + "\"rows\":\(o.rows),\"rejected\":\(o.rejected),\"payload_bytes\":\(o.payloadBytes),"
            line += "\"compression\":\"\(compression)\",\"raw_runs_s\":\(runs(o.rawRuns)),\"runs_s\":\(runs(o.fullRuns))"
            if outcomes.count > 1 {
                let each = outcomes.map { w in
                    "{\"workers\":\(w.workers),\"raw_records_per_s\":\(json(w.rawPerSecond)),\"records_per_s\":\(json(w.fullPerSecond)),"
                        + "\"ratio\":\(json(w.ratio)),\"raw_runs_s\":\(runs(w.rawRuns)),\"runs_s\":\(runs(w.fullRuns))}"
                }
                let last = outcomes[outcomes.count - 1]
                line += ",\"by_workers\":[\(each.joined(separator: ","))],\"scaling\":\(json(last.fullPerSecond / o.fullPerSecond)),"
                line += "\"raw_scaling\":\(json(last.rawPerSecond / o.rawPerSecond))"
            }
            print(line + "}")
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
                best = min(best, d.inSeconds)
            }
            print(
                "{\"workload\":\"decode\",\"records\":\(records),\"seconds\":\(json(best)),\"records_per_s\":\(json(Double(records) / best)),\"bytes_per_s\":\(json(Double(bytes) / best))}"
            )
        }
    }
}

/// `--workers 1,2`: worker counts in 1…64.
func parseWorkers(_ text: String) throws -> [Int] {
    let counts = text.split(separator: ",").map { Int($0.filter { $0 != " " }) }
    guard !counts.isEmpty, counts.allSatisfy({ $0 != nil && (1...64).contains($0!) }) else {
        throw ValidationError("--workers must be worker counts in 1…64 separated by commas, like 1,2; got '\(text)'")
    }
    return counts.map { $0! }
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
                  vigil-bench checkpoint --modes detectors --workers 1,2   # the job's scaling with its workers

                With --workers 1,2 each mode runs once per worker count: N stream jobs in one consumer group, each \
                on its own thread, exactly as `vigil run --workers N` runs them (timed from the moment every worker \
                holds partitions); lines of N > first carry "scaling", the rate over the first count's.
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

        @Option(help: "Worker counts to run each mode with, comma-separated (e.g. 1,2).")
        var workers: String = "1"

        func validate() throws {
            _ = try parseWorkers(workers)
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
            let counts = try parseWorkers(workers)
            let results = try await onDedicatedThread(name: "vigil-bench-checkpoint") {
                try CheckpointBenchmark.run(
                    records: records, partitions: partitions, passes: passes, interval: interval, directory: directory, modes: modes,
                    workers: counts
                ) {
                    printError($0)
                }
            }
            for r in results {
                let baseline = results.first { $0.mode == "none" && $0.workers == r.workers }?.rate
                let single = results.first { $0.mode == r.mode && $0.workers == counts[0] }?.rate
                var line =
                    "{\"workload\":\"W2-checkpoint\",\"mode\":\"\(r.mode)\",\"workers\":\(r.workers),\"records\":\(r.records),"
                    + "\"interval_ms\":\(interval),\"seconds\":\(json(r.seconds)),\"records_per_s\":\(json(r.rate)),"
                line +=
                    "\"checkpoints\":\(r.checkpoints),\"last_snapshot_bytes\":\(r.snapshotBytes),"
                    + "\"last_checkpoint_s\":\(json(r.checkpointSeconds)),\"risk_records\":\(r.riskRecords),"
                    + "\"throughput_vs_none\":\(baseline.map { json(r.rate / $0) } ?? "null")"
                if r.workers != counts[0], let single { line += ",\"scaling\":\(json(r.rate / single))" }
                print(line + "}")
            }
        }
    }
}

extension BenchCommand {
    struct Latency: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "latency",
            abstract: "Workload W3: reading-to-alert latency through the job at fixed input rates (HdrHistogram percentiles).",
            discussion: """
                Per rate, on a fresh embedded cluster: `vigil run`'s consumer service (default settings: poll \
                batch 10,000, poll timeout 100 ms, producer linger 5 ms, checkpoints every 5 s to a directory) \
                runs the pipeline below while a generator produces readings of the plant simulator's key space \
                (--enterprises × 4 points) at the rate; 100 times a second a flammable-gas reading crosses AL2. A \
                separate consumer of the alert topic measures each crossing from its produce call to its \
                `raised` alert (one process, one monotonic clock); crossings of the warm-up are not counted. \
                The window path: time from a window's end plus the out-of-orderness (5 s, before which no row \
                can close) to the row read back. After the fixed rates the rate rises by half until it is not \
                sustained (the generator falls behind, an alert is missing or p99 passes 1 s).

                Output (one line): {"workload":"W3","rates":[{"rate":…,"p50_ms":…,"p99_ms":…,"p999_ms":…,"max_ms":…,…}],"max_sustainable":…}

                Examples:
                  vigil-bench latency
                  vigil-bench latency --rates 100000 --seconds 20 --no-find-max
                  vigil-bench latency --rates 200 --seconds 2 --warm-up 1 --enterprises 20 --no-find-max   # a smoke run
                """
        )

        @Option(help: "Input rates in readings/s, comma-separated.")
        var rates: String = "10000,50000,100000,200000"

        @Option(help: "Measured seconds per rate (≥ 15 for window rows: a 10 s window closes 5 s after its end).")
        var seconds: Double = 15

        @Option(help: "Seconds produced before measuring (the group joins, baselines warm up).")
        var warmUp: Double = 3

        @Option(help: "Enterprises of the key space (4 points each).")
        var enterprises: Int = 2_000

        @Option(help: "Workers of the job (default: one per core, as vigil run).")
        var workers: Int?

        @Flag(inversion: .prefixedNo, help: "After the fixed rates, search the maximum sustainable rate.")
        var findMax = true

        @Option(
            help: ArgumentHelp("A librdkafka setting for the job's clients (repeatable), to see what it does to latency.", valueName: "key=value"))
        var kafka: [String] = []

        @Option(help: "The job's checkpoint interval, e.g. 1s (default: the pipeline default, 5s).")
        var checkpointInterval: String?

        func validate() throws {
            guard let r = parsedRates, !r.isEmpty else {
                throw ValidationError("--rates must be positive integers separated by commas, like 10000,50000")
            }
            guard seconds > 0, warmUp >= 0 else { throw ValidationError("--seconds must be > 0 and --warm-up >= 0") }
            guard (1...100_000).contains(enterprises) else { throw ValidationError("--enterprises must be in 1…100000") }
            if let w = workers, !(1...64).contains(w) { throw ValidationError("--workers must be in 1…64") }
            for k in kafka where !k.contains("=") { throw ValidationError("--kafka takes key=value, got '\(k)'") }
            if let c = checkpointInterval, (PipelineLoader.parseDuration(c) ?? 0) <= 0 {
                throw ValidationError("--checkpoint-interval must be a duration such as 1s, got '\(c)'")
            }
        }

        var parsedRates: [Int]? {
            let r = rates.split(separator: ",").map { Int($0) }
            return r.allSatisfy { $0 != nil && $0! > 0 } ? r.map { $0! } : nil
        }

        func run() async throws {
            var options = LatencyBenchmark.Options()
            options.rates = parsedRates!
            options.seconds = seconds
            options.warmUp = warmUp
            options.enterprises = enterprises
            options.workers = workers
            options.findMaximum = findMax
            options.checkpointInterval = checkpointInterval.flatMap(PipelineLoader.parseDuration)
            for k in kafka {
                let parts = k.split(separator: "=", maxSplits: 1).map(String.init)
                options.kafka[parts[0]] = parts.count > 1 ? parts[1] : ""
            }
            let (points, maximum) = try await LatencyBenchmark.run(options) { printError($0) }
            func p(_ x: LatencyBenchmark.Percentiles) -> String {
                "\"p50_ms\":\(json(x.p50)),\"p99_ms\":\(json(x.p99)),\"p999_ms\":\(json(x.p999)),\"max_ms\":\(json(x.max)),\"count\":\(x.count)"
            }
            let each = points.map { r in
                "{\"rate\":\(r.rate),\"produced_per_s\":\(json(r.achievedRate)),\(p(r.alerts)),\"crossings\":\(r.crossings),"
                    + "\"sustained\":\(r.sustained),\"last_checkpoint_s\":\(json(r.checkpointSeconds)),\"window_close\":{\"out_of_orderness_ms\":\(r.outOfOrderness),\(p(r.windows))}}"
            }
            print("{\"workload\":\"W3\",\"rates\":[\(each.joined(separator: ","))],\"max_sustainable\":\(maximum.map(String.init) ?? "null")}")
        }
    }
}
