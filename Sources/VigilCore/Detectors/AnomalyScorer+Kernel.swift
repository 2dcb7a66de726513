import CPrefetch

/// The per-reading scoring kernel of ``AnomalyScorer``, over raw pointers to its buffers.
///
/// One of the few places in VigilCore with pointer code: the pointers are valid only inside
/// `AnomalyScorer.withKernel`, which covers every slot the caller passes (the scorer grows its buffers first).
/// `AnomalyScorerTests` compares it with a naive reference implementation on randomized streams.
struct _AnomalyKernel {
    let settings: AnomalySettings
    let states: UnsafeMutablePointer<AnomalyScorer.SensorState>
    let ring: UnsafeMutablePointer<Double>
    let profile: UnsafeMutablePointer<Double>?
    /// Per sensor, its ring positions in ascending order of value (`window` bytes per sensor; as many used as
    /// the ring holds, as of the sensor's last refresh).
    let order: UnsafeMutablePointer<UInt8>
    /// Room for sorting the positions written since the last refresh (`window` bytes).
    let scratch: UnsafeMutablePointer<UInt8>

    @inline(__always)
    /// - Parameter keepComponents: Whether to fill in every detector's score (explanations and the CSV scorer);
    ///   the batch path, which keeps only the combined score, passes false and skips that work.
    func score(slot s: Int, time t: Int64, value x: Double, limits: EffectiveLimits, keepComponents: Bool = true) -> AnomalyScore {
        let settings = self.settings
        let st = states + s
        // Decoders and the CSV reader reject non-finite values; one that gets here anyway is not scored and does
        // not enter the state (it would break the window's order).
        guard x.isFinite else { return AnomalyScore(score: 0, detector: .threshold, value: x, baseline: x, limit: nil) }
        var components = AnomalyScore.Components()
        var best = 0.0
        var bestDetector = AnomalyScore.Detector.threshold
        var bestBaseline = st.pointee.count > 0 ? st.pointee.ewmaMean : x
        var bestLimit = Double.nan
        var bestTail = Double.nan
        /// A rule-based score (threshold proximity, rate of rise, the stale rule).
        @inline(__always) func consider(_ score: Double, _ detector: AnomalyScore.Detector, baseline: Double, limit: Double) {
            let clamped = score.isFinite ? min(1, max(0, score)) : 0
            if keepComponents && clamped > components[detector] { components[detector] = clamped }
            if clamped > best {
                best = clamped
                bestDetector = detector
                bestBaseline = baseline
                bestLimit = limit
                bestTail = .nan
            }
        }
        // The calibrated detectors: the smallest tail probability (as log₁₀) and who gave it.
        var minLog = 0.0
        var minDetector = AnomalyScore.Detector.robustZ
        var minBaseline = 0.0
        @inline(__always) func calibrated(_ log10Tail: Double, _ detector: AnomalyScore.Detector, baseline: Double) {
            if keepComponents { components[detector] = max(components[detector], AnomalyScore.score(log10Tail: log10Tail)) }
            if log10Tail < minLog {
                minLog = log10Tail
                minDetector = detector
                minBaseline = baseline
            }
        }
        let count = st.pointee.count
        let warm = count >= settings.warmUp
        let a = settings.ewmaAlpha
        let inOrder = t >= st.pointee.lastTime
        // Threshold proximity: AL1 scores 0.7, AL2 scores 1; approaching AL1 from 80 % of the way scores up to 0.5.
        let l1 = limits.level1
        if limits.direction != 0 && !l1.isNaN {
            let high = limits.direction == 1
            let l2 = limits.level2
            let base = warm ? st.pointee.ewmaMean : x
            if !l2.isNaN && (high ? x >= l2 : x <= l2) {
                consider(1, .threshold, baseline: base, limit: l2)
            } else if high ? x >= l1 : x <= l1 {
                consider(0.7, .threshold, baseline: base, limit: l1)
            } else if warm, abs(l1 - base) > 0 {
                let fraction = (x - base) / (l1 - base)
                if fraction > 0.8 { consider(0.5 * (fraction - 0.8) / 0.2, .threshold, baseline: base, limit: l1) }
            }
        }
        // The spreads are never below the point's resolution (its smallest step between readings), so a flat or
        // quantised signal gives finite z-scores. A point that has never changed has no scale yet: its value
        // detectors wait for its first change.
        let moved = st.pointee.resolution.isFinite
        let resolution = moved ? st.pointee.resolution : 0
        if !warm { st.pointee.sinceRefresh = 0 }
        if warm {
            // Robust z-score against the window's median and MAD (refreshed every `robustRefresh` readings).
            if st.pointee.sinceRefresh == 0 {
                sortNewValues(slot: s)
                refreshRobust(slot: s)
            }
            let next = st.pointee.sinceRefresh &+ 1
            st.pointee.sinceRefresh = next >= Int32(settings.robustRefresh) ? 0 : next
            let median = st.pointee.median
            // And never below half the point's recent spread: after a flat stretch (a zero MAD) the return of
            // the usual noise is not an outlier.
            let robustSpread = 1.4826 * st.pointee.mad
            st.pointee.spreadMemory = max(st.pointee.spreadMemory * 0.999, robustSpread)
            let floor = max(resolution, 0.5 * st.pointee.spreadMemory)
            let spread = max(robustSpread, floor, 1e-9 * max(1, abs(median)))
            let zr = abs(x - median) / spread
            // The robust z's surprise, −log₁₀ of its tail probability (0 while |z| ≤ 2).
            var surprise = 0.0
            if moved {
                let l = st.pointee.tails.robustZ.log10Tail(zr, .z)
                surprise = -l
                calibrated(l, .robustZ, baseline: median)
                st.pointee.tails.robustZ.learn(zr, .z)
            }
            // EWMA control chart.
            let mean = st.pointee.ewmaMean
            let sd = max(st.pointee.ewmaVar.squareRoot(), floor, 1e-9 * max(1, abs(mean)))
            // The standardised deviation; its magnitude is the z-score.
            let u = abs(x - mean) / sd
            if moved {
                calibrated(st.pointee.tails.ewma.log10Tail(u, .z), .ewma, baseline: mean)
                st.pointee.tails.ewma.learn(u, .z)
            }
            // CUSUM of the robust z's surprise: readings that are each only a little unusual, one after another
            // (a level shift, a changed variance), add up. It restarts once it has signalled (score 1), so a
            // lasting change stops scoring once the window has taken it in.
            st.pointee.cusum = max(0, st.pointee.cusum + surprise - settings.cusumK)
            let sum = st.pointee.cusum
            let cusumTail = st.pointee.tails.cusum.log10Tail(sum, .cusum)
            calibrated(cusumTail, .cusum, baseline: median)
            st.pointee.tails.cusum.learn(sum, .cusum)
            if cusumTail <= -10 { st.pointee.cusum = 0 }
            // Rate of rise towards the next limit: the smoothed slope extrapolated from the smoothed level.
            if inOrder, limits.direction != 0, !l1.isNaN, st.pointee.lastTime != .min, t > st.pointee.lastTime {
                let slope = st.pointee.slope
                let towards = limits.direction == 1 ? slope > 0 && mean < l1 : slope < 0 && mean > l1
                if towards {
                    let timeToLimit = (l1 - mean) / slope
                    let horizon = Double(settings.timeToLimitHorizon)
                    if timeToLimit < horizon { consider(0.6 * (1 - timeToLimit / horizon), .rateOfRise, baseline: mean, limit: l1) }
                }
            }
        }
        // Data gap before this reading, in units of the point's learnt cadence; and, where a stale gap is set (a
        // pipeline's sensor type), the stale rule (`DOMAIN.md` §5): a gap longer than it scores at least 0.6.
        let lastTime = st.pointee.lastTime
        if inOrder && lastTime != .min {
            let gap = t - lastTime
            let cadence = st.pointee.cadence
            if cadence > 0 {
                let ratio = Double(gap) / cadence
                if st.pointee.gaps >= 3 { calibrated(st.pointee.tails.dataGap.log10Tail(ratio, .gap), .dataGap, baseline: st.pointee.lastValue) }
                st.pointee.tails.dataGap.learn(ratio, .gap)
            }
            let staleAfter = st.pointee.staleAfter > 0 ? st.pointee.staleAfter : settings.staleAfter
            if staleAfter > 0 && gap > staleAfter {
                consider(
                    min(1, 0.6 + 0.4 * Double(gap - staleAfter) / Double(staleAfter * 5)), .dataGap, baseline: st.pointee.lastValue, limit: .nan)
            }
            if gap > 0 {
                st.pointee.cadence = AnomalyScorer.nextCadence(cadence, gap: gap, gaps: st.pointee.gaps)
                st.pointee.gaps = min(st.pointee.gaps &+ 1, 1 << 30)
            }
        }
        // Flatline: the same value repeated, against how often and how long this point repeats itself (its
        // excess is learnt slowly, so a stuck sensor scores before its run has taught the model that it is
        // normal, while a point flat every night learns its nights).
        if count > 0 {
            st.pointee.sameCount = x == st.pointee.lastValue ? st.pointee.sameCount + 1 : 0
            if moved {
                let run = Double(st.pointee.sameCount)
                calibrated(st.pointee.tails.flatline.log10Tail(run, .flatline), .flatline, baseline: x)
                st.pointee.tails.flatline.learn(run, .flatline)
            }
        }
        // Seasonal baseline: this hour of day on earlier days, plus this weekday's offset from it on earlier
        // weeks, plus the point's recent level against that (so that a lasting shift settles).
        if let profile, inOrder {
            let hour = EventTime.floorDiv(t + settings.utcOffset, 3_600_000)
            if hour != st.pointee.hour { startHour(hour, slot: s, profile: profile) }
            let day = EventTime.floorDiv(hour, 24)
            if day != st.pointee.day { startDay(day, slot: s, profile: profile) }
            let mean = st.pointee.seasonMean
            if !mean.isNaN {
                st.pointee.daySum += x - mean
                st.pointee.dayCount += 1
            }
            if !mean.isNaN && moved {
                let typical = mean + st.pointee.weekdayOffset
                let expected = typical + st.pointee.seasonLevel
                let sd = max(st.pointee.seasonSD, resolution, 1e-9 * max(1, abs(mean)))
                let z = abs(x - expected) / sd
                calibrated(st.pointee.tails.seasonal.log10Tail(z, .z), .seasonal, baseline: expected)
                st.pointee.tails.seasonal.learn(z, .z)
                st.pointee.seasonLevel += settings.seasonalSettle * (x - typical - st.pointee.seasonLevel)
            }
            st.pointee.hourCount += 1
            let d = x - st.pointee.hourMean
            st.pointee.hourMean += d / st.pointee.hourCount
            st.pointee.hourM2 += d * (x - st.pointee.hourMean)
        }
        // The combined tail probability: the smallest, times the number of calibrated detectors.
        if minLog < 0 {
            let combined = min(0, minLog + AnomalyScore.log10CalibratedDetectors)
            let score = AnomalyScore.score(log10Tail: combined)
            if score > best {
                best = score
                bestDetector = minDetector
                bestBaseline = minBaseline
                bestLimit = .nan
                bestTail = combined
            }
        }
        // The resolution: the smallest step between consecutive readings, growing slowly while none is seen.
        if count > 0 && inOrder {
            let step = abs(x - st.pointee.lastValue)
            let grown = st.pointee.resolution * 1.001
            st.pointee.resolution = step > 0 ? min(grown, step) : grown
        }
        // Update the state with this reading.
        let av = settings.ewmaVarianceAlpha
        if count == 0 {
            st.pointee.ewmaMean = x
            st.pointee.ewmaVar = 0
        } else {
            let d = x - st.pointee.ewmaMean
            st.pointee.ewmaMean += a * d
            // The deviation from the previous mean has variance σ²(1 + a/(2 − a)); scale it back to σ².
            st.pointee.ewmaVar += av * (d * d * (2 - a) / 2 - st.pointee.ewmaVar)
        }
        // The value enters the ring (over the oldest once it is full); it joins the order at the next refresh.
        let w = settings.window
        let head = Int(st.pointee.head)
        ring[s &* w &+ head] = x
        st.pointee.head = head &+ 1 == w ? 0 : Int32(head &+ 1)
        st.pointee.unsorted = min(st.pointee.unsorted &+ 1, Int32(w))
        st.pointee.count = count + 1
        if inOrder {
            if lastTime != .min && t > lastTime {
                st.pointee.slope += a * ((x - st.pointee.lastValue) / Double(t - lastTime) - st.pointee.slope)
            }
            st.pointee.lastTime = t
            st.pointee.lastValue = x
        }
        var result = AnomalyScore(
            score: best, detector: bestDetector, value: x, baseline: bestBaseline, limit: bestLimit.isNaN ? nil : bestLimit)
        result.components = components
        result.log10Tail = bestTail.isNaN ? nil : bestTail
        return result
    }

