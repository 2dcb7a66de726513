// Snapshot encoding of the per-partition state that is not a window operator: key dictionaries,
// watermarks, alarm books, detector baselines and grading state. Each type writes its fields in a fixed
// order into a ``SnapshotWriter`` and reads them back with bounds-checked reads; the container
// (``SnapshotCodec``) adds the version and the checksum.

extension KeyInterner {
    /// Writes every key in slot order (restoring interns them in the same order, so slots are unchanged).
    public func write(to w: inout SnapshotWriter) {
        w.u64(UInt64(count))
        for slot in 0..<count { withKeyBytes(for: UInt32(slot)) { w.blob(Array($0)) } }
    }

    /// Reads keys written by ``write(to:)``.
    public init(reading r: inout SnapshotReader) throws(SnapshotError) {
        self.init()
        let n = try r.count(minBytes: 8)
        for slot in 0..<n {
            let key = try r.blob()
            let got = key.withUnsafeBytes { intern(bytes: $0) }
            guard Int(got) == slot else { throw SnapshotError("snapshot key dictionary repeats a key at slot \(slot)") }
        }
    }
}

extension Watermark {
    public func write(to w: inout SnapshotWriter) {
        w.i64(maxEventTime)
        w.i64(current)
        w.optionalI64(lastActivity)
    }

    /// Restores the progress written by ``write(to:)`` into this watermark (its settings come from the pipeline).
    public mutating func read(from r: inout SnapshotReader) throws(SnapshotError) {
        let maxEventTime = try r.i64()
        let current = try r.i64()
        let activity = try r.optionalI64()
        restore(maxEventTime: maxEventTime, current: current, lastActivity: activity)
    }

    /// Reads a watermark written by ``write(to:)`` in a stage of a format-4 or older snapshot, which kept one per
    /// stage: its largest event time (which, for those stages, includes the idle advance).
    static func legacyMaxEventTime(from r: inout SnapshotReader) throws(SnapshotError) -> Int64 {
        var w = Watermark(outOfOrderness: 0)
        try w.read(from: &r)
        return w.maxEventTime
    }
}

extension ThresholdRule {
    /// A digest of the rule's name and parameters (state restored under different rules is not reused).
    var fingerprint: String {
        let base =
            "\(name)|\(direction)|\(level1.map { "\($0.bitPattern)" } ?? "-")|\(level2.map { "\($0.bitPattern)" } ?? "-")|\(deadband.bitPattern)|\(onDelay)|\(offDelay)"
        guard let sides else { return base }
        return base + "|sides \([sides.high, sides.highHigh, sides.low, sides.lowLow].map { "\($0.bitPattern)" }.joined(separator: ","))"
    }
}

extension ThresholdDetector {
    /// A digest of the rule list; ``init(rules:restoring:)`` refuses state taken under other rules.
    public var rulesFingerprint: UInt32 { SnapshotCodec.crc32(Array(rules.map(\.fingerprint).joined(separator: ";").utf8)) }

    /// Writes the per-slot columns (rule binding, raised level with its side in bit 7 and "threshold not set
    /// reported" in bit 6, pending level and since when, raised at).
    public func write(to w: inout SnapshotWriter) {
        w.u32(rulesFingerprint)
        w.u64(UInt64(ruleOf.count))
        for i in ruleOf.indices {
            w.u32(UInt32(bitPattern: ruleOf[i]))
            w.u8(state[i] | (lowSide[i] ? 0x80 : 0) | (reportedUnset[i] ? 0x40 : 0))
            w.u8(pending[i])
            w.i64(pendingSince[i])
            w.i64(raisedAt[i])
        }
    }

    /// Restores a detector with `rules` from ``write(to:)``.
    ///
    /// - Throws: ``SnapshotError`` when the state was taken under a different rule list (the caller decides
    ///   whether to start the alarm book afresh).
    public init(rules: [ThresholdRule], reading r: inout SnapshotReader) throws(SnapshotError) {
        self.init(rules: rules)
        let fingerprint = try r.u32()
        let n = try r.count(minBytes: 22)
        guard fingerprint == rulesFingerprint else {
            r.position += n * 22
            throw SnapshotError("alarm state was taken under different alarm rules")
        }
        grow(to: n)
        for i in 0..<n {
            let rule = Int32(bitPattern: try r.u32())
            guard rule >= -2, rule < Int32(rules.count) else { throw SnapshotError("alarm state names rule \(rule) of \(rules.count)") }
            ruleOf[i] = rule
            let level = try r.u8()
            guard level & 0x3F <= 2 else { throw SnapshotError("alarm state holds an unknown level \(level & 0x3F)") }
            state[i] = level & 0x3F
            lowSide[i] = level & 0x80 != 0
            reportedUnset[i] = level & 0x40 != 0
            pending[i] = try r.u8()
            pendingSince[i] = try r.i64()
            raisedAt[i] = try r.i64()
        }
    }
}

