extension Timestamp {
    /// Parses any RFC 3339 `date-time` (section 5.6): `T` or `t` between date and time (5.6, NOTE),
    /// optional fractional seconds of any length, and `Z`, `z` or a `±hh:mm` offset (`-00:00` is UTC,
    /// 4.3). Returns the first whole Unix millisecond at or after that instant, so that for the
    /// millisecond `boundAt` of a binding `boundAt >= result` holds exactly when the binding is not
    /// before the instant. nil for anything else, including the leap second `:60` (5.7): Unix time,
    /// which `boundAt` counts, has none.
    public static func firstMillisecond(atOrAfter text: String) -> Int64? {
        var text = text
        return text.withUTF8 { firstMillisecond(atOrAfter: $0) }
    }

    static func firstMillisecond(atOrAfter bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        var position = 0
        func digits(_ count: Int) -> Int? {
            guard position + count <= bytes.count else { return nil }
            var value = 0
            for _ in 0..<count {
                let digit = Int(bytes[position]) - 48
                guard (0...9).contains(digit) else { return nil }
                value = value * 10 + digit
                position += 1
            }
            return value
        }
        func skip(_ allowed: UInt8...) -> UInt8? {
            guard position < bytes.count, allowed.contains(bytes[position]) else { return nil }
            position += 1
            return bytes[position - 1]
        }
        guard let year = digits(4), skip(UInt8(ascii: "-")) != nil, let month = digits(2),
            skip(UInt8(ascii: "-")) != nil, let day = digits(2),
            skip(UInt8(ascii: "T"), UInt8(ascii: "t")) != nil,
            let hour = digits(2), skip(UInt8(ascii: ":")) != nil, let minute = digits(2),
            skip(UInt8(ascii: ":")) != nil, let second = digits(2),
            (1...12).contains(month), (1...daysIn(month, of: year)).contains(day), hour < 24, minute < 60,
            second < 60
        else { return nil }

        // time-secfrac: the first three digits are milliseconds; any further non-zero digit rounds up.
        var millis = 0
        var roundsUp = false
        if skip(UInt8(ascii: ".")) != nil {
            let start = position
            while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) {
                let digit = Int(bytes[position]) - 48
                switch position - start {
                case 0..<3: millis = millis * 10 + digit
                default: roundsUp = roundsUp || digit != 0
                }
                position += 1
            }
            let count = position - start
            guard count > 0 else { return nil }
            for _ in count..<max(count, 3) { millis *= 10 }
        }

        // time-offset: local time minus UTC, so UTC is local time minus the offset.
        var offsetMinutes = 0
        switch skip(UInt8(ascii: "Z"), UInt8(ascii: "z"), UInt8(ascii: "+"), UInt8(ascii: "-")) {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            break
        case let sign?:
            guard let offsetHour = digits(2), skip(UInt8(ascii: ":")) != nil, let offsetMinute = digits(2),
                offsetHour < 24, offsetMinute < 60
            else { return nil }
            offsetMinutes = (offsetHour * 60 + offsetMinute) * (sign == UInt8(ascii: "-") ? -1 : 1)
        case nil:
            return nil
        }
        guard position == bytes.count else { return nil }

        let days = daysFromCivil(year: Int64(year), month: month, day: day)
        let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offsetMinutes * 60)
        return seconds * 1000 + Int64(millis) + (roundsUp ? 1 : 0)
    }
}
