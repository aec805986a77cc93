import Correlation
import JSON

#if canImport(Glibc)
    import Glibc
#endif

/// How bindings and journal entries are written as lines, and read back.
public enum LedgerLine {
    /// The ledger's line, exactly SPEC's shape and key order; `boundAt` RFC 3339 UTC with milliseconds.
    public static func encode(_ binding: Binding) -> [UInt8] {
        var line = JSONValue.object([
            ("serialNo", .string(binding.serialNo)),
            ("userId", .string(binding.userId)),
            ("openId", .string(binding.openId)),
            ("merchantId", .string(binding.merchantId)),
            ("businessId", .string(binding.businessId)),
            ("boundAt", .string(Timestamp.rfc3339(milliseconds: binding.boundAt))),
        ]).encoded()
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
        scratch.reset()
        try FlatJSON.scan(line) { key, value in
            guard case .string(let text) = value else { return }
            switch Key(key) {
            case .serialNo: try scratch.set(0, text, "serialNo")
            case .userId: try scratch.set(1, text, "userId")
            case .openId: try scratch.set(2, text, "openId")
            case .merchantId: try scratch.set(3, text, "merchantId")
            case .businessId: try scratch.set(4, text, "businessId")
            case .boundAt:
                try scratch.mark(5, "boundAt")
                guard let millis = Timestamp.parse(text) else {
                    throw FlatJSON.DecodeError(description: "boundAt is not an RFC 3339 UTC timestamp")
                }
                scratch.boundAt = millis
            case nil: break  // Keys added by later versions.
            }
        }
        guard scratch.seen == 0b11_1111 else {
            let missing = ["serialNo", "userId", "openId", "merchantId", "businessId", "boundAt"].enumerated()
                .first { scratch.seen & (1 << $0.offset) == 0 }!.element
            throw FlatJSON.DecodeError(description: "missing string \"\(missing)\"")
        }
        let merchantId = scratch.merchantId()
        let businessId = scratch.businessId()
        scratch.fields[0].withUnsafeBufferPointer { serial in
            scratch.fields[1].withUnsafeBufferPointer { user in
                scratch.fields[2].withUnsafeBufferPointer { open in
                    registry.restoreBinding(
                        serialNo: serial, userId: user, openId: open, merchantId: merchantId,
                        businessId: businessId,
                        boundAt: scratch.boundAt)
                }
            }
        }
    }

    enum Key {
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

    public static func decodeBinding(_ fields: [String: FlatJSON.Value]) throws -> Binding {
        func string(_ key: String) throws -> String {
            guard case .string(let value)? = fields[key] else {
                throw FlatJSON.DecodeError(description: "missing string \"\(key)\"")
            }
            return value
        }
        let boundText = try string("boundAt")
        guard let boundAt = Timestamp.parse(boundText) else {
            throw FlatJSON.DecodeError(description: "boundAt is not an RFC 3339 UTC timestamp")
        }
        return Binding(
            serialNo: try string("serialNo"), userId: try string("userId"), openId: try string("openId"),
            merchantId: try string("merchantId"), businessId: try string("businessId"), boundAt: boundAt)
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

    public static func decode(_ fields: [String: FlatJSON.Value]) throws -> Entry {
        func string(_ key: String) throws -> String {
            guard case .string(let value)? = fields[key] else {
                throw FlatJSON.DecodeError(description: "missing string \"\(key)\"")
            }
            return value
        }
        func integer(_ key: String) throws -> Int64 {
            guard case .integer(let value)? = fields[key] else {
                throw FlatJSON.DecodeError(description: "missing integer \"\(key)\"")
            }
            return value
        }
        switch try string("op") {
        case "pending":
            return .pending(
                PendingRequest(
                    serialNo: try string("serialNo"), userId: try string("userId"),
                    token: try string("token"),
                    callbackUrl: try string("callbackUrl"), createdAt: try integer("createdAt"),
                    expiresAt: try integer("expiresAt")))
        case "failed":
            return .failed(serialNo: try string("serialNo"))
        case let other:
            throw FlatJSON.DecodeError(description: "unknown op \"\(other)\"")
        }
    }
}

/// Buffers reused from line to line during replay, so a million lines cost no per-line allocations.
public struct ReplayScratch {
    var fields: [[UInt8]] = Array(repeating: [], count: 5)  // serialNo, userId, openId, merchantId, businessId
    var boundAt: Int64 = 0
    var seen = 0
    var cachedMerchant: ([UInt8], String) = ([], "")
    var cachedBusiness: ([UInt8], String) = ([], "")

    public init() {}

    mutating func reset() { seen = 0 }

    mutating func mark(_ bit: Int, _ name: String) throws {
        guard seen & (1 << bit) == 0 else {
            throw FlatJSON.DecodeError(description: "duplicate key \"\(name)\"")
        }
        seen |= 1 << bit
    }

    mutating func set(_ column: Int, _ text: UnsafeBufferPointer<UInt8>, _ name: String) throws {
        try mark(column, name)
        fields[column].removeAll(keepingCapacity: true)
        fields[column].append(contentsOf: text)
    }

    /// merchantId and businessId are the same on nearly every line: reuse the previous String.
    mutating func merchantId() -> String {
        if cachedMerchant.0 != fields[3] {
            cachedMerchant = (fields[3], String(decoding: fields[3], as: UTF8.self))
        }
        return cachedMerchant.1
    }

    mutating func businessId() -> String {
        if cachedBusiness.0 != fields[4] {
            cachedBusiness = (fields[4], String(decoding: fields[4], as: UTF8.self))
        }
        return cachedBusiness.1
    }
}
