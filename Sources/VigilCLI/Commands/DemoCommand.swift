import ArgumentParser
import VigilCore
import VigilSimulator

#if canImport(Glibc)
import Glibc
#endif

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run a short, self-contained demonstration of the window engine.",
        discussion: """
            Simulates a few chemical-park enterprises (flammable and toxic gas detectors, tank temperature, \
            pressure and level, one reading per second each) with a gas leak ramping up on one detector, \
            feeds the readings in event time through 1-minute tumbling windows (count, mean, max, stddev, \
            p95), and prints the leaking detector's windows next to the AL1/AL2 alarm levels of \
            GB/T 50493-2019 (25 / 50 %LEL), then a summary.

            Everything runs in this process; the Kafka-based pipeline demo builds on this once the Kafka \
            I/O and pipeline runtime land (see the README).

            Examples:
              vigil demo
              vigil demo --enterprises 200 --minutes 60
            """
    )

    @Option(help: "Number of simulated enterprises (5 monitoring points each).")
    var enterprises: Int = 5

    @Option(help: "Simulated minutes of data.")
    var minutes: Int = 30

    func validate() throws {
        guard (1...100_000).contains(enterprises) else { throw ValidationError("--enterprises must be in 1…100000") }
        guard (3...10_080).contains(minutes) else { throw ValidationError("--minutes must be in 3…10080") }
    }

    mutating func run() async throws {
        let start: Int64 = 1_732_300_000_000 - 1_732_300_000_000 % 60_000
        let leakSensor = "E" + String(format4(min(3, enterprises))) + "-GT-101"
        let leak = PlantStream.Incident(
            kind: .gasLeakRamp, sensor: leakSensor, start: start + Int64(minutes / 3) * 60_000,
            end: start + Int64(2 * minutes / 3) * 60_000, magnitude: 70
        )
        let stream = PlantStream(enterprises: enterprises, start: start, incidents: [leak])
        let spec = WindowSpec(kind: .tumbling(size: 60_000), statistics: [.count, .mean, .max, .stddev, .p95])
        let op = PaneWindowOperator(spec: spec, watermark: Watermark(outOfOrderness: 2_000), expectedSensors: stream.points.count)
        var sensors = KeyInterner()
        var enterpriseKeys = KeyInterner()
        var batch = ReadingBatch()
        var out = WindowResults()
        var late = LateRecords()
        let ansi = isatty(1) != 0
        func colour(_ s: String, _ code: String) -> String { ansi ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }

        print("Vigil demo: \(enterprises) enterprises × \(SensorType.allCases.count) monitoring points, \(minutes) min at 1 Hz")
        print("Injected: gas leak ramp on \(leakSensor), minutes \(minutes / 3)–\(2 * minutes / 3), up to +70 %LEL")
        print("")
        print("window (UTC)   sensor          count    mean     p95      max   level")
        let clock = ContinuousClock()
        let began = clock.now
        var records = 0
        var rows = 0
        var alarmWindows = (al1: 0, al2: 0)
        let leakSlot = sensors.intern(leakSensor)
        for minute in 0..<minutes {
            batch.removeAll()
            stream.fill(
                &batch, from: start + Int64(minute) * 60_000, to: start + Int64(minute + 1) * 60_000,
                sensors: &sensors, enterprises: &enterpriseKeys
            )
            records += batch.count
            op.process(batch, into: &out, late: &late)
            if minute == minutes - 1 { op.finish(into: &out) }
            for i in 0..<out.rowCount {
                rows += 1
                let isGas = sensors.key(for: out.sensor[i]).contains("-GT-")
                if isGas && out.max[i] >= 50 { alarmWindows.al2 += 1 } else if isGas && out.max[i] >= 25 { alarmWindows.al1 += 1 }
                guard out.sensor[i] == leakSlot else { continue }
                let level =
                    out.max[i] >= 50 ? colour("AL2 ≥ 50", "31;1") : out.max[i] >= 25 ? colour("AL1 ≥ 25", "33;1") : colour("normal", "34")
                print(
                    "\(hhmm(out.windowStart[i]))          \(leakSensor)  \(pad(out.count[i], 5)) \(fixed(out.mean[i])) \(fixed(out.p95[i])) \(fixed(out.max[i]))   \(level)"
                )
            }
            out.removeAll()
        }
        let elapsed = clock.now - began
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        print("")
        print("Summary")
        print("  readings processed   \(records)")
        print("  window rows emitted  \(rows) (\(stream.points.count) sensors × \(minutes) windows)")
        print("  late readings        \(op.lateCount)")
        print("  gas windows ≥ AL1    \(alarmWindows.al1), ≥ AL2 \(alarmWindows.al2)")
        print("  wall time            \(fixed(seconds * 1000)) ms (including simulation)")
    }
}

private func format4(_ n: Int) -> String {
    let s = String(n)
    return String(repeating: "0", count: max(0, 4 - s.count)) + s
}

private func hhmm(_ ms: Int64) -> String {
    let minutes = (ms / 60_000) % 1_440
    return "\(minutes / 60 < 10 ? "0" : "")\(minutes / 60):\(minutes % 60 < 10 ? "0" : "")\(minutes % 60)"
}

private func pad(_ n: Int64, _ width: Int) -> String {
    let s = String(n)
    return String(repeating: " ", count: max(0, width - s.count)) + s
}

private func fixed(_ x: Double) -> String {
    guard x.isFinite else { return "     -" }
    let scaled = (x * 100).rounded() / 100
    var s = String(scaled)
    if let dot = s.firstIndex(of: ".") {
        let decimals = s.distance(from: dot, to: s.endIndex) - 1
        if decimals < 2 { s += String(repeating: "0", count: 2 - decimals) }
    }
    return String(repeating: " ", count: max(0, 8 - s.count)) + s
}
