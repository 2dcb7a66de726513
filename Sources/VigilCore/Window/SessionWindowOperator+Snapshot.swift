extension StatAccumulator {
    public func write(to w: inout SnapshotWriter) {
        w.i64(count)
        w.f64(mean)
        w.f64(m2)
        w.f64(min)
        w.f64(max)
        w.i64(firstTime)
        w.f64(first)
        w.i64(lastTime)
        w.f64(last)
        w.f64(ewmaNumerator)
        w.f64(ewmaDenominator)
        w.i64(ewmaReference)
        w.bool(sketch != nil)
        sketch?.write(to: &w)
    }

    public init(reading r: inout SnapshotReader, accuracy: Double) throws(SnapshotError) {
        self.init()
        count = try r.i64()
        mean = try r.f64()
        m2 = try r.f64()
        min = try r.f64()
        max = try r.f64()
        firstTime = try r.i64()
        first = try r.f64()
        lastTime = try r.i64()
        last = try r.f64()
        ewmaNumerator = try r.f64()
        ewmaDenominator = try r.f64()
        ewmaReference = try r.i64()
        if try r.bool() { sketch = try QuantileSketch(reading: &r, relativeAccuracy: accuracy) }
    }
}

extension SessionWindowOperator {
    static let snapshotKind: UInt16 = 2

    /// The operator's complete state (watermark, every open session per sensor in order, the due-time heap)
    /// as a versioned, checksummed snapshot; see ``PaneWindowOperator/snapshot()``.
    public func snapshot() -> [UInt8] {
        var w = SnapshotWriter()
        w.u32(spec.snapshotFingerprint())
        watermark.write(to: &w)
        w.i64(lateCount)
        w.i64(rowsEmitted)
        w.i64(lastEarlyBucket)
        w.u64(UInt64(sessions.count))
        for s in sessions.indices {
            w.i64(queuedTime[s])
            w.u64(UInt64(sessions[s].count))
            for session in sessions[s] {
                w.i64(session.start)
                w.i64(session.last)
                w.u32(session.enterprise)
                w.bool(session.fired)
                w.i64(session.lateWatermark)
                session.acc.write(to: &w)
            }
        }
        w.u64(UInt64(heap.times.count))
        for i in heap.times.indices {
            w.i64(heap.times[i])
            w.u32(heap.slots[i])
        }
        return SnapshotCodec.seal(kind: Self.snapshotKind, payload: w.bytes)
    }

    /// Restores an operator from ``snapshot()``.
    ///
    /// - Throws: A ``SnapshotError`` if the snapshot is corrupted, of another version, or was taken with a
    ///   different window spec.
    public convenience init(spec: WindowSpec, watermark: Watermark, restoring bytes: [UInt8]) throws(SnapshotError) {
        let (version, payload) = try SnapshotCodec.openVersioned(bytes, kind: Self.snapshotKind)
        var r = SnapshotReader(payload)
        guard try r.u32() == spec.snapshotFingerprint(version: version) else {
            throw SnapshotError("the snapshot was taken with a different window spec than \(spec)")
        }
        self.init(spec: spec, watermark: watermark)
        try self.watermark.read(from: &r)
        lateCount = try r.i64()
        rowsEmitted = try r.i64()
        lastEarlyBucket = try r.i64()
        let slots = try r.count(minBytes: 16)
        sessions = Array(repeating: [], count: slots)
        queuedTime = Array(repeating: .max, count: slots)
        for s in 0..<slots {
            queuedTime[s] = try r.i64()
            let n = try r.count(minBytes: 29)
            for _ in 0..<n {
                let start = try r.i64()
                let last = try r.i64()
                let enterprise = try r.u32()
                let fired = try r.bool()
                let lateWatermark = try r.i64()
                let acc = try StatAccumulator(reading: &r, accuracy: spec.quantileAccuracy)
                sessions[s].append(Session(start: start, last: last, enterprise: enterprise, fired: fired, lateWatermark: lateWatermark, acc: acc))
                openSessions += 1
            }
        }
        let h = try r.count(minBytes: 12)
        for _ in 0..<h {
            let t = try r.i64()
            let slot = try r.u32()
            guard Int(slot) < slots else { throw SnapshotError("session heap names slot \(slot) of \(slots)") }
            heap.times.append(t)
            heap.slots.append(slot)
        }
        guard r.atEnd else { throw SnapshotError("snapshot payload has trailing data after byte \(r.position)") }
    }
}