    /// Closes the hour being accumulated into its hour-of-day profile and loads the profile of `hour`.
    func startHour(_ hour: Int64, slot s: Int, profile: UnsafeMutablePointer<Double>) {
        let st = states + s
        let p = profile + s * AnomalyScorer.profileStride
        if st.pointee.hour != .min && st.pointee.hourCount > 0 {
            let b = 3 * Int(st.pointee.hour - EventTime.floorDiv(st.pointee.hour, 24) * 24)
            // The hour as a weekday-neutral one: less its day's weekday offset (still that of the hour's day).
            let hourMean = st.pointee.hourMean - st.pointee.weekdayOffset
            let hourVar = st.pointee.hourM2 / st.pointee.hourCount
            let days = p[b + 2]
            if days == 0 {
                p[b] = hourMean
                p[b + 1] = hourVar
            } else {
                let alpha = settings.seasonalAlpha
                let d = hourMean - p[b]
                p[b] += alpha * d
                p[b + 1] += alpha * (hourVar + d * d - p[b + 1])
            }
            p[b + 2] = min(days + 1, 1_000)
            st.pointee.profiled = true
        }
        st.pointee.hour = hour
        st.pointee.hourCount = 0
        st.pointee.hourMean = 0
        st.pointee.hourM2 = 0
        let b = 3 * Int(hour - EventTime.floorDiv(hour, 24) * 24)
        if st.pointee.profiled && p[b + 2] >= Double(settings.seasonalMinDays) {
            st.pointee.seasonMean = p[b]
            st.pointee.seasonSD = p[b + 1].squareRoot()
        } else {
            st.pointee.seasonMean = .nan
            st.pointee.seasonSD = .nan
        }
    }

