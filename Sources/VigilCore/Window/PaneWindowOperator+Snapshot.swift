extension PaneWindowOperator {
    static let snapshotKind: UInt16 = 1

    /// The operator's complete state as a versioned, checksummed snapshot (``SnapshotCodec``): watermark,
    /// cursors, every live pane with its touched slots' statistics and sketches, and the late marks. Restoring
    /// it with ``init(spec:watermark:restoring:)`` and continuing gives exactly the rows the original would
    /// have emitted.
    public func snapshot() -> [UInt8] {
        var w = SnapshotWriter()
        w.u32(spec.snapshotFingerprint())
        w.i64(watermark.maxEventTime)
        w.i64(watermark.current)
        w.bool(watermark.lastActivity != nil)
        w.i64(watermark.lastActivity ?? 0)
        w.i64(lateCount)
        w.i64(rowsEmitted)
        w.i64(nextFireEnd)
        w.i64(nextPurgeEnd)
        w.i64(nextEventAt)
        w.i64(lastEarlyBucket)
        w.u64(UInt64(slotCapacityHint))
        w.u64(UInt64(ring.count))
        let live = ring.filter(\.isLive).sorted { $0.paneIndex < $1.paneIndex }
        w.u64(UInt64(live.count))
        let s = spec.statistics
        for pane in live {
            w.i64(pane.paneIndex)
            w.u64(UInt64(pane.touchedCount))
            for i in 0..<pane.touchedCount {
                let slot = Int(pane.touched[i])
                w.u32(UInt32(slot))
                w.u32(pane.enterprise[slot])
                w.i64(pane.count[slot])
                if s.needsMoments {
                    w.f64(pane.mean[slot])
                    w.f64(pane.m2[slot])
                }
                if s.needsMinMax {
                    w.f64(pane.minV[slot])
                    w.f64(pane.maxV[slot])
                }
                if s.needsFirstLast {
                    w.i64(pane.firstT[slot])
                    w.f64(pane.firstV[slot])
                    w.i64(pane.lastT[slot])
                    w.f64(pane.lastV[slot])
                }
                if s.needsEwma {
                    w.f64(pane.ewmaNum[slot])
                    w.f64(pane.ewmaDen[slot])
                    w.i64(pane.ewmaRef[slot])
                }
                if s.needsSketch { pane.sketches[slot].write(to: &w) }
            }
            w.u64(UInt64(pane.lateSlots.count))
            for slot in pane.lateSlots {
                w.u32(slot)
                w.i64(pane.lateWatermark[Int(slot)])
            }
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
        let fingerprint = try r.u32()
        guard fingerprint == spec.snapshotFingerprint(version: version) else {
            throw SnapshotError("the snapshot was taken with a different window spec than \(spec)")
        }
        self.init(spec: spec, watermark: watermark, expectedSensors: 16)
        let maxEventTime = try r.i64()
        let current = try r.i64()
        let hasActivity = try r.bool()
        let activity = try r.i64()
        self.watermark.restore(maxEventTime: maxEventTime, current: current, lastActivity: hasActivity ? activity : nil)
        lateCount = try r.i64()
        rowsEmitted = try r.i64()
        nextFireEnd = try r.i64()
        nextPurgeEnd = try r.i64()
        nextEventAt = try r.i64()
        lastEarlyBucket = try r.i64()
        slotCapacityHint = Int(try r.u64())
        let ringCount = Int(try r.u64())
        guard ringCount >= ring.count, ringCount < 1 << 22 else { throw SnapshotError("snapshot ring size \(ringCount) is invalid") }
        if ringCount > ring.count {
            ring = (0..<ringCount).map { _ in _PaneColumns(statistics: spec.statistics, accuracy: spec.quantileAccuracy, capacity: 0) }
        }
        let liveCount = Int(try r.u64())
        let s = spec.statistics
        for _ in 0..<liveCount {
            let paneIndex = try r.i64()
            let pane = ring[ringIndex(paneIndex)]
            guard !pane.isLive else { throw SnapshotError("snapshot holds two panes for one ring slot") }
            pane.isLive = true
            pane.paneIndex = paneIndex
            self.liveCount += 1
            if pane.capacity < slotCapacityHint { pane.grow(to: slotCapacityHint) }
            let touched = Int(try r.u64())
            for _ in 0..<touched {
                let slot = Int(try r.u32())
                if slot >= pane.capacity { pane.grow(to: Swift.max(slot + 1, pane.capacity * 2)) }
                pane.touched[pane.touchedCount] = UInt32(slot)
                pane.touchedCount += 1
                pane.enterprise[slot] = try r.u32()
                pane.count[slot] = try r.i64()
                if s.needsMoments {
                    pane.mean[slot] = try r.f64()
                    pane.m2[slot] = try r.f64()
                }
                if s.needsMinMax {
                    pane.minV[slot] = try r.f64()
                    pane.maxV[slot] = try r.f64()
                }
                if s.needsFirstLast {
                    pane.firstT[slot] = try r.i64()
                    pane.firstV[slot] = try r.f64()
                    pane.lastT[slot] = try r.i64()
                    pane.lastV[slot] = try r.f64()
                }
                if s.needsEwma {
                    pane.ewmaNum[slot] = try r.f64()
                    pane.ewmaDen[slot] = try r.f64()
                    pane.ewmaRef[slot] = try r.i64()
                }
                if s.needsSketch { pane.sketches[slot] = try QuantileSketch(reading: &r, relativeAccuracy: spec.quantileAccuracy) }
            }
            let lateSlots = Int(try r.u64())
            for _ in 0..<lateSlots {
                let slot = try r.u32()
                let wm = try r.i64()
                pane.markLate(slot: slot, watermark: wm)
            }
        }
        guard r.atEnd else { throw SnapshotError("snapshot payload has trailing data after byte \(r.position)") }
    }

}
