/// Bindings as CSV for import into a database (RFC 4180): a header row of SPEC's field names, then one
/// row per ledger line, CRLF after every row (2.1, 2.2), UTF-8 without a byte order mark.
///
/// Values are written exactly as the ledger holds them, never altered: a database import must give
/// back the same userId. So a userId that begins with `=`, `+`, `-` or `@` reaches a spreadsheet as a
/// formula; serialNo and openId cannot carry a function call (the daemon admits only `[A-Za-z0-9_-]`).
/// See docs/ledger.md.
public enum LedgerCSV {
    public static let header: [UInt8] = Array((LedgerFields.names.joined(separator: ",") + "\r\n").utf8)

    /// Appends one row: the six fields in SPEC's order.
    public static func appendRow(_ fields: LedgerFields, to output: inout [UInt8]) {
        for (column, value) in fields.values.enumerated() {
            if column > 0 { output.append(UInt8(ascii: ",")) }
            appendField(value, to: &output)
        }
        output.append(contentsOf: [0x0D, 0x0A])
    }

    /// A field with a comma, a double quote, CR or LF is enclosed in double quotes, and each double
    /// quote in it is doubled (RFC 4180 2.6, 2.7); any other field is written bare.
    static func appendField(_ value: [UInt8], to output: inout [UInt8]) {
        let needsQuotes = value.contains { byte in
            byte == UInt8(ascii: ",") || byte == UInt8(ascii: "\"") || byte == 0x0D || byte == 0x0A
        }
        guard needsQuotes else { return output.append(contentsOf: value) }
        output.append(UInt8(ascii: "\""))
        for byte in value {
            if byte == UInt8(ascii: "\"") { output.append(byte) }
            output.append(byte)
        }
        output.append(UInt8(ascii: "\""))
    }
}
