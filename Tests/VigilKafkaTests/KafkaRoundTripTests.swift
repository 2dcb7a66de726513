import Foundation
import Synchronization
import Testing
@testable import VigilKafka
import VigilTesting

@Suite(.serialized, .ownThreads, .timeLimit(.minutes(10)))
struct KafkaRoundTripTests {
    @Test(
        "Produce → consume round trip with keys, headers and compression",
        arguments: [
            KafkaProducerConfig.Compression.lz4, .zstd,
        ])
    func roundTrip(compression: KafkaProducerConfig.Compression) throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 2)
        let topic = uniqueName("roundtrip")
        try cluster.createTopic(topic, partitions: 3)
        let producer = try KafkaProducer(config: producerConfig(cluster.bootstrapServers, compression: compression))
        let count = 3_000
        for i in 0..<count {
            try producer.produce(
                topic: topic, key: Array("k\(i % 17)".utf8), value: Array("{\"i\":\(i)}".utf8),
                headers: [KafkaHeader(name: "vigil.test", string: "h\(i)")]
            )
        }
        try producer.flush()
        #expect(producer.deliveredCount == Int64(count) && producer.failedCount == 0)

        let consumer = try KafkaConsumer(config: consumerConfig(cluster.bootstrapServers, group: uniqueName("g")))
        try consumer.subscribe([topic])
        var seen = Set<Int>()
        var keysByPartition: [String: Int32] = [:]
        var consistent = true
        try pollUntil(
            consumer, seconds: 30,
            { r in
                let text = String(decoding: r.payload, as: UTF8.self)
                let i = Int(text.dropFirst(5).dropLast())!
                seen.insert(i)
                let key = String(decoding: r.key!, as: UTF8.self)
                if let p = keysByPartition[key], p != r.partition { consistent = false }
                keysByPartition[key] = r.partition
                #expect(r.topicName == topic)
            }, done: { seen.count == count })
        #expect(seen.count == count)
        #expect(consistent, "a key must always land in the same partition")
        #expect(Set(keysByPartition.values).count > 1, "keys should spread over partitions")
        try consumer.close()
    }

    @Test func configurationErrorsNameTheKeyButNotSecrets() throws {
        var config = KafkaProducerConfig(bootstrapServers: "127.0.0.1:1")
        config.additionalConfig["no.such.setting"] = "1"
        #expect(throws: KafkaError.self) { try KafkaProducer(config: config) }
        do {
            _ = try KafkaProducer(config: config)
        } catch {
            #expect(error.code == .configuration)
            #expect(error.message.contains("no.such.setting"))
        }
        var secret = KafkaProducerConfig(bootstrapServers: "127.0.0.1:1")
        secret.additionalConfig["sasl.password"] = "hunter2"
        secret.additionalConfig["security.protocol"] = "bogus"
        do {
            _ = try KafkaProducer(config: secret)
            Issue.record("expected a configuration error")
        } catch {
            #expect(!error.message.contains("hunter2"))
        }
    }

    /// librdkafka 2.0 does not ask for the metadata of a topic that an assignment adds once the client's broker
    /// is up and has answered "brokers only"; the partitions then wait for its one-second refresh timer. Half
    /// of these consumers did before `assign` looked the topics up itself (first record after 1.001 s against
    /// 52 ms). 700 ms leaves room for a loaded machine and still sits below the timer.
    @Test("A consumer assigned right after it is created reads at once, not after librdkafka's 1 s metadata timer")
    func assignmentRightAfterCreationReadsAtOnce() throws {
        let cluster = try EmbeddedKafkaCluster()
        let topic = uniqueName("assign-at-once")
        try cluster.createTopic(topic, partitions: 4)
        let producer = try KafkaProducer(config: producerConfig(cluster.bootstrapServers))
        for i in 0..<40 { try producer.produce(topic: topic, key: Array("k\(i)".utf8), value: Array("\(i)".utf8)) }
        try producer.flush()
        // Two consumers at once, as the W2 benchmark's workers start: that is where the wait showed.
        let brokers = cluster.bootstrapServers
        let firstRecord = Mutex<[Duration]>([])
        let failures = Mutex<[String]>([])
        for attempt in 0..<4 {
            DispatchQueue.concurrentPerform(iterations: 2) { worker in
                do {
                    let clock = ContinuousClock()
                    let start = clock.now
                    let consumer = try KafkaConsumer(config: consumerConfig(brokers, group: "g\(attempt)"))
                    // Work between creating and assigning (the benchmark builds its decoders there): the
                    // client connects meanwhile, and the wait needs a broker that is already up.
                    usleep(50_000)
                    try consumer.assign([0, 1].map { KafkaTopicPartition(topic: topic, partition: Int32(2 * worker + $0), offset: 0) })
                    var read = 0
                    try pollUntil(consumer, seconds: 10, { _ in read += 1 }, done: { read > 0 })
                    let elapsed = clock.now - start
                    try consumer.close()
                    if read == 0 { failures.withLock { $0.append("attempt \(attempt), worker \(worker): no record in 10 s") } }
                    firstRecord.withLock { $0.append(elapsed) }
                } catch {
                    failures.withLock { $0.append("attempt \(attempt), worker \(worker): \(error)") }
                }
            }
        }
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
        let times = firstRecord.withLock { $0 }
        #expect(times.count == 8 && times.allSatisfy { $0 < .milliseconds(700) }, "first record after \(times)")
    }

    @Test("Admin falls back to the mock's topic creation; metadata lists the topics")
    func adminCreatesAndDescribes() throws {
        let cluster = try EmbeddedKafkaCluster()
        let admin = try KafkaAdmin(bootstrapServers: cluster.bootstrapServers, additionalConfig: ["log_level": "3"], embedded: cluster)
        let name = uniqueName("admin")
        try admin.createTopics([KafkaTopicSpec(name: name, partitions: 5, configs: ["cleanup.policy": "compact"])])
        let topics = try admin.describeTopics()
        #expect(topics[name] == 5)
    }

    @Test("Transactional API calls succeed on the embedded broker (visibility is not enforced there)")
    func transactionalCallsRun() throws {
        let cluster = try EmbeddedKafkaCluster()
        let topic = uniqueName("tx")
        try cluster.createTopic(topic, partitions: 1)
        var config = producerConfig(cluster.bootstrapServers)
        config.transactionalID = uniqueName("txid")
        let producer = try KafkaProducer(config: config)
        try producer.initTransactions()
        try producer.beginTransaction()
        try producer.produce(topic: topic, key: nil, value: Array("committed".utf8))
        let consumer = try KafkaConsumer(config: consumerConfig(cluster.bootstrapServers, group: uniqueName("g")))
        try consumer.subscribe([topic])
        _ = try consumer.poll(maxMessages: 10, timeoutMs: 10) { _ in }
        try producer.sendOffsetsToTransaction([KafkaTopicPartition(topic: topic, partition: 0, offset: 0)], consumer: consumer)
        try producer.commitTransaction()
        try producer.beginTransaction()
        try producer.produce(topic: topic, key: nil, value: Array("aborted".utf8))
        try producer.abortTransaction()
        // The mock broker does not enforce transactions: an aborted message may still be visible to
        // read_committed consumers here. That only a real cluster can show; see README "Guarantees".
        var values: [String] = []
        try pollUntil(consumer, seconds: 20, { values.append(String(decoding: $0.payload, as: UTF8.self)) }, done: { values.contains("committed") })
        #expect(values.contains("committed"))
        try consumer.close()
    }
}