    /// Closes the day being accumulated into its weekday's offset and loads the offset of `day`.
    func startDay(_ day: Int64, slot s: Int, profile: UnsafeMutablePointer<Double>) {
        let st = states + s
        let p = profile + s * AnomalyScorer.profileStride + 72
        if st.pointee.day != .min && st.pointee.dayCount > 0 {
            // Day 0 (1970-01-01) was a Thursday: weekday 3 with Monday as 0.
            let b = 2 * Int(st.pointee.day + 3 - EventTime.floorDiv(st.pointee.day + 3, 7) * 7)
            let offset = st.pointee.daySum / st.pointee.dayCount
            p[b] = p[b + 1] == 0 ? offset : p[b] + settings.seasonalAlpha * (offset - p[b])
            p[b + 1] = min(p[b + 1] + 1, 1_000)
        }
        st.pointee.day = day
        st.pointee.daySum = 0
        st.pointee.dayCount = 0
        let b = 2 * Int(day + 3 - EventTime.floorDiv(day + 3, 7) * 7)
        st.pointee.weekdayOffset = p[b + 1] >= Double(settings.seasonalMinWeeks) ? p[b] : 0
    }

    /// Starts loading the cache lines of a sensor's state record.
    @inline(__always)
    func prefetchState(slot s: Int) {
        let st = UnsafeRawPointer(states + s)
        for line in stride(from: 0, to: MemoryLayout<AnomalyScorer.SensorState>.stride, by: 64) { vigil_prefetch(st + line) }
    }

