import Foundation
import Synchronization
import VigilCore
import VigilRuntime
public import VigilKafka

/// Workload W2: JSON readings of the W1 key space through the embedded cluster, measured two ways in the same
/// run — (a) raw consume (librdkafka batch consume, payloads untouched) and (b) consume + decode into batches
/// + W1 window statistics — on the same records.
///
/// The mock broker keeps only about 5 MiB per partition, so the topic has enough partitions (64 by default)
/// that all readings fit (about 2.7 MB per partition for 2 M readings); producing is not timed. Each pass
/// reads the whole topic from offset 0 with fresh consumers; passes alternate (a), (b), (a), (b)… and the
/// best time of each is reported. With several worker counts, each pass runs each count in turn; a run of N
/// workers is N threads, each with its own consumer assigned every N-th partition (one worker's state never
/// sees another's partitions, as in the job).
public enum E2EBenchmark: Sendable {
    public struct Outcome: Sendable {
        /// Consumers reading disjoint shares of the partitions, each on its own thread.
        public var workers: Int
        public var records: Int
        public var rawSeconds: Double
        public var fullSeconds: Double
        public var rawRuns: [Double]
        public var fullRuns: [Double]
        public var readings: Int64
        public var rows: Int64
        public var rejected: Int
        public var payloadBytes: Int
        public var rawPerSecond: Double { Double(records) / rawSeconds }
        public var fullPerSecond: Double { Double(records) / fullSeconds }
        /// (b) as a fraction of (a): 1.0 means decoding and windowing cost nothing on top of consuming.
        public var ratio: Double { rawSeconds / fullSeconds }
    }

    public static func run(
        records: Int, partitions: Int32 = 64, passes: Int = 2, compression: KafkaProducerConfig.Compression = .lz4, workers: [Int] = [1],
        progress: (String) -> Void = { _ in }
    ) throws -> [Outcome] {
        let cluster = try EmbeddedKafkaCluster()
        // Clients are created and destroyed inside `measure`, so they are gone before the cluster.
        let outcome = try measure(
            cluster: cluster, records: records, partitions: partitions, passes: passes, compression: compression, workers: workers,
            progress: progress
        )
        withExtendedLifetime(cluster) {}
        return outcome
    }

    /// Per worker count, in the order given: passes alternate (a), (b) for each count in turn.
    static func measure(
        cluster: EmbeddedKafkaCluster, records: Int, partitions: Int32, passes: Int,
        compression: KafkaProducerConfig.Compression, workers: [Int], progress: (String) -> Void
    ) throws -> [Outcome] {
        let topic = "w2.readings"
        try cluster.createTopic(topic, partitions: partitions)
        let payloadBytes = try produce(cluster: cluster, topic: topic, records: records, compression: compression)
        progress("w2: produced \(records) readings (\(payloadBytes) payload bytes) to \(partitions) partitions")
        var outcomes = workers.map {
            Outcome(
                workers: $0, records: records, rawSeconds: 0, fullSeconds: 0, rawRuns: [], fullRuns: [], readings: 0, rows: 0, rejected: 0,
                payloadBytes: payloadBytes)
        }
        let bootstrap = cluster.bootstrapServers
        for pass in 0..<passes {
            for (k, n) in workers.enumerated() {
                let raw = try timed(workers: n, target: records) { worker, done in
                    try rawConsume(brokers: bootstrap, topic: topic, partitions: share(partitions, worker: worker, of: n), done: done)
                }
                let full = try timed(workers: n, target: records) { worker, done in
                    try decodeAndWindow(brokers: bootstrap, topic: topic, partitions: share(partitions, worker: worker, of: n), done: done)
                }
                outcomes[k].rawRuns.append(raw.seconds)
                outcomes[k].fullRuns.append(full.seconds)
                outcomes[k].readings = full.totals.readings
                outcomes[k].rows = full.totals.rows
                outcomes[k].rejected = Int(full.totals.rejected)
                progress("w2: pass \(pass + 1), \(n) worker(s): raw \(raw.seconds) s, full \(full.seconds) s")
            }
        }
        for k in outcomes.indices {
            outcomes[k].rawSeconds = outcomes[k].rawRuns.min()!
            outcomes[k].fullSeconds = outcomes[k].fullRuns.min()!
        }
        return outcomes
    }

    /// The partitions worker `worker` of `count` reads (every count-th).
    static func share(_ partitions: Int32, worker: Int, of count: Int) -> [Int32] {
        (0..<partitions).filter { Int($0) % count == worker }
    }

    static func consumer(_ brokers: String) throws -> KafkaConsumer {
        var cc = KafkaConsumerConfig(bootstrapServers: brokers, groupID: "w2")
        cc.additionalConfig = [
            "log_level": "3", "fetch.message.max.bytes": "4194304", "queued.min.messages": "1000000", "queued.max.messages.kbytes": "2097151",
        ]
        return try KafkaConsumer(config: cc)
    }

    /// What a pass's workers counted.
    struct Totals: Sendable {
        var readings: Int64 = 0
        var rows: Int64 = 0
        var rejected: Int64 = 0
    }

