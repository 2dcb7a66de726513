#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
public import VigilCore

/// Loads workload W1 from the raw little-endian columns written by `shared/bench/w1-data.py`
/// (`cols/enterprise_id.i32`, `sensor_id.i32`, `ts_ms.i64`, `value.f64`), so that Vigil and the C reference
/// run on byte-identical input.
public enum W1Columns: Sendable {
    public struct LoadError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Reads the columns and cuts them into batches. Sensor slots are assigned densely per
    /// (enterprise id, sensor id) pair in first-seen order, as a decoder's ``KeyInterner`` would.
    ///
    /// - Returns: The batches and, per slot, the (enterprise id, sensor id) pair.
    public static func load(directory: String, batchSize: Int) throws -> (batches: [ReadingBatch], keys: [(Int32, Int32)]) {
        let enterprise: [Int32] = try readColumn(directory + "/cols/enterprise_id.i32")
        let sensor: [Int32] = try readColumn(directory + "/cols/sensor_id.i32")
        let ts: [Int64] = try readColumn(directory + "/cols/ts_ms.i64")
        let value: [Double] = try readColumn(directory + "/cols/value.f64")
        guard enterprise.count == sensor.count && sensor.count == ts.count && ts.count == value.count else {
            throw LoadError(description: "\(directory): columns have different lengths")
        }
        var slots: [Int64: UInt32] = [:]
        var enterpriseSlots: [Int32: UInt32] = [:]
        var keys: [(Int32, Int32)] = []
        var batches: [ReadingBatch] = []
        var batch = ReadingBatch(capacity: batchSize)
        for i in 0..<ts.count {
            let key = Int64(enterprise[i]) << 32 | Int64(UInt32(bitPattern: sensor[i]))
            let slot: UInt32
            if let s = slots[key] {
                slot = s
            } else {
                slot = UInt32(keys.count)
                slots[key] = slot
                keys.append((enterprise[i], sensor[i]))
            }
            let e: UInt32
            if let s = enterpriseSlots[enterprise[i]] {
                e = s
            } else {
                e = UInt32(enterpriseSlots.count)
                enterpriseSlots[enterprise[i]] = e
            }
            batch.append(eventTime: ts[i], sensor: slot, enterprise: e, value: value[i], offset: Int64(i))
            if batch.count == batchSize {
                batches.append(batch)
                batch = ReadingBatch(capacity: batchSize)
            }
        }
        if !batch.isEmpty { batches.append(batch) }
        return (batches, keys)
    }

    static func readColumn<T>(_ path: String) throws -> [T] {
        guard let f = fopen(path, "rb") else { throw LoadError(description: "\(path): cannot open") }
        defer { fclose(f) }
        fseek(f, 0, SEEK_END)
        let bytes = ftell(f)
        fseek(f, 0, SEEK_SET)
        let n = bytes / MemoryLayout<T>.stride
        return try [T](unsafeUninitializedCapacity: n) { buffer, count in
            let read = fread(buffer.baseAddress, MemoryLayout<T>.stride, n, f)
            guard read == n else { throw LoadError(description: "\(path): short read") }
            count = n
        }
    }
}