    /// Starts loading the ring position the sensor's next value goes to (its state record should be in cache).
    @inline(__always)
    func prefetchRing(slot s: Int) {
        vigil_prefetch(UnsafeRawPointer(ring + (s &* settings.window &+ Int(states[s].head))))
    }

    /// Brings the sensor's order up to date with the values written to its ring since the last refresh: their
    /// positions (the `unsorted` before the head) leave the order, are sorted by their new values, and one merge
    /// pass from the back puts them in place. With the whole ring rewritten, the order is sorted afresh.
    func sortNewValues(slot s: Int) {
        let st = states + s
        let d = Int(st.pointee.unsorted)
        guard d > 0 else { return }
        st.pointee.unsorted = 0
        let w = settings.window
        let count = st.pointee.count
        let n = min(count, w)
        let values = ring + s &* w
        let o = order + s &* w
        // The positions written since the last refresh: `d` of them ending before the head.
        var start = Int(st.pointee.head) &- d
        if start < 0 { start &+= w }
        // Drop them from the order (the rest keep their relative order). With every position rewritten (the
        // count of unsorted values stops at `window`), nothing is kept.
        var kept = 0
        if d < w {
            let before = min(count &- d, w)
            for i in 0..<before {
                let p = o[i]
                var offset = Int(p) &- start
                if offset < 0 { offset &+= w }
                o[kept] = p
                kept &+= offset >= d ? 1 : 0
            }
        }
        // Sort the new positions by value (insertion sort: a refresh's worth of values).
        let added = scratch
        var k = 0
        var p = start
        while k < d {
            let x = values[p]
            var j = k
            while j > 0 && values[Int(added[j &- 1])] > x {
                added[j] = added[j &- 1]
                j &-= 1
            }
            added[j] = UInt8(truncatingIfNeeded: p)
            k &+= 1
            p = p &+ 1 == w ? 0 : p &+ 1
        }
        // Merge from the back: the kept positions sit at the front of the order, the result fills `n`.
        var i = kept &- 1
        var a = d &- 1
        var out = n &- 1
        while a >= 0 {
            if i >= 0 && values[Int(o[i])] > values[Int(added[a])] {
                o[out] = o[i]
                i &-= 1
            } else {
                o[out] = added[a]
                a &-= 1
            }
            out &-= 1
        }
    }