    /// Runs `body` on `workers` threads at once (each with its own consumer) and times them from the start to
    /// the last one's end. `done(n)` adds `n` records read and tells a worker whether all `target` have been.
    static func timed(
        workers: Int, target: Int, _ body: @escaping @Sendable (_ worker: Int, _ done: @escaping @Sendable (Int) -> Bool) throws -> Totals
    ) throws -> (seconds: Double, totals: Totals) {
        let read = Atomic<Int>(0)
        let results = Mutex<[Result<Totals, any Error>]>([])
        let group = DispatchGroup()
        let clock = ContinuousClock()
        let start = clock.now
        for w in 0..<workers {
            group.enter()
            let thread = Thread {
                let r = Result { try body(w) { n in read.add(n, ordering: .relaxed).newValue >= target } }
                results.withLock { $0.append(r) }
                group.leave()
            }
            thread.name = "w2-worker-\(w)"
            thread.start()
        }
        group.wait()
        let elapsed = clock.now - start
        var totals = Totals()
        for r in results.withLock({ $0 }) {
            let t = try r.get()
            totals.readings += t.readings
            totals.rows += t.rows
            totals.rejected += t.rejected
        }
        return (elapsed.inSeconds, totals)
    }

    /// (a) Raw consume of `partitions`: payloads untouched.
    static func rawConsume(brokers: String, topic: String, partitions: [Int32], done: (Int) -> Bool) throws -> Totals {
        let raw = try consumer(brokers)
        try raw.assign(partitions.map { KafkaTopicPartition(topic: topic, partition: $0, offset: 0) })
        while true {
            let n = try raw.poll(maxMessages: 10_000, timeoutMs: 100) { r in blackHoleInt(r.payload.count) }
            if done(n) { break }
        }
        return Totals()
    }

    /// (b) Consume + decode into batches + W1 windows, with one decoder (key dictionary), batch and window
    /// operator per partition: slots stay dense per partition, as the job's state is.
    static func decodeAndWindow(brokers: String, topic: String, partitions: [Int32], done: (Int) -> Bool) throws -> Totals {
        let full = try consumer(brokers)
        var decoderConfig = ReadingDecoderConfig()
        decoderConfig.futureHorizon = nil
        decoderConfig.pastHorizon = nil
        let count = Int(partitions.max() ?? 0) + 1
        var decoders = (0..<count).map { _ in ReadingDecoder(config: decoderConfig) }
        let spec = WindowSpec(kind: .tumbling(size: 60_000))
        let operators: [PaneWindowOperator] = (0..<count).map { _ in
            PaneWindowOperator(spec: spec, watermark: Watermark(outOfOrderness: 0), expectedSensors: 1_024)
        }
        var batches = (0..<count).map { _ in ReadingBatch(capacity: 4_096) }
        var rejections: [DecodeRejection] = []
        var output = WindowResults()
        output.reserve(50_000)
        var late = LateRecords()
        var totals = Totals()
        try full.assign(partitions.map { KafkaTopicPartition(topic: topic, partition: $0, offset: 0) })
        while true {
            let n = try full.poll(maxMessages: 10_000, timeoutMs: 100) { r in
                let p = Int(r.partition)
                decoders[p].decode(payload: r.payload, offset: r.offset, now: nil, into: &batches[p], rejections: &rejections)
            }
            for p in partitions.map(Int.init) where !batches[p].isEmpty {
                totals.readings += Int64(batches[p].count)
                operators[p].process(batches[p], into: &output, late: &late)
                batches[p].removeAll()
                totals.rows += Int64(output.rowCount)
                output.removeAll()
                late.removeAll()
            }
            if done(n) { break }
        }
        for p in partitions.map(Int.init) {
            operators[p].finish(into: &output)
            totals.rows += Int64(output.rowCount)
            output.removeAll()
        }
        totals.rejected = Int64(rejections.count)
        return totals
    }

    /// The W2 payloads (JSON readings of the W1 key space) and their keys, generated deterministically.
    public static func payloads(records: Int) -> [[UInt8]] {
        let sensors = 40_000
        var value = [Double](repeating: 20, count: sensors)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var out: [[UInt8]] = []
        out.reserveCapacity(records)
        for i in 0..<records {
            let k = i % sensors
            let second = Int64(i / sensors)
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            value[k] += Double(Int64(state >> 40) - (1 << 23)) * 1e-8
            let e = pad(k / 20 + 1, 4)
            let ts = (1_700_000_040 + second) * 1_000 + Int64(k / 40)
            out.append(Array("{\"enterprise\":\"E\(e)\",\"sensor\":\"E\(e)-S\(pad(k % 20 + 1, 2))\",\"ts\":\(ts),\"value\":\(value[k])}".utf8))
        }
        return out
    }

    /// Produces the W2 readings (keyed by enterprise); returns the payload bytes.
    static func produce(
        cluster: EmbeddedKafkaCluster, topic: String, records: Int, compression: KafkaProducerConfig.Compression
    ) throws -> Int {
        var pc = KafkaProducerConfig(bootstrapServers: cluster.bootstrapServers)
        pc.lingerMs = 20
        pc.compression = compression
        pc.additionalConfig = ["log_level": "3", "batch.num.messages": "10000"]
        let producer = try KafkaProducer(config: pc)
        var payloadBytes = 0
        for text in payloads(records: records) {
            payloadBytes += text.count
            // The key is the enterprise id: bytes 15..<20 of the payload ("E0001").
            try producer.produce(topic: topic, key: Array(text[15..<20]), value: text)
        }
        try producer.flush(timeoutMs: 120_000)
        return payloadBytes
    }

    static func pad(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
}

@inline(never) func blackHoleInt(_ x: Int) { _ = x }
