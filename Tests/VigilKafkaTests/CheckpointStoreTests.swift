import Foundation
import Testing
import VigilCore
import VigilKafka
@testable import VigilRuntime
import VigilTesting

/// The checkpoint stores with a `StreamJob` on the embedded broker: a second job resumes from the first one's
/// snapshots (state and offsets) and together they produce exactly what one uninterrupted job produces.
///
/// The embedded broker accepts the transactional calls but does not enforce isolation; what these tests show
/// for the `kafka` store is that the whole transactional path runs and its snapshots restore. Exactly-once
/// visibility (`read_committed` hiding aborted outputs) needs a real cluster.
@Suite(.serialized, .timeLimit(.minutes(4)))
struct CheckpointStoreTests {
    struct Setup {
        let cluster: EmbeddedKafkaCluster
        let input: String
        let outputs: String
        let checkpoints: String
        let t0: Int64

        init() throws {
            cluster = try EmbeddedKafkaCluster()
            input = uniqueName("in")
            outputs = uniqueName("out")
            checkpoints = uniqueName("ck")
            t0 = currentTimeMillis() - 3_600_000
            try cluster.createTopic(input, partitions: 2)
            for t in [outputs, outputs + ".alerts", outputs + ".dlq", outputs + ".anomalies", outputs + ".grades"] {
                try cluster.createTopic(t, partitions: 1)
            }
            try cluster.createTopic(checkpoints, partitions: 1)
        }

        /// Readings `from..<to` of 6 sensors in 2 enterprises (one per partition), 1 s apart, some above AL1/AL2.
        func produce(_ range: Range<Int>) throws {
            let producer = try KafkaProducer(config: producerConfig(cluster.bootstrapServers))
            for i in range {
                for s in 0..<6 {
                    let e = s % 2
                    let value = Double((i * 7 + s * 13) % 60) + (i % 97 == 0 ? 30 : 0)
                    let json = "{\"enterprise\":\"E\(e)\",\"sensor\":\"E\(e)-GT-\(s)\",\"ts\":\(t0 + Int64(i) * 1_000),\"value\":\(value)}"
                    try producer.produce(topic: input, partition: Int32(e), key: Array("E\(e)".utf8), value: Array(json.utf8))
                }
            }
            try producer.flush()
        }

        func config(group: String, checkpoint: CheckpointMode, output: String? = nil) -> StreamJobConfig {
            var c = StreamJobConfig(
                brokers: cluster.bootstrapServers, groupID: group, inputTopics: [input],
                windows: [
                    (name: "m", spec: WindowSpec(kind: .tumbling(size: 60_000), statistics: .all)),
                    (name: "h", spec: WindowSpec(kind: .hopping(size: 600_000, slide: 60_000), emit: .final, statistics: .basic)),
                    (name: "s", spec: WindowSpec(kind: .session(gap: 30_000), statistics: .basic)),
                ]
            )
            let out = output ?? outputs
            c.outputTopic = out
            c.alertsTopic = out + ".alerts"
            c.deadLetterTopic = out + ".dlq"
            c.anomaliesTopic = out + ".anomalies"
            c.gradesTopic = out + ".grades"
            c.alarmRules = [(rule: ThresholdRule(name: "gas", level1: 25, level2: 50, deadband: 2, onDelay: 2_000), match: ["-GT-"])]
            c.idleTimeout = nil
            c.commitInterval = 1_000_000
            c.checkpoint = checkpoint
            c.sessionTimeoutMs = 6_000
            c.consumerAdditional = ["log_level": "3"]
            c.producerAdditional = ["log_level": "3"]
            return c
        }

        /// Steps until `messages` records were consumed.
        func run(_ job: StreamJob, messages: Int64) throws {
            let deadline = Date().addingTimeInterval(60)
            while job.stats.messages < messages && Date() < deadline { try job.step() }
            #expect(job.stats.messages == messages)
        }

