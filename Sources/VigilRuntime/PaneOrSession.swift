import VigilCore

/// A window operator of either family, behind one interface.
enum PaneOrSession {
    case pane(PaneWindowOperator)
    case session(SessionWindowOperator)

    init(spec: WindowSpec, watermark: Watermark) {
        if case .session = spec.kind {
            self = .session(SessionWindowOperator(spec: spec, watermark: watermark))
        } else {
            self = .pane(PaneWindowOperator(spec: spec, watermark: watermark))
        }
    }

    var watermark: Watermark {
        switch self {
        case .pane(let op): op.watermark
        case .session(let op): op.watermark
        }
    }

    var stateBytes: Int {
        switch self {
        case .pane(let op): op.stateBytes
        case .session(let op): op.openSessions * 256
        }
    }

    func noteActivity(processingTime now: Int64) {
        switch self {
        case .pane(let op): op.noteActivity(processingTime: now)
        case .session(let op): op.noteActivity(processingTime: now)
        }
    }

    func process(_ batch: ReadingBatch, into output: inout WindowResults, late: inout LateRecords) {
        switch self {
        case .pane(let op): op.process(batch, into: &output, late: &late)
        case .session(let op): op.process(batch, into: &output, late: &late)
        }
    }

    func advance(processingTime now: Int64, into output: inout WindowResults) {
        switch self {
        case .pane(let op): op.advance(processingTime: now, into: &output)
        case .session(let op): op.advance(processingTime: now, into: &output)
        }
    }

    func finish(into output: inout WindowResults) {
        switch self {
        case .pane(let op): op.finish(into: &output)
        case .session(let op): op.finish(into: &output)
        }
    }
}
