/// Exact decimal → binary64 conversion for `w × 10^q` with a 64-bit significand (the Eisel–Lemire algorithm,
/// as in fast_float). Returns nil in the rare cases it cannot decide (subnormal results, ambiguous products);
/// the caller then falls back to `strtod`. Randomized tests compare it with the C library bit for bit.
enum _EiselLemire {
    static func parse(significand w0: UInt64, exponent q: Int, negative: Bool) -> Double? {
        if w0 == 0 || q < _PowersOfFive.smallestExponent { return negative ? -0.0 : 0.0 }
        if q > _PowersOfFive.largestExponent { return negative ? -.infinity : .infinity }
        let lz = w0.leadingZeroBitCount
        let w = w0 << UInt64(lz)
        let index = 2 * (q - _PowersOfFive.smallestExponent)
        var (high, low) = _PowersOfFive.table.withUnsafeBufferPointer { table in
            w.multipliedFullWidth(by: table[index])
        }
        // 55 bits of precision are needed (52 explicit + hidden + round + guard).
        let precisionMask: UInt64 = 0xFFFF_FFFF_FFFF_FFFF >> 55
        if high & precisionMask == precisionMask {
            let second = _PowersOfFive.table.withUnsafeBufferPointer { table in
                w.multipliedFullWidth(by: table[index + 1])
            }
            let (sum, overflow) = low.addingReportingOverflow(second.high)
            low = sum
            if overflow { high &+= 1 }
            if low == .max && (q < -27 || q > 55) { return nil }
        }
        let upperBit = Int(high >> 63)
        let shift = UInt64(upperBit + 64 - 52 - 3)
        var mantissa = high >> shift
        var power2 = ((152_170 + 65_536) * q) >> 16 + 63 + upperBit - lz + 1023
        if power2 <= 0 { return nil }  // subnormal: let strtod round it
        if low <= 1 && q >= -4 && q <= 23 && mantissa & 3 == 1 {
            if mantissa << shift == high { mantissa &= ~UInt64(1) }
        }
        mantissa += mantissa & 1
        mantissa >>= 1
        if mantissa >= (UInt64(2) << 52) {
            mantissa = UInt64(1) << 52
            power2 += 1
        }
        mantissa &= ~(UInt64(1) << 52)
        if power2 >= 0x7FF { return negative ? -.infinity : .infinity }
        let bits = mantissa | UInt64(power2) << 52 | (negative ? UInt64(1) << 63 : 0)
        return Double(bitPattern: bits)
    }
}