        /// Every record of the output topics as `topic|key|value`.
        func outputRecords(_ prefix: String) throws -> [String] {
            var cc = consumerConfig(cluster.bootstrapServers, group: uniqueName("reader"))
            cc.additionalConfig["isolation.level"] = "read_committed"
            let reader = try KafkaConsumer(config: cc)
            let topics = [prefix, prefix + ".alerts", prefix + ".anomalies", prefix + ".grades"]
            try reader.assign(topics.map { KafkaTopicPartition(topic: $0, partition: 0, offset: 0) })
            var out: [String] = []
            var idle = 0
            while idle < 8 {
                let n = try reader.poll(maxMessages: 10_000, timeoutMs: 250) { r in
                    out.append("\(r.topicName.dropFirst(prefix.count))|\(String(decoding: r.key ?? .init(start: nil, count: 0), as: UTF8.self))|\(String(decoding: r.payload, as: UTF8.self))")
                }
                idle = n == 0 ? idle + 1 : 0
            }
            try reader.close()
            return out
        }
    }

    func stopAndResume(_ setup: Setup, checkpoint: CheckpointMode) throws -> (first: StreamJob, second: StreamJob) {
        let group = uniqueName("g")
        try setup.produce(0..<600)
        let first = try StreamJob(config: setup.config(group: group, checkpoint: checkpoint))
        try setup.run(first, messages: 3_600)
        try first.close()
        #expect(first.stats.checkpoints >= 1 && first.stats.snapshotsWritten == 2)
        try setup.produce(600..<1_200)
        let second = try StreamJob(config: setup.config(group: group, checkpoint: checkpoint))
        // Exactly the second half: the resume positions are the snapshots' offsets.
        try setup.run(second, messages: 3_600)
        #expect(second.stats.partitionsRestored == 2)
        for _ in 0..<5 { try second.step() }
        #expect(second.stats.messages == 3_600, "records before the snapshot offsets were read again")
        try second.close()
        return (first, second)
    }

    func reference(_ setup: Setup) throws -> [String] {
        let prefix = uniqueName("ref")
        for t in [prefix, prefix + ".alerts", prefix + ".dlq", prefix + ".anomalies", prefix + ".grades"] {
            try setup.cluster.createTopic(t, partitions: 1)
        }
        let job = try StreamJob(config: setup.config(group: uniqueName("ref"), checkpoint: .none, output: prefix))
        try setup.run(job, messages: 7_200)
        try job.close()
        return try setup.outputRecords(prefix)
    }

    @Test("directory store: a restarted job resumes from its snapshots with the same outputs as one uninterrupted job")
    func directoryStoreResumes() throws {
        let setup = try Setup()
        let path = NSTemporaryDirectory() + "vigil-ck-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try stopAndResume(setup, checkpoint: .directory(path: path))
        let files = try FileManager.default.contentsOfDirectory(atPath: path).sorted()
        #expect(files == ["\(setup.input).0.snapshot", "\(setup.input).1.snapshot"])
        let got = try setup.outputRecords(setup.outputs)
        let expected = try reference(setup)
        #expect(expected.count > 500)
        #expect(got.sorted() == expected.sorted(), "outputs differ: \(Set(got).symmetricDifference(expected).prefix(3))")
    }

    @Test("kafka store: checkpoints in transactions (snapshots, outputs, offsets) restore on the next start")
    func kafkaStoreResumes() throws {
        let setup = try Setup()
        let mode = CheckpointMode.kafka(topic: setup.checkpoints, transactionalID: uniqueName("vigil.test"))
        let (first, _) = try stopAndResume(setup, checkpoint: mode)
        #expect(first.stats.lastCheckpointBytes > 0)
        let got = try setup.outputRecords(setup.outputs)
        let expected = try reference(setup)
        #expect(got.sorted() == expected.sorted(), "outputs differ: \(Set(got).symmetricDifference(expected).prefix(3))")
    }

