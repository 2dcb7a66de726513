public import VigilCore

/// Bad reading records, one per kind of defect, with the reason the decoder must give.
public enum BadRecordFixtures: Sendable {
    /// At least twelve kinds of bad record, each rejected with its reason while its neighbours are decoded.
    public static let all: [(String, RejectReason)] = [
        (#"{"enterprise":"E1","sensor":"S1","ts":1732300000000"#, .malformedJSON),
        (#"{"enterprise":"E1","sensor":"S1","ts":1732300000000,"value":1} trailing"#, .malformedJSON),
        (#"42"#, .notAnObject),
        (#"{"sensor":"S1","ts":1732300000000,"value":1}"#, .missingField),
        (#"{"enterprise":"E1","ts":1732300000000,"value":1}"#, .missingField),
        (#"{"enterprise":"E1","sensor":"S1","value":1}"#, .missingField),
        (#"{"enterprise":"E1","sensor":"S1","ts":1732300000000}"#, .missingField),
        (#"{"enterprise":"E1","sensor":"S1","ts":1732300000000,"value":"12.5"}"#, .wrongType),
        (#"{"enterprise":"E1","sensor":"S1","ts":1732300000000,"value":null}"#, .wrongType),
        (#"{"enterprise":7,"sensor":"S1","ts":1732300000000,"value":1}"#, .wrongType),
        (#"{"enterprise":"E1","sensor":"S1","ts":1732300000000,"value":1,"quality":"great"}"#, .wrongType),
        (#"{"enterprise":"E1","sensor":"S1","ts":1732300000000,"value":1e400}"#, .valueNotFinite),
        (#"{"enterprise":"E1","sensor":"S1","ts":1732300000000,"value":"NaN"}"#, .valueNotFinite),
        (#"{"enterprise":"E1","sensor":"S1","ts":"yesterday","value":1}"#, .timestampUnparseable),
        (#"{"enterprise":"E1","sensor":"S1","ts":"2024-02-30T00:00:00Z","value":1}"#, .timestampUnparseable),
        (#"{"enterprise":"E1","sensor":"S1","ts":1732300000000.5,"value":1}"#, .timestampUnparseable),
        (#"{"enterprise":"E1","sensor":"S1","ts":1999999999999999,"value":1}"#, .timestampOutOfRange),
        (#"{"enterprise":"E1","sensor":"S1","ts":1000,"value":1}"#, .timestampOutOfRange),
        (#"{"enterprise":"","sensor":"S1","ts":1732300000000,"value":1}"#, .invalidIdentifier),
        (#"{"enterprise":"E1","sensor":"S1","ts":1732300000000,"value":1,"value":2}"#, .duplicateField),
        (#"   "#, .emptyPayload),
        (
            #"{"enterprise":"E1","sensor":"S1\u0001","ts":1,"value":1,"x":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}"#,
            .malformedJSON
        ),
    ]

}
