/// A monitoring point going offline or coming back, in event time (`DOMAIN.md` §5).
public struct DataGapEvent: Sendable, Hashable {
    public var sensor: UInt32
    public var enterprise: UInt32
    /// `true`: offline (no reading for `offlineAfter`); `false`: back online.
    public var offline: Bool
    /// Event time of the change: the last reading + `offlineAfter` when going offline, the new reading's time
    /// when coming back.
    public var time: Int64
    /// Event time of the last reading before the gap.
    public var lastSeen: Int64
    /// The last value before the gap (offline) or the value that ended it (online).
    public var value: Double

    public init(sensor: UInt32, enterprise: UInt32, offline: Bool, time: Int64, lastSeen: Int64, value: Double) {
        self.sensor = sensor
        self.enterprise = enterprise
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
/// Everything runs on event time, record by record: the partition's own watermark (largest event time −
/// out-of-orderness) is checked at each reading, and every `checkEvery` of watermark progress (default
/// 1 min) the points are scanned. A gap that ends before any scan passed it (the whole partition was silent)
/// is reported when the point's next reading shows it: offline and back online at once. Which events fire, and their times, depend only on the input sequence, not
/// on how it is split into batches, so a replay after a restart gives the same events. Cost: one compare
/// per reading plus one pass over the points per `checkEvery` of event time; state is three columns per
/// point.
public struct DataGapDetector: Sendable {
    public let offlineAfter: Int64
    public let checkEvery: Int64
    public private(set) var watermark: Watermark
    var lastSeen: [Int64] = []
    var lastValue: [Double] = []
    var enterprise: [UInt32] = []
    var offline: [Bool] = []
    var nextCheck: Int64 = .min

    public init(offlineAfter: Int64 = 1_800_000, checkEvery: Int64 = 60_000, outOfOrderness: Int64 = 0) {
        precondition(offlineAfter > 0 && checkEvery > 0, "DataGapDetector: offlineAfter and checkEvery must be > 0")
        self.offlineAfter = offlineAfter
        self.checkEvery = checkEvery
        self.watermark = Watermark(outOfOrderness: outOfOrderness)
    }

    /// Whether `slot` is offline now.
    public func isOffline(slot: UInt32) -> Bool { Int(slot) < offline.count && offline[Int(slot)] }

    /// Processes a batch in order and appends offline/online changes to `events`.
    public mutating func process(_ batch: ReadingBatch, into events: inout [DataGapEvent]) {
        var positions: [Int] = []
        process(batch, into: &events, positions: &positions)
    }

    /// ``process(_:into:)`` that also appends, for each event, the position in the batch of the reading at
    /// which it was found (its own, or the one whose watermark progress ran the scan).
    public mutating func process(_ batch: ReadingBatch, into events: inout [DataGapEvent], positions: inout [Int]) {
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
                        sensor: UInt32(s), enterprise: batch.enterprise[i], offline: false, time: t, lastSeen: lastSeen[s], value: batch.value[i]))
            } else if lastSeen[s] != .min && t &- lastSeen[s] >= offlineAfter {
                // A gap no scan saw: the whole partition was silent and this reading is the first after it (the
                // watermark had not moved since). The point was offline all the same: both changes at once.
                let last = lastSeen[s]
                events.append(
                    DataGapEvent(
                        sensor: UInt32(s), enterprise: enterprise[s], offline: true, time: last + offlineAfter, lastSeen: last, value: lastValue[s]))
                events.append(
                    DataGapEvent(sensor: UInt32(s), enterprise: batch.enterprise[i], offline: false, time: t, lastSeen: last, value: batch.value[i]))
            }
            if t >= lastSeen[s] {
                lastSeen[s] = t
                lastValue[s] = batch.value[i]
            }
            enterprise[s] = batch.enterprise[i]
            if watermark.observe(eventTime: t) && watermark.current >= nextCheck { scan(into: &events) }
        }
    }

    /// Moves the watermark as a reading at event time `t` would, without a reading: the clock of a partition
    /// whose whole input stopped, which the caller extrapolates from the processing clock after its idle
    /// timeout. Points silent for `offlineAfter` by then go offline.
    public mutating func observe(eventTime t: Int64, into events: inout [DataGapEvent]) {
        if watermark.observe(eventTime: t) && watermark.current >= nextCheck { scan(into: &events) }
    }

    mutating func scan(into events: inout [DataGapEvent]) {
        let wm = watermark.current
        for s in lastSeen.indices where !offline[s] && lastSeen[s] != .min && wm - lastSeen[s] >= offlineAfter {
            offline[s] = true
            events.append(
                DataGapEvent(
                    sensor: UInt32(s), enterprise: enterprise[s], offline: true, time: lastSeen[s] + offlineAfter, lastSeen: lastSeen[s],
                    value: lastValue[s]
                )
            )
        }
        nextCheck = (EventTime.floorDiv(wm, checkEvery) &+ 1) &* checkEvery
    }

    mutating func grow(to n: Int) {
        let extra = max(n, lastSeen.count * 2) - lastSeen.count
        lastSeen.append(contentsOf: repeatElement(.min, count: extra))
        lastValue.append(contentsOf: repeatElement(.nan, count: extra))
        enterprise.append(contentsOf: repeatElement(0, count: extra))
        offline.append(contentsOf: repeatElement(false, count: extra))
    }

    public func write(to w: inout SnapshotWriter) {
        w.i64(offlineAfter)
        w.i64(checkEvery)
        watermark.write(to: &w)
        w.i64(nextCheck)
        w.u64(UInt64(lastSeen.count))
        for s in lastSeen.indices {
            w.i64(lastSeen[s])
            w.f64(lastValue[s])
            w.u32(enterprise[s])
            w.bool(offline[s])
        }
    }

    /// Restores a detector from ``write(to:)``; refuses state taken with other settings.
    public init(offlineAfter: Int64, checkEvery: Int64, outOfOrderness: Int64, reading r: inout SnapshotReader) throws(SnapshotError) {
        self.init(offlineAfter: offlineAfter, checkEvery: checkEvery, outOfOrderness: outOfOrderness)
        guard try r.i64() == offlineAfter, try r.i64() == checkEvery else { throw SnapshotError("data-gap state was taken with other settings") }
        try watermark.read(from: &r)
        nextCheck = try r.i64()
        let n = try r.count(minBytes: 21)
        lastSeen.reserveCapacity(n)
        for _ in 0..<n {
            lastSeen.append(try r.i64())
            lastValue.append(try r.f64())
            enterprise.append(try r.u32())
            offline.append(try r.bool())
        }
    }
}