extension AnomalySettings {
    var fingerprint: UInt32 { SnapshotCodec.crc32(Array("\(self)".utf8)) }
}

extension AnomalyScorer {
    /// Writes every sensor's detector state, value ring and (with the seasonal detector) hour-of-day profile;
    /// the orders are rebuilt from the rings on restore.
    ///
    /// Format 2 had, per sensor, a count of pending values and `robustRefresh` pending slots (the first
    /// format-2 builds queued a sensor's latest values outside its ring); format 3 writes neither, and format-2
    /// state is still read, its pending values going into the ring.
    public func write(to w: inout SnapshotWriter) {
        w.u32(settings.fingerprint)
        w.u64(UInt64(states.count))
        for st in states {
            w.i64(Int64(st.count))
            w.i64(Int64(st.head))
            w.i64(Int64(st.sinceRefresh))
            w.i64(st.lastTime)
            w.f64(st.lastValue)
            w.f64(st.ewmaMean)
            w.f64(st.ewmaVar)
            w.f64(st.cusumHigh)
            w.f64(st.cusumLow)
            w.i64(Int64(st.sameCount))
            w.i64(st.sameSince)
            w.f64(st.slope)
            w.f64(st.median)
            w.f64(st.mad)
            w.i64(st.hour)
            w.f64(st.hourCount)
            w.f64(st.hourMean)
            w.f64(st.hourM2)
            w.f64(st.seasonMean)
            w.f64(st.seasonSD)
            w.bool(st.profiled)
        }
        w.u64(UInt64(ring.count))
        for x in ring { w.f64(x) }
        w.u64(UInt64(profile.count))
        for x in profile { w.f64(x) }
    }

    /// Restores a scorer from ``write(to:)``, or from the layout of snapshot format `version` (2 or 3);
    /// refuses state taken with different settings.
    public init(settings: AnomalySettings, reading r: inout SnapshotReader, version: UInt16 = SnapshotCodec.version) throws(SnapshotError) {
        self.init(settings: settings)
        guard try r.u32() == settings.fingerprint else { throw SnapshotError("anomaly state was taken with different anomaly settings") }
        let pendingSlots = version < 3
        let n = try r.count(minBytes: pendingSlots ? 169 : 161)
        states.reserveCapacity(n)
        for _ in 0..<n {
            var st = SensorState()
            st.count = Int(try r.i64())
            let head = try r.i64()
            let sinceRefresh = try r.i64()
            guard st.count >= 0, head >= 0, head < max(1, settings.window), sinceRefresh >= 0, sinceRefresh < max(1, settings.robustRefresh) else {
                throw SnapshotError("anomaly state has an invalid ring position")
            }
            let waiting = pendingSlots ? try r.i64() : 0
            guard waiting >= 0, waiting < max(1, settings.robustRefresh), waiting <= st.count else {
                throw SnapshotError("anomaly state has an invalid count of pending values")
            }
            st.head = Int32(head)
            st.sinceRefresh = Int32(sinceRefresh)
            // Pending values, read into the ring below.
            st.unsorted = Int32(waiting)
            st.lastTime = try r.i64()
            st.lastValue = try r.f64()
            st.ewmaMean = try r.f64()
            st.ewmaVar = try r.f64()
            st.cusumHigh = try r.f64()
            st.cusumLow = try r.f64()
            st.sameCount = Int(try r.i64())
            st.sameSince = try r.i64()
            st.slope = try r.f64()
            st.median = try r.f64()
            st.mad = try r.f64()
            st.hour = try r.i64()
            st.hourCount = try r.f64()
            st.hourMean = try r.f64()
            st.hourM2 = try r.f64()
            st.seasonMean = try r.f64()
            st.seasonSD = try r.f64()
            st.profiled = try r.bool()
            states.append(st)
        }
        let ringCount = try r.count(minBytes: 8)
        guard ringCount == n * settings.window else { throw SnapshotError("anomaly state ring holds \(ringCount) values for \(n) sensors") }
        ring.reserveCapacity(ringCount)
        for _ in 0..<ringCount { ring.append(try r.f64()) }
        let stride = max(1, settings.robustRefresh)
        let pendingCount = pendingSlots ? try r.count(minBytes: 8) : n * stride
        guard pendingCount == n * stride else { throw SnapshotError("anomaly state holds \(pendingCount) pending values for \(n) sensors") }
        let w = settings.window
        for s in 0..<n where pendingSlots {
            // The k-th value of a sensor sits at ring position k % window; pending values are its latest ones.
            let count = states[s].count
            let waiting = Int(states[s].unsorted)
            for j in 0..<stride {
                let x = try r.f64()
                if j < waiting { ring[s * w + (count - waiting + j) % w] = x }
            }
            states[s].head = Int32(count % w)
        }
        let profileCount = try r.count(minBytes: 8)
        guard profileCount == (settings.seasonal ? n * Self.profileStride : 0) else {
            throw SnapshotError("anomaly state holds \(profileCount) seasonal profile values for \(n) sensors")
        }
        profile.reserveCapacity(profileCount)
        for _ in 0..<profileCount { profile.append(try r.f64()) }
        order = Array(repeating: 0, count: ring.count)
        rebuildOrder()
    }
}

