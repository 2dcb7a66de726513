public import VigilCore

/// A plain-Swift baseline for tumbling windows: one `Dictionary` entry per (window, sensor) holding a
/// ``StatAccumulator``, fired when the watermark (max event time, no lateness) passes the window end.
///
/// This is what a straightforward implementation looks like; the benchmarks report the window engine's
/// speed as a ratio to it, measured in the same run.
public final class DictionaryWindowBaseline {
    struct Key: Hashable {
        var start: Int64
        var sensor: UInt32
    }

    let size: Int64
    var state: [Key: StatAccumulator] = [:]
    var watermark: Int64 = .min
    var nextFire: Int64 = .max
    public private(set) var rows = 0
    public private(set) var checksum = 0.0

    public init(size: Int64) { self.size = size }

    public func process(_ batch: ReadingBatch) {
        for i in 0..<batch.count {
            let t = batch.eventTime[i]
            if t > watermark {
                watermark = t
                if watermark >= nextFire { fire() }
            }
            let start = EventTime.alignDown(t, size)
            state[Key(start: start, sensor: batch.sensor[i]), default: StatAccumulator()].add(time: t, value: batch.value[i])
            if start + size < nextFire { nextFire = start + size }
        }
    }

    public func finish() {
        watermark = .max
        fire()
    }

    func fire() {
        var next = Int64.max
        for (key, acc) in state {
            if key.start + size <= watermark {
                rows += 1
                checksum += Double(acc.count) + acc.mean + acc.min + acc.max + acc.stddev
                state[key] = nil
            } else if key.start + size < next {
                next = key.start + size
            }
        }
        nextFire = next
    }
}

@available(*, unavailable)
extension DictionaryWindowBaseline: Sendable {}