    @Test("kafka store: a large snapshot is split into chunks and reassembled; a missing chunk is an error")
    func chunking() throws {
        let setup = try Setup()
        let store = KafkaCheckpointStore(topic: setup.checkpoints, brokers: setup.cluster.bootstrapServers, additional: ["log_level": "3"])
        var rng = TestRandom(seed: 5)
        let big = (0..<(KafkaCheckpointStore.chunkSize * 2 + 1_000)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let small = Array("small".utf8)
        let a = KafkaTopicPartition(topic: "in", partition: 0)
        let b = KafkaTopicPartition(topic: "in", partition: 1)
        let chunks = KafkaCheckpointStore.chunks(a, snapshot: big, id: 42)
        #expect(chunks.count == 3)
        var pc = producerConfig(setup.cluster.bootstrapServers)
        pc.messageMaxBytes = 2_000_000
        let producer = try KafkaProducer(config: pc)
        // An older, larger version of b first: its stale chunk 1 must not be mixed into the newer one.
        for (k, v) in KafkaCheckpointStore.chunks(b, snapshot: big, id: 7) + KafkaCheckpointStore.chunks(b, snapshot: small, id: 8) + chunks {
            try producer.produce(topic: setup.checkpoints, key: k, value: v)
        }
        try producer.flush()
        let loaded = try store.load([a, b, KafkaTopicPartition(topic: "in", partition: 2)])
        #expect(loaded[a] == big)
        #expect(loaded[b] == small)
        #expect(loaded.count == 2)
        // A newer chunk 0 whose other chunks never arrived.
        let partial = KafkaCheckpointStore.chunks(a, snapshot: big.reversed(), id: 43)
        try producer.produce(topic: setup.checkpoints, key: partial[0].0, value: partial[0].1)
        try producer.flush()
        #expect(throws: CheckpointError.self) { _ = try store.load([a]) }
    }

    @Test("a corrupted snapshot stops the job before it processes anything, with a message naming the partition")
    func corruptedSnapshotIsRefused() throws {
        let setup = try Setup()
        let path = NSTemporaryDirectory() + "vigil-ck-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try setup.produce(0..<100)
        let group = uniqueName("g")
        let first = try StreamJob(config: setup.config(group: group, checkpoint: .directory(path: path)))
        try setup.run(first, messages: 600)
        try first.close()
        let file = "\(path)/\(setup.input).1.snapshot"
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
        bytes[bytes.count / 2] ^= 0x10
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let second = try StreamJob(config: setup.config(group: group, checkpoint: .directory(path: path)))
        var failure: KafkaError? = nil
        let deadline = Date().addingTimeInterval(30)
        while failure == nil && Date() < deadline {
            do { try second.step() } catch { failure = error }
        }
        #expect(failure?.message.contains("\(setup.input)/1") == true, "\(String(describing: failure))")
        #expect(failure?.message.contains("corrupted") == true)
        #expect(second.stats.readings == 0)
    }
}


@Suite(.serialized, .timeLimit(.minutes(2)))
struct DataGapStreamTests {
    @Test("a point that stops reporting gets an offline record while it is silent, and an online record when it returns")
    func offlineAndOnlineRecords() throws {
        let setup = try CheckpointStoreTests.Setup()
        let producer = try KafkaProducer(config: producerConfig(setup.cluster.bootstrapServers))
        // E0: two sensors every 30 s for 2 h; E0-GT-1 is silent from minute 20 to minute 70.
        var count = 0
        for k in 0..<240 {
            let t = setup.t0 + Int64(k) * 30_000
            for s in 0..<2 where s == 0 || !(t >= setup.t0 + 1_200_000 && t < setup.t0 + 4_200_000) {
                let json = "{\"enterprise\":\"E0\",\"sensor\":\"E0-GT-\(s)\",\"ts\":\(t),\"value\":\(s + 1)}"
                try producer.produce(topic: setup.input, partition: 0, key: Array("E0".utf8), value: Array(json.utf8))
                count += 1
            }
        }
        try producer.flush()
        let job = try StreamJob(config: setup.config(group: uniqueName("g"), checkpoint: .none))
        try setup.run(job, messages: Int64(count))
        try job.close()
        let alerts = try setup.outputRecords(setup.outputs).filter { $0.hasPrefix(".alerts|") && $0.contains("\"rule\":\"data_gap\"") }
        #expect(alerts.count == 2, "\(alerts)")
        let lastSeen = setup.t0 + 1_200_000 - 30_000
        #expect(alerts.first?.contains("\"event\":\"offline\"") == true && alerts.first?.contains("\"sensor\":\"E0-GT-1\"") == true)
        #expect(alerts.first?.contains("\"ts\":\(lastSeen + 1_800_000)") == true, "\(alerts)")
        #expect(alerts.last?.contains("\"event\":\"online\"") == true && alerts.last?.contains("\"ts\":\(setup.t0 + 4_200_000)") == true)
        #expect(alerts.allSatisfy { $0.contains("\"alert_id\":\"E0-GT-1/data_gap/\(lastSeen + 1_800_000)\"") })
        let schema = try MiniJSONSchema(path: packageRoot() + "/Schemas/risk.alerts.v1.schema.json")
        for a in alerts {
            let json = a.split(separator: "|", maxSplits: 2).last.map(String.init) ?? ""
            #expect(schema.validate(json: Data(json.utf8)).isEmpty, "\(json)")
        }
    }
}

@Suite(.serialized, .timeLimit(.minutes(2)))
struct AlertLifecycleStreamTests {
    @Test("alerts carry severity, deadline and departments; a missed deadline escalates; routes get copies by severity")
    func severityDeadlinesAndRoutes() throws {
        let setup = try CheckpointStoreTests.Setup()
        let urgent = uniqueName("urgent")
        try setup.cluster.createTopic(urgent, partitions: 1)
        let producer = try KafkaProducer(config: producerConfig(setup.cluster.bootstrapServers))
        // E0-GT-1 reads 30 (AL1) from minute 5 to minute 40, otherwise 5; E0-GT-2 stays at 5.
        var count = 0
        for k in 0..<120 {
            let t = setup.t0 + Int64(k) * 30_000
            for s in 1...2 {
                let value = s == 1 && k >= 10 && k < 80 ? 30.0 : 5.0
                let json = "{\"enterprise\":\"E0\",\"sensor\":\"E0-GT-\(s)\",\"ts\":\(t),\"value\":\(value)}"
                try producer.produce(topic: setup.input, partition: 0, key: Array("E0".utf8), value: Array(json.utf8))
                count += 1
            }
        }
        try producer.flush()
        var config = setup.config(group: uniqueName("g"), checkpoint: .none)
        config.alertPolicies = [AlertPolicy(level1: .yellow, level2: .red, notify: ["safety", "production"])]
        config.alertDeadlines = [.red: 300_000, .orange: 600_000, .yellow: 600_000, .blue: 86_400_000]
        config.alertRoutes = [(levels: [.orange, .red], topic: urgent)]
        let job = try StreamJob(config: config)
        try setup.run(job, messages: Int64(count))
        try job.close()
        let alerts = try setup.outputRecords(setup.outputs).filter { $0.hasPrefix(".alerts|") && $0.contains("E0-GT-1/gas/") }
        func events(_ a: [String]) -> [String] {
            a.compactMap { line in
                guard let json = line.split(separator: "|", maxSplits: 2).last,
                    let o = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
                else { return nil }
                return "\(o["event"]!) \(o["severity"]!) \(o["ts"]!)"
            }
        }
        // AL1 is first seen at reading 10; the on_delay (2 s) is confirmed by reading 11, which raises the alarm.
        let raised = setup.t0 + 11 * 30_000
        // Raised yellow (deadline +10 min), overdue → orange at +10 min, overdue → red at +20 min, overdue (red) every
        // 5 min while still active, then cleared (severity of the alarm that ended: red).
        let e = events(alerts)
        #expect(e.first == "raised yellow \(raised)", "\(e)")
        #expect(e.dropFirst().first == "overdue orange \(raised + 600_000)", "\(e)")
        #expect(e.dropFirst(2).first == "overdue red \(raised + 1_200_000)", "\(e)")
        #expect(e.last?.hasPrefix("cleared red") == true, "\(e)")
        #expect(alerts.allSatisfy { $0.contains("\"notify\":[\"safety\",\"production\"]") })
        let schema = try MiniJSONSchema(path: packageRoot() + "/Schemas/risk.alerts.v1.schema.json")
        for a in alerts {
            let json = a.split(separator: "|", maxSplits: 2).last.map(String.init) ?? ""
            #expect(schema.validate(json: Data(json.utf8)).isEmpty, "\(json)")
        }
        // The route receives exactly the orange and red records.
        var cc = consumerConfig(setup.cluster.bootstrapServers, group: uniqueName("r"))
        cc.additionalConfig["isolation.level"] = "read_committed"
        let reader = try KafkaConsumer(config: cc)
        try reader.assign([KafkaTopicPartition(topic: urgent, partition: 0, offset: 0)])
        var routed: [String] = []
        try pollUntil(reader, seconds: 10, { r in routed.append("x|" + String(decoding: r.payload, as: UTF8.self)) }, done: { false })
        try reader.close()
        #expect(events(routed) == e.filter { !$0.hasPrefix("raised yellow") }, "\(events(routed))")
        #expect(job.stats.routedAlerts == Int64(routed.count))
    }
}

extension AlertLifecycleStreamTests {
    @Test("an acknowledgement (written by kcat) stops the escalation of its alert; unacknowledged alarms escalate")
    func acknowledgementStopsEscalation() throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/kcat"), "kcat is installed by make test")
        let setup = try CheckpointStoreTests.Setup()
        let acks = uniqueName("acks")
        try setup.cluster.createTopic(acks, partitions: 1)
        let producer = try KafkaProducer(config: producerConfig(setup.cluster.bootstrapServers))
        // E0-GT-1 and E0-GT-2 both read 30 (AL1) from minute 5 to minute 40, otherwise 5.
        var count = 0
        for k in 0..<120 {
            let t = setup.t0 + Int64(k) * 30_000
            for s in 1...2 {
                let json = "{\"enterprise\":\"E0\",\"sensor\":\"E0-GT-\(s)\",\"ts\":\(t),\"value\":\(k >= 10 && k < 80 ? 30.0 : 5.0)}"
                try producer.produce(topic: setup.input, partition: 0, key: Array("E0".utf8), value: Array(json.utf8))
                count += 1
            }
        }
        try producer.flush()
        // Both alarms are raised at reading 11. GT-1 is acknowledged 2 min later (its yellow deadline is 10 min);
        // an acknowledgement of an alert id that never existed is ignored.
        let raised = setup.t0 + 11 * 30_000
        let lines = [
            "E0-GT-1/gas/\(raised)|{\"alert_id\":\"E0-GT-1/gas/\(raised)\",\"ts\":\(raised + 120_000),\"by\":\"shift \\\"B\\\"\"}",
            "E0-GT-2/gas/1|{\"alert_id\":\"E0-GT-2/gas/1\",\"ts\":\(raised)}",
        ]
        let (status, _, err) = try run(
            "/usr/bin/kcat", ["-P", "-b", setup.cluster.bootstrapServers, "-t", acks, "-K", "|", "-X", "log_level=3"],
            input: Data((lines.joined(separator: "\n") + "\n").utf8))
        #expect(status == 0, "kcat -P failed: \(err)")
        let inputSchema = try MiniJSONSchema(path: packageRoot() + "/Schemas/safety.acknowledgements.v1.schema.json")
        for line in lines { #expect(inputSchema.validate(json: Data(line.split(separator: "|", maxSplits: 1)[1].utf8)).isEmpty, "\(line)") }
        var config = setup.config(group: uniqueName("g"), checkpoint: .none)
        config.alertPolicies = [AlertPolicy(level1: .yellow, level2: .red, notify: ["safety"])]
        config.alertDeadlines = [.red: 300_000, .orange: 600_000, .yellow: 600_000, .blue: 86_400_000]
        config.acknowledgementsTopic = acks
        let job = try StreamJob(config: config)
        try setup.run(job, messages: Int64(count))
        try job.close()
        let alerts = try setup.outputRecords(setup.outputs).filter { $0.hasPrefix(".alerts|") }.compactMap { line in
            line.split(separator: "|", maxSplits: 2).last.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        }
        func events(_ sensor: String) -> [String] {
            alerts.filter { $0["sensor"] as? String == sensor }.map { "\($0["event"]!) \($0["severity"]!) \($0["ts"]!)" }
        }
        #expect(events("E0-GT-1") == ["raised yellow \(raised)", "acknowledged yellow \(raised + 120_000)", "cleared yellow \(setup.t0 + 80 * 30_000)"])
        let acknowledged = try #require(alerts.first { $0["event"] as? String == "acknowledged" })
        #expect(acknowledged["acknowledged_by"] as? String == "shift \"B\"" && acknowledged["respond_by"] is NSNull)
        #expect(acknowledged["alert_id"] as? String == "E0-GT-1/gas/\(raised)")
        let unacknowledged = events("E0-GT-2")
        #expect(unacknowledged.prefix(3) == ["raised yellow \(raised)", "overdue orange \(raised + 600_000)", "overdue red \(raised + 1_200_000)"])
        #expect(!unacknowledged.contains { $0.hasPrefix("acknowledged") })
        let schema = try MiniJSONSchema(path: packageRoot() + "/Schemas/risk.alerts.v1.schema.json")
        for a in alerts {
            let json = try JSONSerialization.data(withJSONObject: a)
            #expect(schema.validate(json: json).isEmpty, "\(a)")
        }
        #expect(job.stats.alertsByLevel["acknowledged yellow"] == 1)
    }
}

@Suite(.serialized, .timeLimit(.minutes(2)))
struct GradeFactorStreamTests {
    /// The grade records the job produced, parsed.
    static func grades(_ setup: CheckpointStoreTests.Setup) throws -> [[String: Any]] {
        try setup.outputRecords(setup.outputs).filter { $0.hasPrefix(".grades|") }.compactMap { line in
            line.split(separator: "|", maxSplits: 2).last.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        }
    }

