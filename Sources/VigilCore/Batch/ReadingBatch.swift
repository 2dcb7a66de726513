/// Quality and provenance flags of one reading.
public struct ReadingFlags: OptionSet, Sendable, Hashable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// The source marked the value as uncertain (for example a detector in calibration).
    public static let uncertain = ReadingFlags(rawValue: 1 << 0)
    /// The source marked the value as bad; statistics still see it unless a pipeline filters it.
    public static let bad = ReadingFlags(rawValue: 1 << 1)
    /// The value was substituted by a gateway (last good value, interpolation).
    public static let substituted = ReadingFlags(rawValue: 1 << 2)
}

/// A batch of sensor readings stored as struct-of-arrays columns.
///
/// Every column has ``count`` elements; element `i` of each column belongs to reading `i`.
/// Batches are meant to be reused: ``removeAll()`` keeps the columns' capacity, so a decoder that
/// fills the same batch on every poll allocates nothing once the batch has reached its working size.
///
/// ```
///  i        0       1       2      …
///  eventTime 1700…000 1700…025 1700…050      Int64, ms since the Unix epoch
///  sensor    17      4       17              UInt32 slot from a KeyInterner
///  enterprise 3      1       3               UInt32 slot from a KeyInterner
///  value     12.5    0.3     12.7            Double
///  flags     []      [.bad]  []              ReadingFlags
///  offset    4711    4712    4713            source offset (for DLQ and checkpoints)
/// ```
public struct ReadingBatch: Sendable {
    /// Event time of each reading, in milliseconds since the Unix epoch.
    public var eventTime: [Int64]
    /// Interned sensor slot of each reading.
    public var sensor: [UInt32]
    /// Interned enterprise slot of each reading.
    public var enterprise: [UInt32]
    /// The measured value.
    public var value: [Double]
    /// Quality flags.
    public var flags: [ReadingFlags]
    /// The offset of the source record the reading came from (several readings may share one offset).
    public var offset: [Int64]

    /// Creates an empty batch with room for `capacity` readings.
    public init(capacity: Int = 0) {
        eventTime = []
        sensor = []
        enterprise = []
        value = []
        flags = []
        offset = []
        reserveCapacity(capacity)
    }

    /// The number of readings in the batch.
    public var count: Int { eventTime.count }

    /// Whether the batch holds no reading.
    public var isEmpty: Bool { eventTime.isEmpty }

    /// Reserves room for `capacity` readings in every column.
    public mutating func reserveCapacity(_ capacity: Int) {
        eventTime.reserveCapacity(capacity)
        sensor.reserveCapacity(capacity)
        enterprise.reserveCapacity(capacity)
        value.reserveCapacity(capacity)
        flags.reserveCapacity(capacity)
        offset.reserveCapacity(capacity)
    }

    /// Appends one reading.
    ///
    /// - Complexity: Amortized O(1); no allocation once the batch has reached its working capacity.

    public mutating func append(
        eventTime: Int64,
        sensor: UInt32,
        enterprise: UInt32,
        value: Double,
        flags: ReadingFlags = [],
        offset: Int64 = -1
    ) {
        self.eventTime.append(eventTime)
        self.sensor.append(sensor)
        self.enterprise.append(enterprise)
        self.value.append(value)
        self.flags.append(flags)
        self.offset.append(offset)
    }

    /// Removes every reading but keeps the allocated capacity of all columns.
    public mutating func removeAll() {
        eventTime.removeAll(keepingCapacity: true)
        sensor.removeAll(keepingCapacity: true)
        enterprise.removeAll(keepingCapacity: true)
        value.removeAll(keepingCapacity: true)
        flags.removeAll(keepingCapacity: true)
        offset.removeAll(keepingCapacity: true)
    }
}
