/// Why a record was rejected by a decoder. The raw value is what the dead-letter topic's
/// `vigil.reason` header carries.
public struct RejectReason: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    /// The payload has no bytes (or only whitespace).
    public static let emptyPayload = RejectReason(rawValue: "empty_payload")
    /// The payload is larger than the configured maximum.
    public static let oversizePayload = RejectReason(rawValue: "oversize_payload")
    /// The payload is not well-formed JSON (the whole payload is rejected).
    public static let malformedJSON = RejectReason(rawValue: "malformed_json")
    /// The payload (or an array element) is valid JSON but not an object.
    public static let notAnObject = RejectReason(rawValue: "not_an_object")
    /// A required field (`enterprise`, `sensor`, `ts`, `value`) is absent.
    public static let missingField = RejectReason(rawValue: "missing_field")
    /// A field has the wrong JSON type or an invalid value (`"value": "12"`, `"quality": "great"`).
    public static let wrongType = RejectReason(rawValue: "wrong_type")
    /// A known field appears twice in one record.
    public static let duplicateField = RejectReason(rawValue: "duplicate_field")
    /// `value` is not a finite number (for example `1e400`).
    public static let valueNotFinite = RejectReason(rawValue: "value_not_finite")
    /// `ts` is a string that is not an RFC 3339 date-time, or a number that is not a whole millisecond count.
    public static let timestampUnparseable = RejectReason(rawValue: "timestamp_unparseable")
    /// `ts` is further in the future or the past than the configured horizons allow.
    public static let timestampOutOfRange = RejectReason(rawValue: "timestamp_out_of_range")
    /// `enterprise` or `sensor` is empty or longer than the configured maximum.
    public static let invalidIdentifier = RejectReason(rawValue: "invalid_identifier")

    // Refused after decoding.

    /// A reading behind the watermark by more than the first window's allowed lateness.
    public static let lateRecord = RejectReason(rawValue: "late_record")
    /// A reading that names another enterprise than its sensor's (the enterprise of the sensor's first reading).
    public static let sensorEnterpriseMismatch = RejectReason(rawValue: "sensor_enterprise_mismatch")
    /// A record of a reference-table topic that cannot be applied.
    public static let badTableRecord = RejectReason(rawValue: "bad_table_record")
    /// A grade record the heat-map stage cannot read.
    public static let badGradeRecord = RejectReason(rawValue: "bad_grade_record")

    /// Every reason a dead letter can carry (the `risk.dlq` schema's enum).
    public static let all: [RejectReason] = [
        .emptyPayload, .oversizePayload, .malformedJSON, .notAnObject, .missingField, .wrongType, .duplicateField, .valueNotFinite,
        .timestampUnparseable, .timestampOutOfRange, .invalidIdentifier, .lateRecord, .sensorEnterpriseMismatch, .badTableRecord,
        .badGradeRecord,
    ]
}

/// One rejected record: the reason, a human-readable detail, and where it sits in the payload.
public struct DecodeRejection: Sendable, Hashable {
    public var reason: RejectReason
    /// What exactly was wrong (`"missing field 'ts'"`, `"ts 1e15 is 31688 years after now"`).
    public var detail: String
    /// The byte range of the rejected record within its payload (the whole payload for payload-level errors).
    public var range: Range<Int>
    /// The source offset of the payload.
    public var offset: Int64

    public init(reason: RejectReason, detail: String, range: Range<Int>, offset: Int64) {
        self.reason = reason
        self.detail = detail
        self.range = range
        self.offset = offset
    }
}
