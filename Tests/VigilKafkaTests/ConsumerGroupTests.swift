import Foundation
import Testing
import VigilKafka
import VigilTesting

@Suite(.serialized, .ownThreads, .timeLimit(.minutes(10)))
struct ConsumerGroupTests {
    /// Polls every consumer until `condition` holds or `seconds` pass.
    func pollAll(_ consumers: [KafkaConsumer], seconds: Double, until condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() && Date() < deadline {
            for c in consumers { try c.poll(maxMessages: 100, timeoutMs: 50) { _ in } }
        }
    }

    @Test(
        "Two members split the partitions; when one leaves the other gets them all",
        arguments: ["range,roundrobin", "cooperative-sticky"]
    )
    func twoMembersSplitThenOneLeaves(strategy: String) throws {
        let cluster = try EmbeddedKafkaCluster()
        let topic = uniqueName("group")
        try cluster.createTopic(topic, partitions: 4)
        let group = uniqueName("g")
        var config = consumerConfig(cluster.bootstrapServers, group: group)
        config.assignmentStrategy = strategy
        let a = try KafkaConsumer(config: config)
        let b = try KafkaConsumer(config: config)
        try a.subscribe([topic])
        try b.subscribe([topic])
        try pollAll([a, b], seconds: 60) {
            a.assignment.count + b.assignment.count == 4 && !a.assignment.isEmpty && !b.assignment.isEmpty
        }
        #expect(a.assignment.count == 2 && b.assignment.count == 2)
        #expect(Set(a.assignment).isDisjoint(with: Set(b.assignment)))
        let events = a.drainRebalanceEvents()
        #expect(events.contains { if case .assigned = $0 { true } else { false } })

        try a.close()
        try pollAll([b], seconds: 60) { b.assignment.count == 4 }
        #expect(b.assignment.count == 4)
        let bEvents = b.drainRebalanceEvents()
        if strategy == "cooperative-sticky" {
            // Incremental: b keeps its two partitions and only gains a's.
            #expect(!bEvents.contains { if case .revoked = $0 { true } else { false } })
            #expect(bEvents.contains { if case .assigned(let p) = $0 { p.count == 2 } else { false } })
        } else {
            #expect(bEvents.contains { if case .revoked = $0 { true } else { false } })
        }
        try b.close()
    }

    @Test("A member killed with SIGKILL (kcat in a child process) loses its partitions after the session timeout")
    func killedMemberIsReplaced() throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/kcat"))
        let cluster = try EmbeddedKafkaCluster()
        let topic = uniqueName("takeover")
        try cluster.createTopic(topic, partitions: 4)
        let group = uniqueName("g")
        let kcat = Process()
        kcat.executableURL = URL(fileURLWithPath: "/usr/bin/kcat")
        kcat.arguments = [
            "-b", cluster.bootstrapServers, "-G", group, "-q", "-X", "session.timeout.ms=6000", "-X", "log_level=3",
            "-X", "heartbeat.interval.ms=500", topic,
        ]
        kcat.standardOutput = FileHandle.nullDevice
        kcat.standardError = FileHandle.nullDevice
        try kcat.run()
        defer { if kcat.isRunning { kill(kcat.processIdentifier, SIGKILL) } }
        let vigil = try KafkaConsumer(config: consumerConfig(cluster.bootstrapServers, group: group))
        try vigil.subscribe([topic])
        // Both members in the group: ours holds some but not all partitions.
        try pollAll([vigil], seconds: 60) { !vigil.assignment.isEmpty && vigil.assignment.count < 4 }
        #expect(!vigil.assignment.isEmpty && vigil.assignment.count < 4)
        kill(kcat.processIdentifier, SIGKILL)
        kcat.waitUntilExit()
        let killedAt = Date()
        try pollAll([vigil], seconds: 60) { vigil.assignment.count == 4 }
        let takeover = Date().timeIntervalSince(killedAt)
        #expect(vigil.assignment.count == 4)
        // Session timeout 6 s, plus the coordinator's rebalance delay.
        #expect(takeover < 30, "takeover took \(takeover) s")
        print("takeover after SIGKILL: \(String(format: "%.1f", takeover)) s (session.timeout.ms = 6000)")
        try vigil.close()
    }

    @Test("Committed offsets are honoured when the group restarts")
    func committedOffsetsHonoured() throws {
        let cluster = try EmbeddedKafkaCluster()
        let topic = uniqueName("commit")
        try cluster.createTopic(topic, partitions: 1)
        let producer = try KafkaProducer(config: producerConfig(cluster.bootstrapServers))
        for i in 0..<100 { try producer.produce(topic: topic, key: nil, value: Array("\(i)".utf8)) }
        try producer.flush()
        let group = uniqueName("g")
        var firstRun: [Int64] = []
        do {
            let c = try KafkaConsumer(config: consumerConfig(cluster.bootstrapServers, group: group))
            try c.subscribe([topic])
            try pollUntil(c, seconds: 30, { r in if firstRun.count < 40 { firstRun.append(r.offset) } }, done: { firstRun.count >= 40 })
            // Store progress, commit it in bulk.
            try c.store([KafkaTopicPartition(topic: topic, partition: 0, offset: 40)])
            try c.commitStored()
            let committed = try c.committed([KafkaTopicPartition(topic: topic, partition: 0)])
            #expect(committed.first?.offset == 40)
            try c.close()
        }
        var secondRun: [Int64] = []
        let c2 = try KafkaConsumer(config: consumerConfig(cluster.bootstrapServers, group: group))
        try c2.subscribe([topic])
        try pollUntil(c2, seconds: 30, { secondRun.append($0.offset) }, done: { secondRun.count >= 60 })
        #expect(secondRun.first == 40)
        #expect(secondRun.count == 60)
        #expect(c2.lag()[KafkaTopicPartition(topic: topic, partition: 0)] == 0)
        try c2.close()
    }

    @Test("An offset provider positions newly assigned partitions (the resume position of a checkpoint)")
    func offsetProviderSeeksOnAssignment() throws {
        let cluster = try EmbeddedKafkaCluster()
        let topic = uniqueName("seek")
        try cluster.createTopic(topic, partitions: 1)
        let producer = try KafkaProducer(config: producerConfig(cluster.bootstrapServers))
        for i in 0..<50 { try producer.produce(topic: topic, key: nil, value: Array("\(i)".utf8)) }
        try producer.flush()
        let c = try KafkaConsumer(config: consumerConfig(cluster.bootstrapServers, group: uniqueName("g"))) { _ in 30 }
        try c.subscribe([topic])
        var offsets: [Int64] = []
        try pollUntil(c, seconds: 30, { offsets.append($0.offset) }, done: { offsets.count >= 20 })
        #expect(offsets.first == 30 && offsets.count == 20)
        // Pause stops delivery; resume continues.
        try c.pause(c.assignment)
        for i in 50..<60 { try producer.produce(topic: topic, key: nil, value: Array("\(i)".utf8)) }
        try producer.flush()
        var whilePaused = 0
        for _ in 0..<10 { whilePaused += try c.poll(maxMessages: 100, timeoutMs: 50) { _ in } }
        #expect(whilePaused == 0)
        try c.resume(c.assignment)
        var after: [Int64] = []
        try pollUntil(c, seconds: 20, { after.append($0.offset) }, done: { after.count >= 10 })
        #expect(after.first == 50)
        try c.close()
    }
}