@Suite(.serialized, .ownThreads, .timeLimit(.minutes(10)))
struct KafkaProducerBehaviourTests {
    @Test("A bounded in-flight buffer applies back-pressure instead of failing")
    func backPressure() throws {
        let cluster = try EmbeddedKafkaCluster()
        let topic = uniqueName("bp")
        try cluster.createTopic(topic, partitions: 2)
        var config = producerConfig(cluster.bootstrapServers)
        config.maxInFlightMessages = 50
        let producer = try KafkaProducer(config: config)
        var peak = 0
        for i in 0..<2_000 {
            try producer.produce(topic: topic, key: nil, value: Array("m\(i)".utf8))
            peak = max(peak, producer.inFlight)
        }
        try producer.flush()
        #expect(producer.deliveredCount == 2_000 && producer.failedCount == 0)
        // rd_kafka_outq_len also counts delivery reports not yet served, so it may exceed the bound slightly.
        #expect(peak <= 100, "peak in flight \(peak) with a bound of 50")
    }

    @Test("A failed delivery is an error, never ignored")
    func failedDeliveryThrows() throws {
        let cluster = try EmbeddedKafkaCluster()
        let topic = uniqueName("fail")
        try cluster.createTopic(topic, partitions: 1)
        var config = producerConfig(cluster.bootstrapServers)
        config.additionalConfig["message.timeout.ms"] = "1500"
        let producer = try KafkaProducer(config: config)
        var thrown: KafkaError? = nil
        do {
            // Partition 7 does not exist: enqueueing or delivery must fail, and say so.
            try producer.produce(topic: topic, partition: 7, key: nil, value: Array("x".utf8))
            try producer.flush(timeoutMs: 10_000)
        } catch {
            thrown = error
        }
        let error = try #require(thrown)
        #expect(error.code == .produce || error.code == .delivery)
        #expect(error.message.contains(topic))
    }
}

/// The producer's non-blocking barrier (``KafkaProducer/enqueuedCount``, ``KafkaProducer/reportedThrough``).
@Suite(.ownThreads) struct DeliveryBarrierTests {
    @Test("reports in any order: everything below the mark has its report, the first missing one holds it")
    func marksAgreeWithAReference() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var state = DeliveryContext.State()
            let n = Int.random(in: 1...9_000, using: &rng)
            for i in 0..<n { #expect(state.enqueue() == Int64(i)) }
            var order = Array(0..<Int64(n))
            // Mostly in order with local shuffles (partitions interleave), sometimes fully shuffled.
            if Bool.random(using: &rng) {
                order.shuffle(using: &rng)
            } else {
                for i in stride(from: 0, to: n, by: 64) { order[i..<min(n, i + 64)].shuffle(using: &rng) }
            }
            var unreported = Set(order)
            for (k, s) in order.enumerated() {
                state.report(s)
                unreported.remove(s)
                if k % 97 == 0 || k == n - 1 {
                    #expect(state.reportedThrough == (unreported.min() ?? Int64(n)))
                }
            }
            #expect(state.reportedThrough == Int64(n))
        }
    }

    @Test("on the embedded broker the mark reaches the enqueued count once the reports are served")
    func markReachesEnqueued() throws {
        let cluster = try EmbeddedKafkaCluster()
        let topic = uniqueName("barrier")
        try cluster.createTopic(topic, partitions: 3)
        let producer = try KafkaProducer(config: producerConfig(cluster.bootstrapServers))
        for i in 0..<3_000 { try producer.produce(topic: topic, key: Array("k\(i % 7)".utf8), value: Array("v\(i)".utf8)) }
        #expect(producer.enqueuedCount == 3_000)
        let barrier = producer.enqueuedCount
        let deadline = Date().addingTimeInterval(30)
        while producer.reportedThrough < barrier && Date() < deadline { producer.poll(timeoutMs: 50) }
        #expect(producer.reportedThrough == barrier && producer.deliveredCount == 3_000 && producer.deliveryError == nil)
    }
}
