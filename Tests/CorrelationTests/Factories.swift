import Correlation

/// Times in these tests: requests are made at `t0` and live an hour.
let t0: Int64 = 1_800_000_000_000
let hour: Int64 = 3_600_000

func makeRequest(
    serialNo: String = "s-1", userId: String = "u-42", token: String = "tok-1", createdAt: Int64 = t0,
    expiresAt: Int64 = t0 + hour
) -> PendingRequest {
    PendingRequest(
        serialNo: serialNo, userId: userId, token: token, callbackUrl: "https://m.example/cb/\(token)",
        createdAt: createdAt, expiresAt: expiresAt)
}

func makeBinding(
    serialNo: String = "s-1", userId: String = "u-42", openId: String = "open-1", boundAt: Int64 = t0 + 1000
) -> Binding {
    Binding(
        serialNo: serialNo, userId: userId, openId: openId, merchantId: "eb1b", businessId: "754e0c5d",
        boundAt: boundAt)
}

extension Registry {
    /// A registry holding `requests` in the pending state, as after a successful platform call.
    static func withPending(_ requests: PendingRequest..., maxOpen: Int = 10) throws -> Registry {
        var registry = Registry()
        for request in requests {
            try registry.reserve(request, maxOpen: maxOpen)
            registry.confirm(serialNo: request.serialNo)
        }
        return registry
    }

    /// A callback with the right token unless `token` says otherwise.
    mutating func callback(
        serialNo: String = "s-1", openId: String = "open-1", userId: String? = nil, now: Int64 = t0 + 1000,
        token: String = "tok-1"
    ) -> BindDecision {
        beginBinding(serialNo: serialNo, openId: openId, userId: userId, now: now) { $0 == token }
    }
}
