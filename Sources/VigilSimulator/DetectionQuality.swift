public import VigilCore
import VigilPipeline

/// Measures detection quality on simulated data with ground truth: per incident kind, how many incidents an
/// anomaly score at or above `floor` found (recall), the median delay from incident start to the first such
/// score, and how many alert episodes (runs of consecutive readings at or above the floor on one sensor)
/// overlap an incident (precision).
public enum DetectionQuality: Sendable {
    public struct KindResult: Sendable {
        public var incidents = 0
        public var detected = 0
        public var delays: [Int64] = []
        public var recall: Double { incidents == 0 ? 1 : Double(detected) / Double(incidents) }
        public var medianDelay: Int64? {
            guard !delays.isEmpty else { return nil }
            let s = delays.sorted()
            return s[s.count / 2]
        }
    }

    public struct Report: Sendable {
        public var byKind: [PlantSimulator.Incident.Kind: KindResult] = [:]
        public var episodes = 0
        public var matchedEpisodes = 0
        public var readings = 0
        /// Episodes that match no incident, by the detector of their first reading (what to tune).
        public var unmatchedByDetector: [String: Int] = [:]
        public var precision: Double { episodes == 0 ? 1 : Double(matchedEpisodes) / Double(episodes) }
    }

    /// Scores every reading of `simulator` and compares with its incidents.
    ///
    /// - Parameters:
    ///   - grace: How long after an incident ends a detection or an episode still counts for it (ms).
    public static func evaluate(
        simulator: PlantSimulator, settings: AnomalySettings = AnomalySettings(), floor: Double = 0.6, grace: Int64 = 600_000
    ) -> Report {
        var scorer = AnomalyScorer(settings: settings)
        let rules: [ThresholdRule?] = simulator.points.map(\.type.thresholdRule)
        let index = Dictionary(uniqueKeysWithValues: simulator.points.enumerated().map { ($1.sensor, $0) })
        var firstHit: [Int: Int64] = [:]  // incident index → first detection time
        var report = Report()
        var open: [Int: (start: Int64, matched: Bool, detector: String)] = [:]  // point → current episode
        let incidentsBySensor = Dictionary(grouping: simulator.incidents.indices, by: { simulator.incidents[$0].sensor })
        func closeEpisode(_ p: Int) {
            if let e = open.removeValue(forKey: p) {
                report.episodes += 1
                if e.matched { report.matchedEpisodes += 1 } else { report.unmatchedByDetector[e.detector, default: 0] += 1 }
            }
        }
        simulator.readings(from: simulator.start, to: simulator.end) { point, t, v in
            report.readings += 1
            let p = index[point.sensor]!
            let s = scorer.score(slot: UInt32(p), time: t, value: v, rule: rules[p])
            guard s.score >= floor else {
                closeEpisode(p)
                return
            }
            var matched = false
            for i in incidentsBySensor[point.sensor] ?? [] {
                let incident = simulator.incidents[i]
                if t >= incident.start && t <= incident.end + grace {
                    matched = true
                    if firstHit[i] == nil { firstHit[i] = t }
                }
            }
            if var e = open[p] {
                e.matched = e.matched || matched
                open[p] = e
            } else {
                open[p] = (t, matched, "\(point.type.name):\(s.detector.rawValue)")
            }
        }
        for p in Array(open.keys) { closeEpisode(p) }
        for (i, incident) in simulator.incidents.enumerated() {
            var r = report.byKind[incident.kind] ?? KindResult()
            r.incidents += 1
            if let hit = firstHit[i] {
                r.detected += 1
                r.delays.append(hit - incident.start)
            }
            report.byKind[incident.kind] = r
        }
        return report
    }
}
