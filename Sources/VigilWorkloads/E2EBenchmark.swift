import VigilCore
import VigilRuntime
public import VigilKafka

/// Workload W2: JSON readings of the W1 key space through the embedded cluster, measured two ways in the same
/// run — (a) raw consume (librdkafka batch consume, payloads untouched) and (b) consume + decode into batches
/// + W1 window statistics — on the same records.
///
/// The mock broker keeps only about 5 MiB per partition, so the topic has enough partitions (64 by default)
/// that all readings fit (about 2.7 MB per partition for 2 M readings); producing is not timed. Each pass
/// reads the whole topic from offset 0 with a fresh consumer; passes alternate (a), (b), (a), (b)… and the
/// best time of each is reported.
public enum E2EBenchmark: Sendable {
    public struct Outcome: Sendable {
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
        records: Int, partitions: Int32 = 64, passes: Int = 2, compression: KafkaProducerConfig.Compression = .lz4,
        progress: (String) -> Void = { _ in }
    ) throws -> Outcome {
        let cluster = try EmbeddedKafkaCluster()
        // Clients are created and destroyed inside `measure`, so they are gone before the cluster.
        let outcome = try measure(
            cluster: cluster, records: records, partitions: partitions, passes: passes, compression: compression, progress: progress
        )
        withExtendedLifetime(cluster) {}
        return outcome
    }

    static func measure(
        cluster: EmbeddedKafkaCluster, records: Int, partitions: Int32, passes: Int,
        compression: KafkaProducerConfig.Compression, progress: (String) -> Void
    ) throws -> Outcome {
        let topic = "w2.readings"
        try cluster.createTopic(topic, partitions: partitions)
        let payloadBytes = try produce(cluster: cluster, topic: topic, records: records, compression: compression)
        progress("w2: produced \(records) readings (\(payloadBytes) payload bytes) to \(partitions) partitions")
        let assignment = (0..<partitions).map { KafkaTopicPartition(topic: topic, partition: $0, offset: 0) }
        func consumer() throws -> KafkaConsumer {
            var cc = KafkaConsumerConfig(bootstrapServers: cluster.bootstrapServers, groupID: "w2")
            cc.additionalConfig = [
                "log_level": "3", "fetch.message.max.bytes": "4194304", "queued.min.messages": "1000000", "queued.max.messages.kbytes": "2097151",
            ]
            return try KafkaConsumer(config: cc)
        }
        let clock = ContinuousClock()
        func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }
        var rawRuns: [Double] = []
        var fullRuns: [Double] = []
        var readings: Int64 = 0
        var rows: Int64 = 0
        var rejectedCount = 0
        for pass in 0..<passes {
            // (a) raw consume.
            do {
                let raw = try consumer()
                var got = 0
                let start = clock.now
                try raw.assign(assignment)
                while got < records {
                    got += try raw.poll(maxMessages: 10_000, timeoutMs: 1_000) { r in blackHoleInt(r.payload.count) }
                }
                rawRuns.append(seconds(clock.now - start))
            }
            // (b) consume + decode + W1 windows.
            do {
                let full = try consumer()
                // One decoder (key dictionary) per partition: slots stay dense per partition, as state is.
                var decoderConfig = ReadingDecoderConfig()
                decoderConfig.futureHorizon = nil
                decoderConfig.pastHorizon = nil
                var decoders = (0..<partitions).map { _ in ReadingDecoder(config: decoderConfig) }
                let spec = WindowSpec(kind: .tumbling(size: 60_000))
                let operators: [PaneWindowOperator] = (0..<partitions).map { _ in
                    PaneWindowOperator(spec: spec, watermark: Watermark(outOfOrderness: 0), expectedSensors: 1_024)
                }
                var batches = (0..<partitions).map { _ in ReadingBatch(capacity: 4_096) }
                var rejections: [DecodeRejection] = []
                var output = WindowResults()
                output.reserve(50_000)
                var late = LateRecords()
                readings = 0
                rows = 0
                var got = 0
                let start = clock.now
                try full.assign(assignment)
                while got < records {
                    got += try full.poll(maxMessages: 10_000, timeoutMs: 1_000) { r in
                        let p = Int(r.partition)
                        decoders[p].decode(payload: r.payload, offset: r.offset, now: nil, into: &batches[p], rejections: &rejections)
                    }
                    for p in 0..<Int(partitions) where !batches[p].isEmpty {
                        readings += Int64(batches[p].count)
                        operators[p].process(batches[p], into: &output, late: &late)
                        batches[p].removeAll()
                        rows += Int64(output.rowCount)
                        output.removeAll()
                        late.removeAll()
                    }
                }
                for op in operators {
                    op.finish(into: &output)
                    rows += Int64(output.rowCount)
                    output.removeAll()
                }
                fullRuns.append(seconds(clock.now - start))
                rejectedCount = rejections.count
            }
            progress("w2: pass \(pass + 1): raw \(rawRuns.last!) s, full \(fullRuns.last!) s")
        }
        return Outcome(
            records: records, rawSeconds: rawRuns.min()!, fullSeconds: fullRuns.min()!, rawRuns: rawRuns, fullRuns: fullRuns,
            readings: readings, rows: rows, rejected: rejectedCount, payloadBytes: payloadBytes
        )
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