    /// Reads the median and MAD of the sensor's window off its order.
    ///
    /// The median is the middle value (or the mean of the two middle ones). The absolute deviations from it
    /// form two ascending runs, `median − v` leftwards from the middle and `v − median` rightwards; the MAD is
    /// their middle-ranked value, found by a binary search over how many come from each run. Each deviation is
    /// computed exactly as `abs(v − median)` would be (IEEE subtraction is sign-symmetric), so the result is
    /// bit-identical to sorting the deviations.
    func refreshRobust(slot s: Int) {
        let w = settings.window
        let st = states + s
        let n = min(st.pointee.count, w)
        guard n > 0 else { return }
        let values = ring + s &* w
        let o = order + s &* w
        @inline(__always) func v(_ i: Int) -> Double { values[Int(o[i])] }
        let half = n / 2
        let odd = n % 2 == 1
        let median = odd ? v(half) : (v(half - 1) + v(half)) / 2
        // v[0..<half] ≤ median ≤ v[half..<n] (the mean of two doubles lies between them), so the deviations are
        // two ascending runs: a(j) = median − v[half − 1 − j] and b(j) = v[half + j] − median. The MAD needs the
        // `half`-th smallest deviation (and the one before it for an even count): binary search for how many of
        // the `t` smallest come from the left run.
        let na = half
        let nb = n - half
        @inline(__always) func a(_ j: Int) -> Double { j >= 0 && j < na ? median - v(half - 1 - j) : (j < 0 ? -.infinity : .infinity) }
        @inline(__always) func b(_ j: Int) -> Double { j >= 0 && j < nb ? v(half + j) - median : (j < 0 ? -.infinity : .infinity) }
        let t = half + 1
        var lo = max(0, t - nb)
        var hi = min(t, na)
        while lo < hi {
            let mid = (lo + hi) >> 1
            if b(t - mid - 1) <= a(mid) { hi = mid } else { lo = mid + 1 }
        }
        let lastLeft = a(lo - 1)
        let lastRight = b(t - lo - 1)
        let current = max(lastLeft, lastRight)
        let previous = lastLeft >= lastRight ? max(a(lo - 2), lastRight) : max(lastLeft, b(t - lo - 2))
        st.pointee.median = median
        st.pointee.mad = odd ? current : (previous + current) / 2
    }
}

extension AnomalyScorer {
    /// Runs `body` with a kernel over this scorer's buffers.
    @inline(__always)
    mutating func withKernel<R>(_ body: (_AnomalyKernel) -> R) -> R {
        let settings = self.settings
        return states.withUnsafeMutableBufferPointer { st in
            ring.withUnsafeMutableBufferPointer { rg in
                order.withUnsafeMutableBufferPointer { od in
                    scratch.withUnsafeMutableBufferPointer { sc in
                        profile.withUnsafeMutableBufferPointer { pf in
                            body(
                                _AnomalyKernel(
                                    settings: settings, states: st.baseAddress!, ring: rg.baseAddress!,
                                    profile: settings.seasonal ? pf.baseAddress : nil, order: od.baseAddress!, scratch: sc.baseAddress!))
                        }
                    }
                }
            }
        }
    }
}
