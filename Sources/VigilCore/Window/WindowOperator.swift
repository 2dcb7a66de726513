/// A window operator of either family behind one interface: panes for tumbling, hopping and sliding windows,
/// sessions for session windows. The pipeline holds one per configured window and partition.
public enum WindowOperator {
    case pane(PaneWindowOperator)
    case session(SessionWindowOperator)

    /// A new operator for `spec`, with `watermark` as its clock.
    public init(spec: WindowSpec, watermark: Watermark, expectedSensors: Int = 1024) {
        if case .session = spec.kind {
            self = .session(SessionWindowOperator(spec: spec, watermark: watermark))
        } else {
            self = .pane(PaneWindowOperator(spec: spec, watermark: watermark, expectedSensors: expectedSensors))
        }
    }

    /// An operator restored from ``snapshot()`` bytes taken with the same `spec`.
    public init(spec: WindowSpec, watermark: Watermark, restoring bytes: [UInt8]) throws(SnapshotError) {
        if case .session = spec.kind {
            self = .session(try SessionWindowOperator(spec: spec, watermark: watermark, restoring: bytes))
        } else {
            self = .pane(try PaneWindowOperator(spec: spec, watermark: watermark, restoring: bytes))
        }
    }

    public var watermark: Watermark {
        switch self {
        case .pane(let op): op.watermark
        case .session(let op): op.watermark
        }
    }

    /// Approximate bytes of state held.
    public var stateBytes: Int {
        switch self {
        case .pane(let op): op.stateBytes
        case .session(let op): op.openSessions * 256
        }
    }

    public func noteActivity(processingTime now: Int64) {
        switch self {
        case .pane(let op): op.noteActivity(processingTime: now)
        case .session(let op): op.noteActivity(processingTime: now)
        }
    }

    public func process(_ batch: ReadingBatch, into output: inout WindowResults, late: inout LateRecords) {
        switch self {
        case .pane(let op): op.process(batch, into: &output, late: &late)
        case .session(let op): op.process(batch, into: &output, late: &late)
        }
    }

    /// Processes `batch` with the watermark at each reading given (the partition clock's).
    public func process(_ batch: ReadingBatch, watermarks: [Int64], into output: inout WindowResults, late: inout LateRecords) {
        switch self {
        case .pane(let op): op.process(batch, watermarks: watermarks, into: &output, late: &late)
        case .session(let op): op.process(batch, watermarks: watermarks, into: &output, late: &late)
        }
    }

    public func advance(processingTime now: Int64, into output: inout WindowResults) {
        switch self {
        case .pane(let op): op.advance(processingTime: now, into: &output)
        case .session(let op): op.advance(processingTime: now, into: &output)
        }
    }

    /// Advances the watermark to `wm` (the partition clock's idle advance); emits what closes.
    public func advance(toWatermark wm: Int64, into output: inout WindowResults) {
        switch self {
        case .pane(let op): op.advance(toWatermark: wm, into: &output)
        case .session(let op): op.advance(toWatermark: wm, into: &output)
        }
    }

    public func finish(into output: inout WindowResults) {
        switch self {
        case .pane(let op): op.finish(into: &output)
        case .session(let op): op.finish(into: &output)
        }
    }

    /// Keeps only the watermark's value, for an operator restored into a partition pipeline, whose windows run
    /// on the partition clock (``process(_:watermarks:into:late:)``) and never observe event or processing time
    /// themselves.
    func followClock() {
        switch self {
        case .pane(let op): op.watermark.restore(maxEventTime: EventTime.minimum, current: op.watermark.current, lastActivity: nil)
        case .session(let op): op.watermark.restore(maxEventTime: EventTime.minimum, current: op.watermark.current, lastActivity: nil)
        }
    }

    /// The operator's state as snapshot bytes.
    public func snapshot() -> [UInt8] {
        switch self {
        case .pane(let op): op.snapshot()
        case .session(let op): op.snapshot()
        }
    }
}

@available(*, unavailable)
extension WindowOperator: Sendable {}
