import Correlation
import JSON

#if canImport(Glibc)
    import Glibc
#endif

/// How bindings and journal entries are written as lines, and read back.
public enum LedgerLine {
    /// The ledger's line, exactly SPEC's shape and key order; `boundAt` RFC 3339 UTC with milliseconds.
    public static func encode(_ binding: Binding) -> [UInt8] {
        // Written field by field rather than through a JSONValue tree: this runs once per callback on
        // the callback port's event loop. The bytes are the same (a test pins them to JSONValue's).
        var line: [UInt8] = []
        // The fixed text is 85 bytes and the time 24: sized so that no append grows the array (escapes
        // aside), which would copy the line once more.
        line.reserveCapacity(
            120 + binding.serialNo.utf8.count + binding.userId.utf8.count + binding.openId.utf8.count
                + binding.merchantId.utf8.count + binding.businessId.utf8.count)
        func raw(_ text: StaticString) {
            line.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        }
        raw(#"{"serialNo":"#)
        JSONValue.appendString(binding.serialNo, to: &line)
        raw(#","userId":"#)
        JSONValue.appendString(binding.userId, to: &line)
        raw(#","openId":"#)
        JSONValue.appendString(binding.openId, to: &line)
        raw(#","merchantId":"#)
        JSONValue.appendString(binding.merchantId, to: &line)
        raw(#","businessId":"#)
        JSONValue.appendString(binding.businessId, to: &line)
        raw(#","boundAt":""#)
        Timestamp.appendRFC3339(milliseconds: binding.boundAt, to: &line)
        raw(#""}"#)
        line.append(0x0A)
        return line
    }

    /// Replays one ledger line straight into the registry's compact binding table: the fields are
    /// copied from the line's bytes without building a dictionary or Strings per line.
    public static func replay(
        _ line: UnsafeBufferPointer<UInt8>, into registry: inout Registry, scratch: inout ReplayScratch
    )
        throws
    {
        try scratch.fields.decode(line)
        let merchantId = scratch.merchantId()
        let businessId = scratch.businessId()
        scratch.fields.values[0].withUnsafeBufferPointer { serial in
            scratch.fields.values[1].withUnsafeBufferPointer { user in
                scratch.fields.values[2].withUnsafeBufferPointer { open in
                    registry.restoreBinding(
                        serialNo: serial, userId: user, openId: open, merchantId: merchantId,
                        businessId: businessId,
                        boundAt: scratch.fields.boundAt)
                }
            }
        }
    }

    /// The fields' columns in `LedgerFields.values`.
    enum Key: Int {
        case serialNo, userId, openId, merchantId, businessId, boundAt

        /// Matches by length and a couple of bytes first: this runs six times per ledger line.
        init?(_ bytes: UnsafeBufferPointer<UInt8>) {
            func equals(_ name: StaticString) -> Bool {
                memcmp(bytes.baseAddress!, name.utf8Start, bytes.count) == 0
            }
            switch bytes.count {
            case 6 where bytes[0] == UInt8(ascii: "u") && equals("userId"): self = .userId
            case 6 where bytes[0] == UInt8(ascii: "o") && equals("openId"): self = .openId
            case 7 where equals("boundAt"): self = .boundAt
            case 8 where equals("serialNo"): self = .serialNo
            case 10 where bytes[0] == UInt8(ascii: "m") && equals("merchantId"): self = .merchantId
            case 10 where bytes[0] == UInt8(ascii: "b") && equals("businessId"): self = .businessId
            default: return nil
            }
        }
    }

}

/// The pending-request journal: `{"op":"pending",…}` when a link is issued, `{"op":"failed",…}`
/// when the platform refused it. Bound requests are known from the ledger itself.
public enum JournalLine {
    public enum Entry: Sendable, Equatable {
        case pending(PendingRequest)
        case failed(serialNo: String)
    }

    public static func encode(_ entry: Entry) -> [UInt8] {
        var line: [UInt8]
        switch entry {
        case .pending(let request):
            line = JSONValue.object([
                ("op", .string("pending")),
                ("serialNo", .string(request.serialNo)),
                ("userId", .string(request.userId)),
                ("token", .string(request.token)),
                ("callbackUrl", .string(request.callbackUrl)),
                ("createdAt", .integer(request.createdAt)),
                ("expiresAt", .integer(request.expiresAt)),
            ]).encoded()
        case .failed(let serialNo):
            line = JSONValue.object([("op", .string("failed")), ("serialNo", .string(serialNo))]).encoded()
        }
        line.append(0x0A)
        return line
    }

    /// Decodes one journal line without building a dictionary (start-up replays up to
    /// `requests.maxPending` of them).
    public static func decode(_ line: UnsafeBufferPointer<UInt8>) throws -> Entry {
        var strings: [String?] = [nil, nil, nil, nil, nil]  // op, serialNo, userId, token, callbackUrl
        var integers: [Int64?] = [nil, nil]  // createdAt, expiresAt
        try FlatJSON.scan(line) { key, value in
            let name = String(decoding: key, as: UTF8.self)
            switch (name, value) {
            case ("op", .string(let text)): strings[0] = String(decoding: text, as: UTF8.self)
            case ("serialNo", .string(let text)): strings[1] = String(decoding: text, as: UTF8.self)
            case ("userId", .string(let text)): strings[2] = String(decoding: text, as: UTF8.self)
            case ("token", .string(let text)): strings[3] = String(decoding: text, as: UTF8.self)
            case ("callbackUrl", .string(let text)): strings[4] = String(decoding: text, as: UTF8.self)
            case ("createdAt", .integer(let number)): integers[0] = number
            case ("expiresAt", .integer(let number)): integers[1] = number
            default: break
            }
        }
        func string(_ index: Int, _ key: String) throws -> String {
            guard let value = strings[index] else {
                throw FlatJSON.DecodeError(description: "missing string \"\(key)\"")
            }
            return value
        }
        func integer(_ index: Int, _ key: String) throws -> Int64 {
            guard let value = integers[index] else {
                throw FlatJSON.DecodeError(description: "missing integer \"\(key)\"")
            }
            return value
        }
        switch try string(0, "op") {
        case "pending":
            return .pending(
                PendingRequest(
                    serialNo: try string(1, "serialNo"), userId: try string(2, "userId"),
                    token: try string(3, "token"),
                    callbackUrl: try string(4, "callbackUrl"), createdAt: try integer(0, "createdAt"),
                    expiresAt: try integer(1, "expiresAt")))
        case "failed":
            return .failed(serialNo: try string(1, "serialNo"))
        case let other:
            throw FlatJSON.DecodeError(description: "unknown op \"\(other)\"")
        }
    }

}

/// One ledger line's six fields, decoded into buffers reused from line to line: replay and export read
/// a million lines without per-line allocations, and both call the same lines corrupt.
public struct LedgerFields {
    /// SPEC's field order, which `values` and the CSV export follow.
    public static let names = ["serialNo", "userId", "openId", "merchantId", "businessId", "boundAt"]

    /// Each field's bytes (JSON escapes undone, valid UTF-8) in `names` order; `boundAt` as written.
    public internal(set) var values: [[UInt8]] = Array(repeating: [], count: 6)
    /// `boundAt` in Unix milliseconds.
    public internal(set) var boundAt: Int64 = 0
    private var seen = 0

    public init() {}

    /// Decodes one line (without its newline). Throws what is wrong: not a flat JSON object, a field
    /// missing or repeated, or a `boundAt` not in the ledger's RFC 3339 form. Keys added by later
    /// versions are ignored.
    public mutating func decode(_ line: UnsafeBufferPointer<UInt8>) throws {
        seen = 0
        try FlatJSON.scan(line) { key, value in
            guard case .string(let text) = value, let column = LedgerLine.Key(key)?.rawValue else { return }
            guard seen & (1 << column) == 0 else {
                throw FlatJSON.DecodeError(description: "duplicate key \"\(Self.names[column])\"")
            }
            seen |= 1 << column
            values[column].removeAll(keepingCapacity: true)
            values[column].append(contentsOf: text)
            if column == LedgerLine.Key.boundAt.rawValue {
                guard let millis = Timestamp.parse(text) else {
                    throw FlatJSON.DecodeError(description: "boundAt is not an RFC 3339 UTC timestamp")
                }
                boundAt = millis
            }
        }
        guard seen == 0b11_1111 else {
            let missing = Self.names.indices.first { seen & (1 << $0) == 0 }!
            throw FlatJSON.DecodeError(description: "missing string \"\(Self.names[missing])\"")
        }
    }
}

/// Buffers reused from line to line during replay, so a million lines cost no per-line allocations.
public struct ReplayScratch {
    var fields = LedgerFields()
    var cachedMerchant: ([UInt8], String) = ([], "")
    var cachedBusiness: ([UInt8], String) = ([], "")

    public init() {}

    /// merchantId and businessId are the same on nearly every line: reuse the previous String.
    mutating func merchantId() -> String {
        if cachedMerchant.0 != fields.values[3] {
            cachedMerchant = (fields.values[3], String(decoding: fields.values[3], as: UTF8.self))
        }
        return cachedMerchant.1
    }

    mutating func businessId() -> String {
        if cachedBusiness.0 != fields.values[4] {
            cachedBusiness = (fields.values[4], String(decoding: fields.values[4], as: UTF8.self))
        }
        return cachedBusiness.1
    }
}