    @Test("permits and hidden hazards from their tables make up O and H; an overdue major hazard forces at least orange")
    func permitsAndHazards() throws {
        let setup = try CheckpointStoreTests.Setup()
        let (permits, hazards) = (uniqueName("permits"), uniqueName("hazards"))
        try setup.cluster.createTopic(permits, partitions: 1)
        try setup.cluster.createTopic(hazards, partitions: 1)
        let producer = try KafkaProducer(config: producerConfig(setup.cluster.bootstrapServers))
        let t0 = setup.t0
        func send(_ topic: String, _ json: String) throws {
            try producer.produce(topic: topic, key: Array("E0".utf8), value: Array(json.utf8))
        }
        // A special hot-work permit for the first 10 min; a major hazard due at minute 20; an overdue general one.
        try send(permits, "{\"enterprise\":\"E0\",\"permit\":\"P1\",\"kind\":\"hot_work_special\",\"start\":\(t0),\"end\":\(t0 + 600_000)}")
        try send(hazards, "{\"enterprise\":\"E0\",\"hazard\":\"H1\",\"class\":\"major\",\"status\":\"open\",\"deadline\":\(t0 + 1_200_000)}")
        try send(hazards, "{\"enterprise\":\"E0\",\"hazard\":\"H2\",\"class\":\"general\",\"status\":\"open\",\"deadline\":\(t0 - 1)}")
        try send(hazards, "{\"enterprise\":\"E9\",\"hazard\":\"H3\",\"class\":\"major\",\"status\":\"open\",\"deadline\":\(t0)}")
        try producer.flush()
        var count = 0
        for k in 0..<60 {  // 30 min of one quiet sensor
            let json = "{\"enterprise\":\"E0\",\"sensor\":\"E0-GT-1\",\"ts\":\(t0 + Int64(k) * 30_000),\"value\":5}"
            try producer.produce(topic: setup.input, partition: 0, key: Array("E0".utf8), value: Array(json.utf8))
            count += 1
        }
        try producer.flush()
        var config = setup.config(group: uniqueName("g"), checkpoint: .none)
        config.permitsTopic = permits
        config.hazardsTopic = hazards
        let job = try StreamJob(config: config)
        try setup.run(job, messages: Int64(count))
        try job.close()
        let grades = try Self.grades(setup)
        func factor(_ g: [String: Any], _ name: String) -> Double { ((g["factors"] as? [String: Any])?[name] as? NSNumber)?.doubleValue ?? -1 }
        let first = try #require(grades.first)
        // B 10 (no profile) + O 15 + H 20 + 3 = 48: yellow.
        #expect(factor(first, "operations") == 15 && factor(first, "hazards") == 23, "\(first)")
        #expect(first["level"] as? String == "yellow")
        // After minute 20 the major hazard is overdue: the override raises the level to orange (the permit expired).
        let last = try #require(grades.last)
        #expect(last["level"] as? String == "orange", "\(grades.map { "\($0["level"]!) \($0["ts"]!)" })")
        #expect(factor(last, "operations") == 0 && (last["inputs"] as? [String: Any])?["overdue_major_hazard"] as? Bool == true)
        let schema = try MiniJSONSchema(path: packageRoot() + "/Schemas/risk.grades.v1.schema.json")
        for g in grades {
            let data = try JSONSerialization.data(withJSONObject: g)
            #expect(schema.validate(json: data).isEmpty, "\(schema.validate(json: data))")
        }
        #expect(GradeExplainer.explain(last).contains("override: an open major hazard is past its deadline"))
    }

