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
    /// Writes every sensor's detector state (with its learnt cadence, resolution and tail models), value ring
    /// and (with the seasonal detector) hour-of-day profile; the orders are rebuilt from the rings on restore.
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
            w.f64(st.cusum)
            w.i64(Int64(st.sameCount))
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
            w.f64(st.resolution)
            w.f64(st.cadence)
            w.i64(Int64(st.gaps))
            w.f64(st.seasonLevel)
            w.i64(st.day)
            w.f64(st.daySum)
            w.f64(st.dayCount)
            w.f64(st.weekdayOffset)
            w.f64(st.spreadMemory)
            for m in [st.tails.robustZ, st.tails.ewma, st.tails.cusum, st.tails.flatline, st.tails.dataGap, st.tails.seasonal] {
                w.u32(m.rate.bitPattern)
                w.u32(m.excess.bitPattern)
            }
        }
        w.u64(UInt64(ring.count))
        for x in ring { w.f64(x) }
        w.u64(UInt64(profile.count))
        for x in profile { w.f64(x) }
    }

    /// Restores a scorer from ``write(to:)``; refuses state taken with different settings, and the state of
    /// the detectors before calibration (formats before 7), which the caller starts afresh. A section that
    /// holds no sensors is accepted from any format.
    public init(settings: AnomalySettings, reading r: inout SnapshotReader, version: UInt16 = SnapshotCodec.version) throws(SnapshotError) {
        self.init(settings: settings)
        let fingerprint = try r.u32()
        let n = try r.count(minBytes: 297)
        if n == 0 {
            // The empty ring, the empty pending slots of formats before 3, the empty profile.
            for _ in 0..<(version < 3 ? 3 : 2) {
                guard try r.count(minBytes: 8) == 0 else { throw SnapshotError("anomaly state holds values for no sensors") }
            }
            return
        }
        guard version >= 7 else {
            throw SnapshotError("anomaly baselines of snapshot format \(version) predate the calibrated detectors and are learnt again")
        }
        guard fingerprint == settings.fingerprint else { throw SnapshotError("anomaly state was taken with different anomaly settings") }
        states.reserveCapacity(n)
        for _ in 0..<n {
            var st = SensorState()
            st.count = Int(try r.i64())
            let head = try r.i64()
            let sinceRefresh = try r.i64()
            guard st.count >= 0, head >= 0, head < max(1, settings.window), sinceRefresh >= 0, sinceRefresh < max(1, settings.robustRefresh) else {
                throw SnapshotError("anomaly state has an invalid ring position")
            }
            st.head = Int32(head)
            st.sinceRefresh = Int32(sinceRefresh)
            st.lastTime = try r.i64()
            st.lastValue = try r.f64()
            st.ewmaMean = try r.f64()
            st.ewmaVar = try r.f64()
            st.cusum = try r.f64()
            st.sameCount = Int(try r.i64())
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
            st.resolution = try r.f64()
            st.cadence = try r.f64()
            let gaps = try r.i64()
            guard gaps >= 0, gaps <= 1 << 30 else { throw SnapshotError("anomaly state has an invalid gap count") }
            st.gaps = Int32(gaps)
            st.seasonLevel = try r.f64()
            st.day = try r.i64()
            st.daySum = try r.f64()
            st.dayCount = try r.f64()
            st.weekdayOffset = try r.f64()
            st.spreadMemory = try r.f64()
            var models: [TailModel] = []
            for _ in 0..<6 {
                let m = TailModel(rate: Float(bitPattern: try r.u32()), excess: Float(bitPattern: try r.u32()))
                guard m.rate > 0, m.rate <= 1, m.excess > 0, m.excess.isFinite else { throw SnapshotError("anomaly state has an invalid tail model") }
                models.append(m)
            }
            st.tails = TailModels(robustZ: models[0], ewma: models[1], cusum: models[2], flatline: models[3], dataGap: models[4], seasonal: models[5])
            states.append(st)
        }
        let ringCount = try r.count(minBytes: 8)
        guard ringCount == n * settings.window else { throw SnapshotError("anomaly state ring holds \(ringCount) values for \(n) sensors") }
        ring.reserveCapacity(ringCount)
        for _ in 0..<ringCount { ring.append(try r.f64()) }
        let profileCount = try r.count(minBytes: 8)
        guard profileCount == (settings.seasonal ? n * Self.profileStride : 0) else {
            throw SnapshotError("anomaly state holds \(profileCount) seasonal profile values for \(n) sensors")
        }
        profile.reserveCapacity(profileCount)
        for _ in 0..<profileCount { profile.append(try r.f64()) }
        order = Array(repeating: 0, count: ring.count)
        scratch = Array(repeating: 0, count: settings.window)
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
