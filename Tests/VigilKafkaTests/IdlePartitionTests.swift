import Foundation
import Testing
import VigilCore
import VigilKafka
@testable import VigilRuntime
import VigilTesting

/// A partition whose whole input stops (a gateway or link outage silences every point of an enterprise at
/// once): after `idle_timeout` its clock follows the processing clock, so its points still go offline.
@Suite(.serialized, .ownThreads, .timeLimit(.minutes(10)))
struct IdlePartitionTests {
    /// Steps `job` for `seconds` of wall-clock time.
    func idle(_ job: StreamJob, seconds: Double) throws {
        let until = Date().addingTimeInterval(seconds)
        while Date() < until { try job.step() }
    }

    @Test("a silent partition's points go offline by the processing clock, with the records event time gives them")
    func silentPartitionGoesOffline() throws {
        for idleTimeout in [Int64(500), nil] {
            let setup = try CheckpointStoreTests.Setup()
            let producer = try KafkaProducer(config: producerConfig(setup.cluster.bootstrapServers))
            // Three points of E0 every second for 9 s, ending 2 s before a minute boundary (where the offline and
            // deadline checks run), then nothing. E0-GT-2 reads above AL1: its alarm is due 2 s after the last reading.
            let start = EventTime.floorDiv(setup.t0, 60_000) * 60_000 + 49_000
            let last = start + 9_000
            func send(_ sensor: Int, _ t: Int64) throws {
                let json = "{\"enterprise\":\"E0\",\"sensor\":\"E0-GT-\(sensor)\",\"ts\":\(t),\"value\":\(sensor == 2 ? 30 : sensor + 1)}"
                try producer.produce(topic: setup.input, partition: 0, key: Array("E0".utf8), value: Array(json.utf8))
            }
            for t in stride(from: start, through: last, by: 1_000) { for s in 0..<3 { try send(s, t) } }
            try producer.flush()
            var config = setup.config(group: uniqueName("g"), checkpoint: .none)
            config.pipeline.idleTimeout = idleTimeout
            config.pipeline.offlineAfter = 2_000
            config.pipeline.outOfOrderness = 0
            config.pipeline.alarms.deadlines[.yellow] = 9_000
            let job = try StreamJob(config: config)
            try setup.run(job, messages: 30)
            try idle(job, seconds: 3.5)
            let whileSilent = job.stats.alertsByLevel["offline OFFLINE"] ?? 0
            let overdueWhileSilent = job.stats.alertsByLevel.filter { $0.key.hasPrefix("overdue") }.values.reduce(0, +)
            // E0-GT-0 reports again.
            try send(0, last + 10_000)
            try producer.flush()
            try setup.run(job, messages: 31)
            try job.close()
            let gaps = try setup.parsedRecords(".alerts").filter { $0["rule"] as? String == "data_gap" }
            let offline = gaps.filter { $0["event"] as? String == "offline" }
            let online = gaps.filter { $0["event"] as? String == "online" }
            if idleTimeout != nil {
                #expect(whileSilent == 3, "every point offline while the partition is silent")
                #expect(overdueWhileSilent == 1, "the unacknowledged alarm escalates while the partition is silent")
            } else {
                // Without the idle clock nothing moves until data comes: E0-GT-0's own reading then shows its
                // gap, and the watermark it moves shows E0-GT-1's.
                #expect(whileSilent == 0 && overdueWhileSilent == 0)
            }
            #expect(offline.compactMap { $0["sensor"] as? String }.sorted() == ["E0-GT-0", "E0-GT-1", "E0-GT-2"])
            let overdue = try setup.parsedRecords(".alerts").filter { $0["event"] as? String == "overdue" }
            #expect(overdue.count == 1 && overdue.first?["sensor"] as? String == "E0-GT-2")
            // Either way the records are those of event time: offline at the last reading + offline_after, the
            // id from it, back online at the new reading.
            for o in offline {
                #expect(o["ts"] as? Int64 == last + 2_000)
                #expect(o["alert_id"] as? String == "\(o["sensor"] as? String ?? "")/data_gap/\(last + 2_000)")
            }
            #expect(online.count == 1)
            #expect(online.first?["sensor"] as? String == "E0-GT-0" && online.first?["ts"] as? Int64 == last + 10_000)
        }
    }
}
