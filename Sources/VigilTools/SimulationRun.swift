import Foundation
import VigilRuntime
import VigilCore
import VigilKafka
public import VigilPipeline
public import VigilSimulator

/// Produces a ``PlantSimulator`` stream to a pipeline's input topics: readings, plus enterprise profiles,
/// point setpoints, work permits and hidden-hazard events when the pipeline names those sources.
public enum SimulationRun: Sendable {
    public struct Options: Sendable {
        public var brokers: String
        public var enterprises = 10
        /// Readings per second (all sensors together); sets the sampling period.
        public var rate: Double? = nil
        public var duration: Int64 = 60_000
        public var seed: UInt64 = 42
        /// Produce as fast as possible, with event times ending now, instead of in real time.
        public var fast = false
        /// Event time passes this many times faster than real time (event times end now); 1: real time.
        public var speed = 1.0
        /// Event time of the first reading (ms); nil: now (real time) or `duration` before now (fast, sped up).
        /// A fixed start makes a run reproducible byte for byte.
        public var start: Int64? = nil
        public var groundTruthPath: String? = nil
        public var kafka: [String: String] = [:]
        public init(brokers: String) { self.brokers = brokers }
    }

    public struct Summary: Sendable {
        public var readings = 0
        public var profiles = 0
        public var permits = 0
        public var hazards = 0
        public var setpoints = 0
        public var commitments = 0
        public var incidents: [PlantSimulator.Incident] = []
    }

    /// Enterprise profiles (region, industry, major-hazard grade 1–4 or none, a 2018 diagnosis of a few items
    /// and credit factors; `DOMAIN.md` §2.1, §7.2), deterministic for a seed. One enterprise in twelve has a
    /// direct-red condition, one in eight a serious-dishonesty listing. Every second enterprise leaves its
    /// monitoring-compliance factor out, for the engine to supply from its offline KPI (§5 → §7.2).
    public static func profiles(enterprises: [String], seed: UInt64) -> [(String, String)] {
        var rng = SplitMix64(seed: seed ^ 0x9F0F)
        let regions = ["north", "south", "east", "west"]
        let industries = ["chemicals", "mining", "metallurgy", "construction"]
        let items = [
            "key_hazardous_process", "class_a_area", "obsolete_equipment", "mhi_without_remote_monitoring", "missing_gas_detection",
            "incomplete_procedures", "no_registered_safety_engineer", "fire_brigade",
        ]
        let factors = ["hazard_closure", "enforcement", "accidents", "monitoring", "standardisation", "training", "drills"]
        return enterprises.enumerated().map { index, e in
            let grade = rng.next() % 5
            let counts = items.compactMap { item in rng.nextUnit() < 0.35 ? "\"\(item)\":\(1 + rng.next() % 3)" : nil }
            let directRed = rng.next() % 12 == 0 ? "\"major_accident_3y\"" : ""
            // Every factor is drawn (so the other values do not depend on which are left out).
            let credit = factors.compactMap { factor in
                let value = 40 + rng.next() % 61
                return factor == "monitoring" && index % 2 == 1 ? nil : "\"\(factor)\":\(value)"
            }
            let json =
                "{\"enterprise\":\"\(e)\",\"name\":\"Enterprise \(e)\",\"region\":\"\(regions[Int(rng.next() % 4)])\","
                + "\"industry\":\"\(industries[Int(rng.next() % 4)])\",\"major_hazard_grade\":\(grade == 0 ? "null" : "\(grade)"),"
                + "\"diagnostic\":{\"items\":{\(counts.joined(separator: ","))},\"direct_red\":[\(directRed)]},"
                + "\"credit\":{\"factors\":{\(credit.joined(separator: ","))},\"serious_dishonesty\":\(rng.next() % 8 == 0)}}"
            return (e, json)
        }
    }

    /// Daily safety commitments (`{"enterprise", "date"}`) for the local dates from `from` to `to` (event time,
    /// ms): each enterprise files one on 85 % of the days. Deterministic for a seed.
    public static func commitments(enterprises: [String], from: Int64, to: Int64, utcOffset: Int64, seed: UInt64) -> [(String, String)] {
        var rng = SplitMix64(seed: seed ^ 0xC0117)
        let first = EventTime.floorDiv(from + utcOffset, 86_400_000)
        let last = EventTime.floorDiv(to + utcOffset, 86_400_000)
        var out: [(String, String)] = []
        for day in first...max(first, last) {
            let (y, m, d) = EventTime.civilDate(daysSinceEpoch: day)
            let date = String(format: "%04lld-%02ld-%02ld", y, m, d)
            for e in enterprises where rng.nextUnit() < 0.85 { out.append((e, "{\"enterprise\":\"\(e)\",\"date\":\"\(date)\"}")) }
        }
        return out
    }

