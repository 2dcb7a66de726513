import Testing
import VigilPipeline
import VigilSimulator

@Suite struct PlantSimulatorTests {
    func simulator(seed: UInt64) throws -> PlantSimulator {
        let spec = try PipelineLoader.load(path: pipelinesDirectory + "/chemical-park.yaml", environment: [:])
        return PlantSimulator(
            types: spec.sensorTypes, enterprises: 5, start: 1_700_000_000_000, end: 1_700_007_200_000, period: 10_000, seed: seed,
            incidentsPerSensorHour: 0.2
        )
    }

    @Test func deterministicForASeed() throws {
        var a: [String] = []
        var b: [String] = []
        try simulator(seed: 7).readings(from: 1_700_000_000_000, to: 1_700_000_600_000) { p, t, v in a.append("\(p.sensor) \(t) \(v)") }
        try simulator(seed: 7).readings(from: 1_700_000_000_000, to: 1_700_000_600_000) { p, t, v in b.append("\(p.sensor) \(t) \(v)") }
        #expect(a == b && !a.isEmpty)
        var c: [String] = []
        try simulator(seed: 8).readings(from: 1_700_000_000_000, to: 1_700_000_600_000) { p, t, v in c.append("\(p.sensor) \(t) \(v)") }
        #expect(a != c)
        #expect(try simulator(seed: 7).incidents == simulator(seed: 7).incidents)
    }

    @Test("Incidents show in the data: ramps cross AL2, dropouts send nothing, stuck sensors repeat")
    func incidentsAreVisible() throws {
        let sim = try simulator(seed: 11)
        #expect(sim.incidents.count >= 7)
        #expect(Set(sim.incidents.map(\.kind)) == Set(PlantSimulator.Incident.Kind.scheduled))
        var values: [String: [(Int64, Double)]] = [:]
        sim.readings(from: sim.start, to: sim.end) { p, t, v in values[p.sensor, default: []].append((t, v)) }
        // One point per sensor id: the two oxygen types share one detector.
        #expect(sim.points.count == Set(sim.points.map(\.sensor)).count)
        for incident in sim.incidents {
            let inside = (values[incident.sensor] ?? []).filter { $0.0 >= incident.start && $0.0 < incident.end }
            switch incident.kind {
            case .dropout: #expect(inside.isEmpty, "\(incident)")
            case .stuck: #expect(Set(inside.map(\.1)).count <= 1, "\(incident)")
            case .gasLeakRamp:
                let point = sim.points.first { $0.sensor == incident.sensor }!
                if let al2 = point.type.alarm2, point.type.direction == .high, inside.count > 10 {
                    #expect(inside.map(\.1).max()! > al2 * 0.9, "\(incident)")
                }
            default: break
            }
        }
    }

    @Test("instrument faults read below the range, only when asked for, and leave the other incidents as they were")
    func instrumentFaults() throws {
        let spec = try PipelineLoader.load(path: pipelinesDirectory + "/chemical-park.yaml", environment: [:])
        func make(_ rate: Double) -> PlantSimulator {
            PlantSimulator(
                types: spec.sensorTypes, enterprises: 5, start: 1_700_000_000_000, end: 1_700_007_200_000, period: 10_000, seed: 11,
                incidentsPerSensorHour: 0.2, instrumentFaultsPerSensorHour: rate)
        }
        let plain = make(0)
        let faulty = make(0.5)
        let faults = faulty.incidents.filter { $0.kind == .instrumentFault }
        #expect(!plain.incidents.contains { $0.kind == .instrumentFault } && faults.count >= 10)
        #expect(faulty.incidents.filter { $0.kind != .instrumentFault } == plain.incidents)
        var below = 0
        faulty.readings(from: faulty.start, to: faulty.end) { p, t, v in
            guard faults.contains(where: { $0.sensor == p.sensor && t >= $0.start && t < $0.end }) else { return }
            #expect(v < p.type.rangeMin!, "\(p.sensor) \(t) \(v)")
            below += 1
        }
        #expect(below >= 2 * faults.count, "3–8 readings each, fewer only where a dropout overlaps")
    }
}
