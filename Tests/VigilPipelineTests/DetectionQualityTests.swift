import Testing
import VigilCore
import VigilPipeline
import VigilSimulator

@Suite struct DetectionQualityTests {
    @Test("Detection quality per incident kind on simulated chemical-park data")
    func qualityPerKind() throws {
        let spec = try PipelineLoader.load(path: pipelinesDirectory + "/chemical-park.yaml", environment: [:])
        var lines: [String] = []
        var totalIncidents = 0
        var totalDetected = 0
        var episodes = 0
        var matched = 0
        var perKind: [PlantSimulator.Incident.Kind: (Int, Int, [Int64])] = [:]
        var unmatched: [String: Int] = [:]
        for seed in [1, 2, 3] as [UInt64] {
            let simulator = PlantSimulator(
                types: spec.sensorTypes, enterprises: 20, start: 1_700_000_000_000, end: 1_700_000_000_000 + 6 * 3_600_000,
                period: 10_000, seed: seed, incidentsPerSensorHour: 0.02
            )
            let report = DetectionQuality.evaluate(simulator: simulator)
            episodes += report.episodes
            matched += report.matchedEpisodes
            unmatched.merge(report.unmatchedByDetector, uniquingKeysWith: +)
            for (kind, r) in report.byKind {
                var k = perKind[kind] ?? (0, 0, [])
                k.0 += r.incidents
                k.1 += r.detected
                k.2 += r.delays
                perKind[kind] = k
                totalIncidents += r.incidents
                totalDetected += r.detected
            }
        }
        for kind in PlantSimulator.Incident.Kind.scheduled {
            let (n, d, delays) = perKind[kind] ?? (0, 0, [])
            let median = delays.sorted().dropFirst(delays.count / 2).first
            lines.append("\(kind.rawValue): \(d)/\(n) detected, median delay \(median.map { "\($0 / 1000) s" } ?? "-")")
        }
        lines.append("episodes: \(matched)/\(episodes) match an incident; unmatched by first detector: \(unmatched.sorted { $0.value > $1.value })")
        print("DETECTION QUALITY\n" + lines.joined(separator: "\n"))
        #expect(totalIncidents > 50)
        // Targets of the detectors issue: recall ≥ 0.95 per incident kind, precision ≥ 0.9 of alert episodes.
        for kind in PlantSimulator.Incident.Kind.scheduled {
            let (n, d, _) = perKind[kind] ?? (0, 0, [])
            #expect(n >= 5, "too few \(kind) incidents to measure")
            #expect(Double(d) >= 0.95 * Double(n), "\(kind): recall \(d)/\(n)")
        }
        #expect(Double(matched) >= 0.9 * Double(episodes), "precision \(matched)/\(episodes)")
        _ = totalDetected
    }
}