    /// Runs the simulation (blocking). `stop` ends it early; `progress` receives a line every few seconds.
    public static func run(spec: PipelineSpec, options: Options, stop: StopSignal, progress: (String) -> Void) throws -> Summary {
        guard let readings = spec.sources.readings else {
            throw RunnerError(message: "pipeline '\(spec.name)' has no readings source to simulate")
        }
        guard !spec.sensorTypes.isEmpty else {
            throw RunnerError(message: "pipeline '\(spec.name)' defines no sensor_types: nothing to simulate")
        }
        let pointCount = spec.sensorTypes.count * max(1, options.enterprises)
        let period = max(100, Int64((Double(pointCount) * 1000 / (options.rate ?? Double(pointCount))).rounded()))
        let now = currentTimeMillis()
        let start = options.start ?? (options.fast || options.speed != 1 ? now - options.duration : now)
        let simulator = PlantSimulator(
            types: spec.sensorTypes, enterprises: options.enterprises, start: start, end: start + options.duration, period: period,
            seed: options.seed
        )
        var pc = KafkaProducerConfig(bootstrapServers: options.brokers)
        pc.additionalConfig = options.kafka
        let producer = try KafkaProducer(config: pc)
        var summary = Summary(incidents: simulator.incidents)
        // Every table topic of the pipeline, including those this run writes nothing to (acknowledgements, and
        // hazards when none is drawn), so that a `vigil run` reading them finds them all and reads them to their end.
        let tableTopics = [
            spec.sources.enterprises, spec.sources.hazards, spec.sources.permits, spec.sources.setpoints, spec.sources.commitments,
            spec.sources.offlineNotices, spec.alerts.acknowledgements,
        ].compactMap { $0 }
        for topic in tableTopics { _ = try? producer.lookUp(topic: topic) }
        let enterprises = Array(Set(simulator.points.map(\.enterprise))).sorted()
        var rng = SplitMix64(seed: options.seed ^ 0x5EED)
        if let topic = spec.sources.enterprises {
            for (e, json) in profiles(enterprises: enterprises, seed: options.seed) {
                try producer.produce(topic: topic, key: Array(e.utf8), value: Array(json.utf8))
                summary.profiles += 1
            }
        }
        if let topic = spec.sources.setpoints {
            for (sensor, json) in simulator.setpointRecords() {
                try producer.produce(topic: topic, key: Array(sensor.utf8), value: Array(json.utf8))
                summary.setpoints += 1
            }
        }
        if let topic = spec.sources.commitments {
            for (e, json) in commitments(
                enterprises: enterprises, from: start, to: start + options.duration, utcOffset: spec.utcOffset, seed: options.seed)
            {
                try producer.produce(topic: topic, key: Array(e.utf8), value: Array(json.utf8))
                summary.commitments += 1
            }
        }
        if let topic = spec.sources.permits {
            for e in enterprises where rng.nextUnit() < 0.3 {
                let begin = start + Int64(rng.nextUnit() * Double(options.duration))
                let kinds = ["hot_work_special", "hot_work_1", "hot_work_2", "confined_space", "lifting", "work_at_height"]
                let json =
                    "{\"enterprise\":\"\(e)\",\"permit\":\"\(e)-P\(summary.permits + 1)\",\"kind\":\"\(kinds[Int(rng.next() % UInt64(kinds.count))])\",\"start\":\(begin),\"end\":\(begin + options.duration / 4)}"
                try producer.produce(topic: topic, key: Array(e.utf8), value: Array(json.utf8))
                summary.permits += 1
            }
        }
        if let topic = spec.sources.offlineNotices {
            // A few enterprises file an offline notice (离线报备) for a planned outage within the run.
            for e in enterprises where rng.nextUnit() < 0.1 {
                let begin = start + Int64(rng.nextUnit() * Double(options.duration))
                let json =
                    "{\"enterprise\":\"\(e)\",\"notice\":\"\(e)-N1\",\"from\":\(begin),\"planned_online\":\(begin + options.duration / 8),\"reason\":\"planned maintenance\"}"
                try producer.produce(topic: topic, key: Array(e.utf8), value: Array(json.utf8))
            }
        }
        if let topic = spec.sources.hazards {
            for e in enterprises where rng.nextUnit() < 0.2 {
                let major = rng.nextUnit() < 0.25
                let json =
                    "{\"enterprise\":\"\(e)\",\"hazard\":\"\(e)-H\(summary.hazards + 1)\",\"class\":\"\(major ? "major" : "general")\",\"status\":\"open\",\"deadline\":\(start + options.duration)}"
                try producer.produce(topic: topic, key: Array(e.utf8), value: Array(json.utf8))
                summary.hazards += 1
            }
        }
        var t = start
        var lastProgress = currentTimeMillis()
        let topic = readings.topics[0]
        while t < simulator.end && !stop.isRequested {
            let chunkEnd = min(simulator.end, t + max(period, 1_000))
            try simulator.readings(from: t, to: chunkEnd) { (point, ts, value) throws(KafkaError) in
                let unit = point.type.unit.map { ",\"unit\":\"\($0)\"" } ?? ""
                let json = "{\"enterprise\":\"\(point.enterprise)\",\"sensor\":\"\(point.sensor)\",\"ts\":\(ts),\"value\":\(value)\(unit)}"
                try producer.produce(topic: topic, key: Array(point.enterprise.utf8), value: Array(json.utf8))
                summary.readings += 1
            }
            t = chunkEnd
            if !options.fast {
                let wait = now + Int64(Double(t - start) / options.speed) - currentTimeMillis()
                if wait > 0 { usleep(UInt32(min(wait, 1_000)) * 1_000) }
                producer.poll()
            }
            if currentTimeMillis() - lastProgress >= 5_000 {
                progress("simulate: \(summary.readings) readings, event time \((t - start) / 1000) s of \(options.duration / 1000) s")
                lastProgress = currentTimeMillis()
            }
        }
        try producer.flush(timeoutMs: 60_000)
        if let path = options.groundTruthPath {
            let text = simulator.incidents.map(\.json).joined(separator: "\n") + (simulator.incidents.isEmpty ? "" : "\n")
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
        return summary
    }
}
