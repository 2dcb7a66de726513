import Testing
import VigilCore
import VigilTesting

@Suite struct QuantileSketchTests {
    @Test("Estimates stay within the relative accuracy, over random and extreme data")
    func relativeErrorBound() {
        for seed in 0..<UInt64(120) {
            var rng = TestRandom(seed: seed)
            let accuracy = [0.01, 0.02, 0.005][Int(seed % 3)]
            var sketch = QuantileSketch(relativeAccuracy: accuracy)
            let n = rng.int(in: 1...2_000)
            var values: [Double] = []
            for _ in 0..<n {
                let x: Double
                switch rng.int(in: 0...4) {
                case 0: x = rng.double(in: -1_000...1_000)
                case 1: x = (rng.bool(0.5) ? 1 : -1) * pow(10, rng.double(in: -300...300))
                case 2: x = rng.bool(0.5) ? 0.0 : -0.0
                case 3: x = 20 + rng.double(in: -0.5...0.5)
                default: x = pow(10, rng.double(in: 0...6))
                }
                values.append(x)
                sketch.add(x)
            }
            values.sort()
            for q in [0.0, 0.01, 0.25, 0.5, 0.95, 0.99, 1.0] {
                let exact = values[Int((q * Double(n - 1)).rounded(.down))]
                let estimate = sketch.quantile(q)!
                #expect(
                    RowComparison.withinSketchBound(estimate: estimate, exact: exact, accuracy: accuracy),
                    "seed \(seed) q \(q): \(estimate) vs \(exact)"
                )
            }
        }
    }

    @Test func mergeEqualsSingleSketch() {
        var rng = TestRandom(seed: 99)
        var whole = QuantileSketch()
        var parts = [QuantileSketch(), QuantileSketch(), QuantileSketch()]
        for i in 0..<5_000 {
            let x = pow(10, rng.double(in: -5...5)) * (i % 7 == 0 ? -1 : 1)
            whole.add(x)
            parts[i % 3].add(x)
        }
        var merged = QuantileSketch()
        for p in parts { merged.merge(p) }
        for q in stride(from: 0.0, through: 1.0, by: 0.05) { #expect(merged.quantile(q) == whole.quantile(q)) }
        #expect(merged.count == 5_000)
    }

    @Test func emptyAndResetKeepNothing() {
        var s = QuantileSketch()
        #expect(s.quantile(0.5) == nil)
        s.add(5)
        s.add(.nan)
        s.add(.infinity)
        #expect(s.count == 1)
        s.reset()
        #expect(s.isEmpty && s.quantile(0.5) == nil)
        s.add(-3)
        #expect(abs(s.quantile(0.5)! + 3) <= 0.03)
    }
}

#if canImport(Glibc)
    import Glibc
#endif
