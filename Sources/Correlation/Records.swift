/// A request for an authorization link that waits for the platform's callback.
/// Times are Unix milliseconds (UTC).
public struct PendingRequest: Sendable, Equatable {
    public let serialNo: String
    public let userId: String
    /// The random path segment of this request's `callbackUrl`; only a callback carrying it can bind.
    public let token: String
    public let callbackUrl: String
    public let createdAt: Int64
    public let expiresAt: Int64

    public init(
        serialNo: String, userId: String, token: String, callbackUrl: String, createdAt: Int64,
        expiresAt: Int64
    ) {
        self.serialNo = serialNo
        self.userId = userId
        self.token = token
        self.callbackUrl = callbackUrl
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// One line of the ledger: this openId belongs to this merchant's userId, learnt through serialNo.
public struct Binding: Sendable, Equatable {
    public let serialNo: String
    public let userId: String
    public let openId: String
    public let merchantId: String
    public let businessId: String
    public let boundAt: Int64

    public init(
        serialNo: String, userId: String, openId: String, merchantId: String, businessId: String,
        boundAt: Int64
    ) {
        self.serialNo = serialNo
        self.userId = userId
        self.openId = openId
        self.merchantId = merchantId
        self.businessId = businessId
        self.boundAt = boundAt
    }
}

public enum RequestState: String, Sendable {
    case pending, bound, expired, failed
}

/// What `GET /v1/requests/{serialNo}` reports.
public struct RequestStatus: Sendable, Equatable {
    public let serialNo: String
    public let userId: String
    public let state: RequestState
    public let openId: String?
    public let createdAt: Int64
    public let expiresAt: Int64
    public let boundAt: Int64?
}
