import Foundation
import VigilCore
import VigilKafka

// Units of points, and the clock of a partition whose whole input stopped (DESIGN.md: a partition with no
// data for `idle_timeout` advances by processing time, so offline sensors are still detected).
extension StreamJob {
    /// Moves a silent partition's event-time clocks with the processing clock once it has had no readings
    /// for `idleTimeout`: to its latest event time plus the processing time since its last batch. Its points
    /// then still go offline (and count in the enterprises' offline share), alarm deadlines still pass, and
    /// its enterprises are still graded, while a gateway or link outage silences all of them at once.
    ///
    /// This is processing time, like the windows' idle close: which poll does it depends on the wall clock.
    /// The records it produces are the ones event time would produce later (an offline record's time and id
    /// come from the point's last reading), except when the input resumes with a backlog whose event times
    /// are within the idle span: then the points were marked offline although their readings were only late,
    /// and an alarm raised in that backlog finds its response deadline already passed.
    func advanceIdle(partitionIndex i: Int, now: Int64) throws(KafkaError) {
        let state = partitions[i]
        guard let timeout = config.idleTimeout, let last = state.lastActivity, state.latestEventTime != .min else { return }
        let idle = now &- last
        guard idle >= timeout else { return }
        let t = EventTime.saturatingAdd(state.latestEventTime, idle)
        if config.offlineAfter != nil {
            gapEvents.removeAll(keepingCapacity: true)
            state.gaps.observe(eventTime: t, into: &gapEvents)
            try produceGapEvents(state: state)
            if config.gradesTopic != nil {
                var g = state.takeGrading()
                for event in gapEvents { noteOfflineEpisode(event, in: &g.risk) }
                state.putGrading(g)
            }
        }
        if !config.alarmRules.isEmpty {
            alertEvents.removeAll(keepingCapacity: true)
            let acknowledgements = currentAcknowledgements
            observeDeadlines(state: state, eventTime: t, acknowledgements: acknowledgements)
            try produceAlertEvents(state: state, acknowledgements: acknowledgements)
        }
        if config.gradesTopic != nil && t > state.gradeTime {
            state.gradeTime = t
            if state.gradeTime >= state.nextSilentCheck { try evaluateSilent(state: state) }
        }
    }
}

extension StreamJob {
    /// The unit of a point (the first capture group of `permitUnitPattern` on its id), nil when unknown.
    func sensorUnit(slot: UInt32, state: PartitionState) -> String? {
        updateSensorUnits(state: state)
        let s = Int(slot)
        return s < state.limitContext.sensorUnits.count ? state.limitContext.sensorUnits[s] : nil
    }

    /// Reads the units of the sensors interned since the last call (once per sensor).
    func updateSensorUnits(state: PartitionState) {
        guard let unitRegex else { return }
        let sensors = state.decoder.sensors
        while state.limitContext.sensorUnits.count < sensors.count {
            let id = sensors.key(for: UInt32(state.limitContext.sensorUnits.count))
            let match = unitRegex.firstMatch(in: id, range: NSRange(id.startIndex..., in: id))
            let unit = match.flatMap { $0.numberOfRanges > 1 ? Range($0.range(at: 1), in: id) : nil }.map { String(id[$0]) }
            state.limitContext.sensorUnits.append(unit)
        }
    }
}

extension StreamJob.PartitionState {
    /// Notes a batch of readings at processing time `now`.
    func noteActivity(now: Int64) {
        lastActivity = now
        for t in batch.eventTime where t > latestEventTime { latestEventTime = t }
    }

    /// After a restore: the clock starts from the latest event time the restored state has seen, idle from
    /// `now` (the assignment), so a partition that stays silent after a restart is still noticed.
    func resumeClock(now: Int64) {
        lastActivity = now
        var latest = max(gaps.watermark.maxEventTime, gradeTime, alerts.watermark.maxEventTime)
        for op in operators { latest = max(latest, op.watermark.maxEventTime) }
        latestEventTime = latest
    }
}
