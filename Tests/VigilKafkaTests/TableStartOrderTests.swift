import Foundation
import Testing
import VigilCore
import VigilKafka
import VigilPipeline
@testable import VigilRuntime
import VigilTools
import VigilTesting

/// The reference tables are read in full whichever starts first: the job, or the table topics (created with
/// several partitions while the job runs). Before, a table topic missing at start was read from partition 0
/// only, for good: tank alarms without their setpoints, grades without their profiles.
@Suite(.serialized, .ownThreads, .timeLimit(.minutes(10)))
struct TableStartOrderTests {
    /// Setpoints and profiles, each over 3 partitions (the records that matter on partitions 1 and 2).
    static let setpoints: [(Int32, String, String)] = [
        (0, "E1-LT-2", #"{"enterprise":"E1","sensor":"E1-LT-2","h":80,"hh":90,"l":20,"ll":10,"major_hazard_grade":3}"#),
        (2, "E0-LT-1", #"{"enterprise":"E0","sensor":"E0-LT-1","h":80,"hh":90,"l":20,"ll":10,"major_hazard_grade":2}"#),
    ]
    static let profiles: [(Int32, String, String)] = [
        (1, "E0", #"{"enterprise":"E0","region":"R1","industry":"chemical","major_hazard_grade":2}"#),
        (2, "E1", #"{"enterprise":"E1","region":"R2","industry":"chemical"}"#),
    ]

    enum Order: String, CaseIterable {
        /// Table topics and their records, then the readings, then the job.
        case tablesFirst
        /// The job, then the table topics (created while it runs) and their records, then the readings.
        case runFirst
    }

    /// Runs one order with readings from `t0`; returns the alert and grade records (`topic|key|value`), the job's notices and its table status.
    static func run(_ order: Order, t0: Int64) throws -> (records: [String], notices: [String], status: [String: ProfileTable.TopicStatus]) {
        let setup = try CheckpointStoreTests.Setup()
        let setpointTopic = uniqueName("setpoints")
        let profileTopic = uniqueName("profiles")
        let producer = try KafkaProducer(config: producerConfig(setup.cluster.bootstrapServers))
        func produceTables() throws {
            for topic in [setpointTopic, profileTopic] { try setup.cluster.createTopic(topic, partitions: 3) }
            for (p, key, json) in setpoints {
                try producer.produce(topic: setpointTopic, partition: p, key: Array(key.utf8), value: Array(json.utf8))
            }
            for (p, key, json) in profiles { try producer.produce(topic: profileTopic, partition: p, key: Array(key.utf8), value: Array(json.utf8)) }
            try producer.flush()
        }
        // E0-LT-1 above HH from minute 5 to 50 (E0 orange after 30 min: a grade 2 tank), E1-LT-2 normal.
        var count = 0
        func produceReadings() throws {
            for k in 0..<120 {
                let t = t0 + Int64(k) * 30_000
                for (e, sensor, value) in [("E0", "E0-LT-1", k >= 10 && k < 100 ? 95.0 : 50), ("E1", "E1-LT-2", 50.0)] {
                    let json = "{\"enterprise\":\"\(e)\",\"sensor\":\"\(sensor)\",\"ts\":\(t),\"value\":\(value)}"
                    try producer.produce(topic: setup.input, partition: e == "E0" ? 0 : 1, key: Array(e.utf8), value: Array(json.utf8))
                    count += 1
                }
            }
            try producer.flush()
        }
        var config = setup.config(group: uniqueName("g"), checkpoint: .none)
        config.tables.setpoints = setpointTopic
        config.tables.profiles = profileTopic
        config.pipeline.sensorTypes.append(.tankLevel)
        config.pipeline.grading = PartitionPipelineSettings.Grading()
        if order == .tablesFirst {
            try produceTables()
            try produceReadings()
        }
        let job = try StreamJob(config: config)
        var notices: [String] = []
        job.onInfo = { notices.append($0) }
        if order == .runFirst {
            #expect(job.profiles?.status.values.map(\.partitions) == [0, 0], "the table topics do not exist yet")
            try produceTables()
            // The job finds the new topics within its metadata interval (2 s) and reads all 3 partitions of each.
            let deadline = Date().addingTimeInterval(30)
            while job.profiles?.tables.complete != true && Date() < deadline { try job.step() }
            #expect(job.profiles?.tables.complete == true)
            try produceReadings()
        }
        try setup.run(job, messages: Int64(count))
        let status = job.profiles?.status ?? [:]
        try job.close()
        let records = try setup.outputRecords(setup.outputs).filter { $0.hasPrefix(".alerts|") || $0.hasPrefix(".grades|") }
        return (records, notices, Dictionary(uniqueKeysWithValues: status.map { ($0.value.table, $0.value) }))
    }

    @Test("tables first or the job first, with table topics of 3 partitions created while it runs: the same alarms and grades")
    func sameOutcomeEitherOrder() throws {
        // One event time for both runs, so that their records can be compared byte for byte.
        let t0 = EventTime.floorDiv(currentTimeMillis() - 3_600_000, 3_600_000) * 3_600_000
        let first = try Self.run(.tablesFirst, t0: t0)
        let later = try Self.run(.runFirst, t0: t0)
        #expect(first.records.sorted() == later.records.sorted())
        // What the tables give: the tank's HH from its setpoints, the enterprise's region and its orange.
        let alerts = CheckpointStoreTests.Setup.parsed(later.records, topic: ".alerts")
        #expect(alerts.contains { $0["sensor"] as? String == "E0-LT-1" && $0["event"] as? String == "raised" && $0["limit"] as? Double == 90 })
        #expect(!alerts.contains { $0["event"] as? String == "threshold_not_set" }, "\(alerts)")
        let grades = CheckpointStoreTests.Setup.parsed(later.records, topic: ".grades")
        #expect(grades.filter { $0["enterprise"] as? String == "E0" }.allSatisfy { $0["region"] as? String == "R1" })
        #expect(grades.contains { $0["enterprise"] as? String == "E0" && $0["level"] as? String == "orange" })
        for g in grades {
            let inputs = g["inputs"] as? [String: Any]
            #expect(inputs?["tables_complete"] as? Bool == true && inputs?["profile_missing"] as? Bool == false, "\(g)")
        }
        for status in [first.status, later.status] {
            #expect(status["setpoints"]?.partitions == 3 && status["setpoints"]?.read == 2 && status["setpoints"]?.complete == true)
            #expect(status["profiles"]?.partitions == 3 && status["profiles"]?.read == 2 && status["profiles"]?.complete == true)
        }
        #expect(later.notices.contains { $0.contains("reading its 3 partitions") }, "\(later.notices)")
        #expect(later.notices.contains { $0.contains("read to its end: 2 records in 3 partitions") }, "\(later.notices)")
    }

    @Test("a table topic that does not exist keeps the tables incomplete for the grace after the start, then reads as empty")
    func missingTopicGrace() throws {
        let cluster = try EmbeddedKafkaCluster()
        let missing = uniqueName("hazards")
        let kafka = ["log_level": "3"]
        let waiting = try ProfileTable(topics: [missing: .hazards], brokers: cluster.bootstrapServers, additional: kafka, catchUpMs: 500)
        #expect(waiting.tables.complete == false)
        #expect(waiting.takeNotices().contains { $0.contains("\(missing) does not exist yet") })
        let empty = try ProfileTable(
            topics: [missing: .hazards], brokers: cluster.bootstrapServers, additional: kafka, missingGrace: 0, catchUpMs: 500)
        #expect(empty.tables.complete == true)
        // Once it appears, it is unread until its partitions have been read to their end.
        try cluster.createTopic(missing, partitions: 2)
        let producer = try KafkaProducer(config: producerConfig(cluster.bootstrapServers))
        let hazard = #"{"enterprise":"E0","hazard":"H1","class":"major","status":"open","deadline":1}"#
        try producer.produce(topic: missing, partition: 1, key: Array("E0".utf8), value: Array(hazard.utf8))
        try producer.flush()
        let deadline = Date().addingTimeInterval(20)
        var sawIncomplete = false
        while Date() < deadline && !(sawIncomplete && empty.tables.complete) {
            try empty.refresh()
            if !empty.tables.complete { sawIncomplete = true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        #expect(sawIncomplete && empty.tables.complete && empty.tables.hazards["E0"]?["H1"] != nil)
        #expect(empty.status[missing]?.partitions == 2 && empty.status[missing]?.read == 1)
    }

    @Test("vigil simulate makes every table topic of the pipeline exist, also those it writes nothing to")
    func simulateCreatesTableTopics() throws {
        let spec = try PipelineLoader.load(path: packageRoot() + "/Pipelines/chemical-park.yaml", environment: [:])
        let cluster = try EmbeddedKafkaCluster()
        var options = SimulationRun.Options(brokers: cluster.bootstrapServers)
        options.enterprises = 1
        options.duration = 60_000
        options.fast = true
        options.kafka = ["log_level": "3"]
        _ = try SimulationRun.run(spec: spec, options: options, stop: StopSignal()) { _ in }
        let topics = try KafkaAdmin(bootstrapServers: cluster.bootstrapServers, additionalConfig: ["log_level": "3"]).describeTopics()
        let acknowledgements = try #require(spec.alerts.acknowledgements)
        for topic in [spec.sources.enterprises, spec.sources.hazards, spec.sources.setpoints, acknowledgements].compactMap({ $0 }) {
            #expect(topics[topic] != nil, "\(topic) does not exist after vigil simulate")
        }
    }
}