    @Test("The profile's 2018 diagnosis sets B and can force red; its credit score adds C")
    func diagnosisAndCredit() throws {
        let setup = try CheckpointStoreTests.Setup()
        let profilesTopic = uniqueName("profiles")
        try setup.cluster.createTopic(profilesTopic, partitions: 1)
        let producer = try KafkaProducer(config: producerConfig(setup.cluster.bootstrapServers))
        // E0: grade 三级 (B_MHI 40) and a diagnosis of 100 − 6 (三级) − 10 (5 processes) + 5 = 89 → B = max(40, 11) = 40;
        //     credit 85 → C = 1.5. E1: no grade, a given diagnosis of 35 (B = 65), a direct-red condition, credit 40.
        let e0 = "{\"enterprise\":\"E0\",\"region\":\"R\",\"major_hazard_grade\":3,"
            + "\"diagnostic\":{\"items\":{\"key_hazardous_process\":5,\"standardisation_level_2\":1}},"
            + "\"credit\":{\"factors\":{\"hazard_closure\":80,\"enforcement\":50}}}"
        let e1 = "{\"enterprise\":\"E1\",\"diagnostic_score\":35,\"diagnostic\":{\"direct_red\":[\"major_accident_3y\"]},\"credit_score\":40}"
        try producer.produce(topic: profilesTopic, key: Array("E0".utf8), value: Array(e0.utf8))
        try producer.produce(topic: profilesTopic, key: Array("E1".utf8), value: Array(e1.utf8))
        try producer.flush()
        let t0 = setup.t0
        for k in 0..<10 {
            for e in ["E0", "E1"] {
                let json = "{\"enterprise\":\"\(e)\",\"sensor\":\"\(e)-GT-1\",\"ts\":\(t0 + Int64(k) * 30_000),\"value\":5}"
                try producer.produce(topic: setup.input, partition: 0, key: Array(e.utf8), value: Array(json.utf8))
            }
        }
        try producer.flush()
        var config = setup.config(group: uniqueName("g"), checkpoint: .none)
        config.profilesTopic = profilesTopic
        let job = try StreamJob(config: config)
        try setup.run(job, messages: 20)
        try job.close()
        let grades = try Self.grades(setup)
        func first(_ e: String) throws -> [String: Any] { try #require(grades.first { $0["enterprise"] as? String == e }) }
        func number(_ g: [String: Any], _ group: String, _ name: String) -> Double? { ((g[group] as? [String: Any])?[name] as? NSNumber)?.doubleValue }
        let g0 = try first("E0")
        #expect(number(g0, "inputs", "diagnostic_score") == 89)
        #expect((g0["inputs"] as? [String: Any])?["diagnostic_level"] as? String == "yellow")
        #expect(number(g0, "factors", "base") == 40)
        #expect(number(g0, "inputs", "credit_score") == 85 && number(g0, "factors", "credit") == 1.5)
        #expect(g0["level"] as? String == "yellow", "B 40 + C 1.5 = 41.5")
        let g1 = try first("E1")
        #expect(g1["level"] as? String == "red")
        #expect(number(g1, "factors", "base") == 65 && number(g1, "factors", "credit") == 6)
        #expect((g1["inputs"] as? [String: Any])?["overrides"] as? [String] == ["direct_red"])
        #expect((g1["inputs"] as? [String: Any])?["credit_grade"] as? String == "D")
        let schema = try MiniJSONSchema(path: packageRoot() + "/Schemas/risk.grades.v1.schema.json")
        for g in grades {
            let data = try JSONSerialization.data(withJSONObject: g)
            #expect(schema.validate(json: data).isEmpty, "\(schema.validate(json: data))")
        }
        let text = GradeExplainer.explain(g1)
        #expect(text.contains("direct-red condition(s) major_accident_3y → RED") && text.contains("C  credit"), "\(text)")
    }
}

extension GradeFactorStreamTests {
    @Test("§4.3 overrides: a red-severity AL2 lasting over 10 min, and any AL2 during hot work, make the enterprise red")
    func redOverrides() throws {
        let setup = try CheckpointStoreTests.Setup()
        let permits = uniqueName("permits")
        try setup.cluster.createTopic(permits, partitions: 1)
        let producer = try KafkaProducer(config: producerConfig(setup.cluster.bootstrapServers))
        let t0 = setup.t0
        // E1 has a hot-work permit for minutes 0–60; E0 has none.
        try producer.produce(topic: permits, key: Array("E1".utf8), value: Array(
            "{\"enterprise\":\"E1\",\"permit\":\"P1\",\"kind\":\"hot_work_2\",\"start\":\(t0),\"end\":\(t0 + 3_600_000)}".utf8))
        try producer.flush()
        var count = 0
        // E0-GT-0 (partition 0) and E1-GT-1 (partition 1) reach AL2 (55) at minute 5 and stay there for 20 min.
        for k in 0..<60 {
            let t = t0 + Int64(k) * 30_000
            for e in 0...1 {
                let value = k >= 10 && k < 50 ? 55.0 : 5.0
                let json = "{\"enterprise\":\"E\(e)\",\"sensor\":\"E\(e)-GT-\(e)\",\"ts\":\(t),\"value\":\(value)}"
                try producer.produce(topic: setup.input, partition: Int32(e), key: Array("E\(e)".utf8), value: Array(json.utf8))
                count += 1
            }
        }
        try producer.flush()
        var config = setup.config(group: uniqueName("g"), checkpoint: .none)
        config.permitsTopic = permits
        config.alertPolicies = [AlertPolicy(level1: .yellow, level2: .red)]  // the gas rule's AL2 is a red alert
        let job = try StreamJob(config: config)
        try setup.run(job, messages: Int64(count))
        try job.close()
        let grades = try Self.grades(setup)
        func history(_ e: String) -> [String] {
            grades.filter { $0["enterprise"] as? String == e }.map { g in
                let overrides = (g["inputs"] as? [String: Any])?["overrides"] as? [String] ?? []
                return "\(g["level"]!) \(((g["ts"] as? NSNumber)?.int64Value ?? 0) - t0) \(overrides.joined(separator: ","))"
            }
        }
        // E1: red as soon as AL2 is raised (hot work under way), at the reading that raised it (minute 5.5).
        #expect(history("E1").contains("red 330000 al2_during_hot_work"), "\(history("E1"))")
        // E0: red once its red-severity AL2 has lasted more than 10 min (the evaluation after minute 15.5).
        let e0 = history("E0")
        let firstRed = e0.first { $0.hasPrefix("red") }
        #expect(firstRed?.hasSuffix("red_alarm_sustained") == true, "\(e0)")
        let ms = Int64(firstRed?.split(separator: " ")[1] ?? "") ?? 0
        #expect(ms > 330_000 + 600_000 && ms <= 330_000 + 600_000 + 60_000, "\(e0)")
        #expect(!e0.contains { $0.contains("al2_during_hot_work") })
    }
}
