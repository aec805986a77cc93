/// The Prometheus text exposition format 0.0.4: names, escaping and numbers.
/// https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
enum TextFormat {
    /// `[a-zA-Z_:][a-zA-Z0-9_:]*`
    static func isValidMetricName(_ name: String) -> Bool {
        isValidName(name, extra: UInt8(ascii: ":")) && !name.hasPrefix("__")
    }

    /// `[a-zA-Z_][a-zA-Z0-9_]*`, and names beginning `__` are reserved.
    static func isValidLabelName(_ name: String) -> Bool {
        isValidName(name, extra: nil) && !name.hasPrefix("__")
    }

    private static func isValidName(_ name: String, extra: UInt8?) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first else { return false }
        func isLetter(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || byte == UInt8(ascii: "_")
                || byte == extra
        }
        return isLetter(first)
            && bytes.allSatisfy { isLetter($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    /// HELP text escapes backslash and line feed.
    static func escapeHelp(_ text: String) -> String {
        escape(text, quote: false)
    }

    /// Label values escape backslash, double quote and line feed.
    static func escapeLabelValue(_ text: String) -> String {
        escape(text, quote: true)
    }

    private static func escape(_ text: String, quote: Bool) -> String {
        guard text.utf8.contains(where: { $0 == 0x5C || $0 == 0x0A || (quote && $0 == 0x22) }) else {
            return text
        }
        var escaped = ""
        for character in text.unicodeScalars {
            switch character {
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\"" where quote: escaped += "\\\""
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }

    /// Integral values without a fraction ("1", not "1.0"); others as Swift's shortest round-trip text,
    /// which Go's and Python's float parsers read back exactly; "+Inf", "-Inf" and "NaN" as the format
    /// spells them.
    static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    static func sample(
        _ text: inout String, _ name: String, _ labels: [(name: String, value: String)], _ value: String
    ) {
        text += name
        if !labels.isEmpty {
            text += "{"
            for (index, label) in labels.enumerated() {
                if index > 0 { text += "," }
                text += label.name + "=\"" + escapeLabelValue(label.value) + "\""
            }
            text += "}"
        }
        text += " " + value + "\n"
    }
}
