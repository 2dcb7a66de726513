/// A monitoring point going offline or coming back, in event time (`DOMAIN.md` §5).
public struct DataGapEvent: Sendable, Hashable {
    public var sensor: UInt32
    /// `true`: offline (no reading for `offlineAfter`); `false`: back online.
    public var offline: Bool
    /// Event time of the change: the last reading + `offlineAfter` when going offline, the new reading's time
    /// when coming back.
    public var time: Int64
    /// Event time of the last reading before the gap.
    public var lastSeen: Int64
    /// The last value before the gap (offline) or the value that ended it (online).
    public var value: Double

    public init(sensor: UInt32, offline: Bool, time: Int64, lastSeen: Int64, value: Double) {
        self.sensor = sensor
        self.offline = offline
        self.time = time
        self.lastSeen = lastSeen
        self.value = value
    }
}

/// Points that stop reporting, noticed while they are silent, not at their next reading: a point whose last
/// reading is older than `offlineAfter` (default 30 min) when the partition's watermark passes it goes
/// OFFLINE, and the next reading brings it back.
///
/// Everything runs on event time, record by record: the partition's watermark (its ``PartitionClock``) is
/// checked at each reading, and every `checkEvery` of watermark progress (default
/// 1 min) the points are scanned. A gap that ends before any scan passed it (the whole partition was silent)
/// is reported when the point's next reading shows it: offline and back online at once. Which events fire, and their times, depend only on the input sequence, not
/// on how it is split into batches, so a replay after a restart gives the same events. Cost: one compare
/// per reading plus one pass over the points per `checkEvery` of event time; state is three columns per
/// point.
public struct DataGapDetector: Sendable {
    public let offlineAfter: Int64
    public var checkEvery: Int64 { scans.every }
    /// When the points are scanned next, on the partition's watermark.
    var scans: Ticker
    var lastSeen: [Int64] = []
    var lastValue: [Double] = []
    var offline: [Bool] = []

    public init(offlineAfter: Int64 = 1_800_000, checkEvery: Int64 = 60_000) {
        precondition(offlineAfter > 0 && checkEvery > 0, "DataGapDetector: offlineAfter and checkEvery must be > 0")
        self.offlineAfter = offlineAfter
        self.scans = Ticker(every: checkEvery)
    }

    /// Whether `slot` is offline now.
    public func isOffline(slot: UInt32) -> Bool { Int(slot) < offline.count && offline[Int(slot)] }

    /// Processes a batch in order and appends offline/online changes to `events`; `watermarks[k]` is the
    /// partition's watermark at reading `k`.
    public mutating func process(_ batch: ReadingBatch, watermarks: [Int64], into events: inout [DataGapEvent]) {
        var positions: [Int] = []
        process(batch, watermarks: watermarks, into: &events, positions: &positions)
    }

    /// ``process(_:watermarks:into:)`` that also appends, for each event, the position in the batch of the
    /// reading at which it was found (its own, or the one whose watermark progress ran the scan).
    public mutating func process(_ batch: ReadingBatch, watermarks: [Int64], into events: inout [DataGapEvent], positions: inout [Int]) {
        precondition(watermarks.count == batch.count, "DataGapDetector: one watermark per reading")
        for i in 0..<batch.count {
            let before = events.count
            defer { for _ in before..<events.count { positions.append(i) } }
            let s = Int(batch.sensor[i])
            let t = batch.eventTime[i]
            if s >= lastSeen.count { grow(to: s + 1) }
            if offline[s] {
                offline[s] = false
                events.append(
                    DataGapEvent(
                        sensor: UInt32(s), offline: false, time: t, lastSeen: lastSeen[s], value: batch.value[i]))
            } else if lastSeen[s] != .min && t &- lastSeen[s] >= offlineAfter {
                // A gap no scan saw: the whole partition was silent and this reading is the first after it (the
                // watermark had not moved since). The point was offline all the same: both changes at once.
                let last = lastSeen[s]
                events.append(
                    DataGapEvent(
                        sensor: UInt32(s), offline: true, time: last + offlineAfter, lastSeen: last, value: lastValue[s]))
                events.append(
                    DataGapEvent(sensor: UInt32(s), offline: false, time: t, lastSeen: last, value: batch.value[i]))
            }
            if t >= lastSeen[s] {
                lastSeen[s] = t
                lastValue[s] = batch.value[i]
            }
            observe(watermark: watermarks[i], into: &events)
        }
    }

    /// Observes the partition's watermark without a reading (the clock of a partition whose whole input
    /// stopped moves with the processing clock): points silent for `offlineAfter` by then go offline.
    public mutating func observe(watermark wm: Int64, into events: inout [DataGapEvent]) {
        if scans.isDue(at: wm) { scan(watermark: wm, into: &events) }
    }

    mutating func scan(watermark wm: Int64, into events: inout [DataGapEvent]) {
        for s in lastSeen.indices where !offline[s] && lastSeen[s] != .min && wm - lastSeen[s] >= offlineAfter {
            offline[s] = true
            events.append(
                DataGapEvent(
                    sensor: UInt32(s), offline: true, time: lastSeen[s] + offlineAfter, lastSeen: lastSeen[s],
                    value: lastValue[s]
                )
            )
        }
        scans.ran(at: wm)
    }

    mutating func grow(to n: Int) {
        let extra = max(n, lastSeen.count * 2) - lastSeen.count
        lastSeen.append(contentsOf: repeatElement(.min, count: extra))
        lastValue.append(contentsOf: repeatElement(.nan, count: extra))
        offline.append(contentsOf: repeatElement(false, count: extra))
    }

    public func write(to w: inout SnapshotWriter) {
        w.i64(offlineAfter)
        w.i64(checkEvery)
        w.i64(scans.next)
        w.u64(UInt64(lastSeen.count))
        for s in lastSeen.indices {
            w.i64(lastSeen[s])
            w.f64(lastValue[s])
            w.bool(offline[s])
        }
    }

    /// Restores a detector from ``write(to:)``; refuses state taken with other settings.
    ///
    /// - Parameter clock: Snapshot formats before 5 kept a watermark per stage: its latest event time, for the
    ///   partition clock.
    /// - Parameter enterprises: Formats before 6 kept the enterprise of each slot's latest reading: those, per
    ///   slot seen (unchanged for format 6 and later, which keep a sensor's enterprise in the sensor catalog).
    public init(
        offlineAfter: Int64, checkEvery: Int64, reading r: inout SnapshotReader, version: UInt16 = SnapshotCodec.version, clock: inout Int64,
        enterprises: inout [UInt32?]
    ) throws(SnapshotError) {
        self.init(offlineAfter: offlineAfter, checkEvery: checkEvery)
        guard try r.i64() == offlineAfter, try r.i64() == checkEvery else { throw SnapshotError("data-gap state was taken with other settings") }
        if version < 5 { clock = Swift.max(clock, try Watermark.legacyMaxEventTime(from: &r)) }
        scans.next = try r.i64()
        let n = try r.count(minBytes: version < 6 ? 21 : 17)
        lastSeen.reserveCapacity(n)
        for _ in 0..<n {
            lastSeen.append(try r.i64())
            lastValue.append(try r.f64())
            let enterprise = version < 6 ? try r.u32() : 0
            offline.append(try r.bool())
            if version < 6 && lastSeen[lastSeen.count - 1] != .min {
                if enterprises.count < lastSeen.count {
                    enterprises.append(contentsOf: repeatElement(nil, count: lastSeen.count - enterprises.count))
                }
                enterprises[lastSeen.count - 1] = enterprise
            }
        }
    }
}
