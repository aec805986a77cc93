import JSON

/// The platform's identity of this merchant and how to reach it.
public struct PlatformAccount: Sendable {
    public var baseUrl: String
    public var businessId: String
    public var merchantId: String
    public var signType: SignType
    /// The body field that carries the merchant's userId (`userId`; the seed's example says `thirdAccount`).
    public var userIdField: String

    public init(
        baseUrl: String, businessId: String, merchantId: String, signType: SignType, userIdField: String
    ) {
        self.baseUrl = baseUrl
        self.businessId = businessId
        self.merchantId = merchantId
        self.signType = signType
        self.userIdField = userIdField
    }
}

/// 获取授权链接: `POST {baseUrl}/v1/openapi/auth/alipay/url`.
public enum AuthLinkCall {
    public static let path = "/v1/openapi/auth/alipay/url"

    /// Compact JSON, keys in the documented order, slashes unescaped.
    public static func body(account: PlatformAccount, serialNo: String, userId: String, callbackUrl: String)
        -> [UInt8]
    {
        JSONValue.object([
            ("merchantId", .string(account.merchantId)),
            ("businessId", .string(account.businessId)),
            ("serialNo", .string(serialNo)),
            (account.userIdField, .string(userId)),
            ("callbackUrl", .string(callbackUrl)),
        ]).encoded()
    }

    /// What the platform answered. Success is HTTP 2xx and an http(s) `data.alipayAuthUrl`; `status`
    /// alone decides nothing (the documentation's own success example says `"status": 420`).
    public enum Outcome: Sendable, Equatable {
        case link(String)
        case refused(platformStatus: Int?, platformMessage: String?, httpStatus: Int)
    }

    public static func interpret(httpStatus: Int, body: [UInt8]) -> Outcome {
        // The strict parser: an answer with a key twice (two links) is not read at all.
        let object = try? JSONParser.parse(body)
        var status: Int?
        switch object?["status"] {
        case .integer(let number)?: status = Int(exactly: number)
        case .number(let number)?: status = Int(exactly: number.rounded(.towardZero))
        default: status = nil
        }
        var message: String?
        if case .string(let text)? = object?["message"] { message = text }
        if (200..<300).contains(httpStatus), case .string(let link)? = object?["data"]?["alipayAuthUrl"],
            isWebLink(link)
        {
            return .link(link)
        }
        return .refused(platformStatus: status, platformMessage: message, httpStatus: httpStatus)
    }

    static func isWebLink(_ text: String) -> Bool {
        let lower = text.lowercased()
        guard lower.hasPrefix("https://") || lower.hasPrefix("http://") else { return false }
        let rest = lower.drop { $0 != "/" }.dropFirst(2)
        return !rest.isEmpty && !text.contains(where: { $0.isWhitespace })
    }
}