extension AlarmBehaviour {
    public func write(to w: inout SnapshotWriter) {
        w.i64(window)
        w.u64(UInt64(alarms.count))
        for a in alarms {
            w.u32(a.sensor)
            w.i64(a.raisedAt)
            w.optionalI64(a.clearedAt)
            w.f64(a.weight)
        }
        let seen = sensors.indices.sorted { sensors[$0] < sensors[$1] }
        w.u64(UInt64(seen.count))
        for p in seen {
            w.u32(sensors[p])
            w.i64(lastSeen[p])
        }
        // Points without a reading time (none since every point is noted with one; kept in the format).
        w.u64(0)
        w.u64(UInt64(pseudoAlarms.count))
        for p in pseudoAlarms {
            w.u32(p.sensor)
            w.i64(p.at)
        }
        let inEpisode = (sensors.indices.filter { anomalous[$0] }.map { sensors[$0] } + anomalousUnseen).sorted()
        w.u64(UInt64(inEpisode.count))
        for s in inEpisode { w.u32(s) }
    }

    public init(reading r: inout SnapshotReader) throws(SnapshotError) {
        self.init(window: try r.i64())
        let n = try r.count(minBytes: 29)
        for _ in 0..<n {
            let sensor = try r.u32()
            let raised = try r.i64()
            let cleared = try r.optionalI64()
            alarms.append(Alarm(sensor: sensor, raisedAt: raised, clearedAt: cleared, weight: try r.f64()))
        }
        let m = try r.count(minBytes: 12)
        for _ in 0..<m {
            let sensor = try r.u32()
            let t = try r.i64()
            lastSeen[point(sensor: sensor, at: t)] = t
        }
        // Points without a reading time: no writer produces them; they are skipped.
        let e = try r.count(minBytes: 4)
        for _ in 0..<e { _ = try r.u32() }
        let p = try r.count(minBytes: 12)
        for _ in 0..<p {
            let sensor = try r.u32()
            pseudoAlarms.append((sensor, try r.i64()))
        }
        let a = try r.count(minBytes: 4)
        for _ in 0..<a {
            let sensor = try r.u32()
            if let p = position[sensor] { anomalous[Int(p)] = true } else { anomalousUnseen.insert(sensor) }
        }
    }
}

extension RiskGrader {
    /// Writes the hysteresis state (the bands and weights come from the pipeline).
    public func write(to w: inout SnapshotWriter) {
        w.u8(UInt8(level.rawValue))
        w.optionalI64(belowSince)
    }

    public mutating func read(from r: inout SnapshotReader) throws(SnapshotError) {
        guard let l = RiskLevel(rawValue: Int(try r.u8())) else { throw SnapshotError("grade state holds an unknown level") }
        level = l
        belowSince = try r.optionalI64()
    }
}
