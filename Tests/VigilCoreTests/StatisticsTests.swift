import Testing
import VigilCore
import VigilTesting

@Suite struct StatAccumulatorTests {
    @Test("Welford/Chan merges agree with two-pass statistics on random splits")
    func mergeMatchesReference() {
        for seed in 0..<UInt64(500) {
            var rng = TestRandom(seed: seed)
            let n = rng.int(in: 1...300)
            let scale = pow(10, rng.double(in: -300...150))
            var readings: [ReferenceWindowEngine.Reading] = []
            var parts = (0..<rng.int(in: 1...5)).map { _ in StatAccumulator() }
            var whole = StatAccumulator()
            let ihl = 1.0 / 5_000
            for i in 0..<n {
                let t = Int64(rng.int(in: 0...100_000))
                let x = scale * (5 + rng.double(in: -1...1))
                readings.append(.init(time: t, value: x))
                whole.add(time: t, value: x, ewmaInverseHalfLife: ihl)
                parts[i % parts.count].add(time: t, value: x, ewmaInverseHalfLife: ihl)
            }
            var merged = StatAccumulator()
            for p in parts { merged.merge(p, ewmaInverseHalfLife: ihl) }
            let spec = WindowSpec(kind: .tumbling(size: 1), statistics: .all, ewmaHalfLife: 5_000)
            let ref = ReferenceWindowEngine.row(kind: .final, start: 0, end: 1, sensor: 0, enterprise: 0, readings, spec: spec)
            let meanAbs = readings.map { abs($0.value) }.reduce(0, +) / Double(n)
            for acc in [whole, merged] {
                #expect(acc.count == Int64(n))
                #expect(RowComparison.close(acc.mean, ref.mean, meanAbs), "seed \(seed) mean \(acc.mean) vs \(ref.mean)")
                #expect(RowComparison.relClose(acc.variance, ref.variance), "seed \(seed) var \(acc.variance) vs \(ref.variance)")
                #expect(acc.min == ref.min && acc.max == ref.max)
                #expect(RowComparison.close(acc.ewma, ref.ewma, meanAbs), "seed \(seed) ewma \(acc.ewma) vs \(ref.ewma)")
                #expect(acc.firstTime == ref.firstTime && acc.lastTime == ref.lastTime)
            }
        }
    }

    @Test func rateOfChangeIsPerSecond() {
        var a = StatAccumulator()
        a.add(time: 10_000, value: 5)
        a.add(time: 12_000, value: 9)
        a.add(time: 11_000, value: 100)
        #expect(a.rateOfChange == 2)  // (9 - 5) / 2 s
        var single = StatAccumulator()
        single.add(time: 1, value: 1)
        #expect(single.rateOfChange.isNaN)
    }
}

@Suite struct RollingViewTests {
    @Test("Two-stacks rolling view agrees with recomputing the window from scratch")
    func agreesWithNaive() {
        for seed in 0..<UInt64(200) {
            var rng = TestRandom(seed: seed)
            let span = Int64(rng.int(in: 1...20_000))
            var view = RollingView(span: span)
            var lanes: [UInt32: [(Int64, Double)]] = [:]
            var clock: Int64 = 0
            for _ in 0..<400 {
                clock += Int64(rng.int(in: 0...1_500))
                let t = rng.bool(0.1) ? clock - Int64(rng.int(in: 0...5_000)) : clock
                let slot = UInt32(rng.int(in: 0...3))
                let x = rng.double(in: -50...50)
                let got = view.add(slot: slot, time: t, value: x)
                // Naive: FIFO lane, evict from the front while front.time <= newest - span.
                lanes[slot, default: []].append((t, x))
                let newest = lanes[slot]!.map(\.0).max()!
                while let f = lanes[slot]!.first, f.0 <= newest - span { lanes[slot]!.removeFirst() }
                let xs = lanes[slot]!.map(\.1)
                #expect(got.count == Int64(xs.count))
                #expect(view.count(slot: slot) == xs.count)
                if !xs.isEmpty {
                    let mean = xs.reduce(0, +) / Double(xs.count)
                    let variance = xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(xs.count)
                    #expect(abs(got.mean - mean) <= 1e-9 * 50)
                    #expect(abs(got.variance - variance) <= 1e-9 * Swift.max(1, variance))
                    #expect(got.min == xs.min()! && got.max == xs.max()!)
                }
            }
        }
    }
}

#if canImport(Glibc)
    import Glibc
#endif
