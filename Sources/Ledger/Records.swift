import Correlation
import JSON

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
