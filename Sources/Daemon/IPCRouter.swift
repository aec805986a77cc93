import Correlation
import Foundation
import HTTP1
import JSON
import Metrics
import POSIX
import Platform

/// What the daemon knows about itself from start-up, for `GET /v1/health`.
public struct StartupFacts: Sendable {
    public var version: String
    /// Unix ms, for `startedAt`.
    public var startedAt: Int64
    /// CLOCK_MONOTONIC ns, for an uptime that a wall-clock step cannot change.
    public var startedAtMonotonic: UInt64
    public var configPath: String
    /// `openidd --sandbox`: the configuration is the sandbox's own.
    public var sandbox: Bool
    public var ipcSocket: String
    /// Whether systemd passed the IPC socket (socket activation) rather than the daemon making it.
    public var ipcActivated: Bool
    /// Where the callback listener is bound, for `status` and for tests that bound port 0.
    public var callbackListen: String
    public var callbackActivated: Bool
}

/// The IPC API (SPEC "The IPC API"): pure routing from a request to a response. It never sees a socket.
public struct IPCRouter: Sendable {
    let service: BindingService
    let facts: StartupFacts
    let metrics: MetricsRegistry

    public init(service: BindingService, facts: StartupFacts, metrics: MetricsRegistry) {
        self.service = service
        self.facts = facts
        self.metrics = metrics
    }

    /// Whether answering `request` may wait (a platform call, a long-poll): such requests must not run
    /// on an event loop. Lookups, health and metrics answer from memory.
    public func mayBlock(_ request: HTTPRequest) -> Bool {
        request.path == "/v1/auth-url" || request.path.hasPrefix("/v1/requests/")
    }

    public func handle(_ request: HTTPRequest, requestId: String = "") -> HTTPResponse {
        let path = request.path
        switch path {
        case "/v1/auth-url":
            guard request.method == "POST" else { return IPCError.methodNotAllowed(allow: "POST").response }
            return issueAuthURL(request, requestId: requestId)
        case "/v1/bindings":
            guard request.method == "GET" else { return IPCError.methodNotAllowed(allow: "GET").response }
            return findBindings(request)
        case "/v1/health":
            guard request.method == "GET" else { return IPCError.methodNotAllowed(allow: "GET").response }
            return health()
        case "/metrics":
            guard request.method == "GET" else { return IPCError.methodNotAllowed(allow: "GET").response }
            var headers = HTTPHeaders()
            headers.add("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            return HTTPResponse(status: 200, headers: headers, body: Array(metrics.render().utf8))
        default:
            if path.hasPrefix("/v1/requests/") {
                guard request.method == "GET" else { return IPCError.methodNotAllowed(allow: "GET").response }
                return requestStatus(request, serialNo: String(path.dropFirst("/v1/requests/".count)))
            }
            return IPCError(
                status: 404, code: "not_found",
                message: "No such endpoint \(path); see docs/ipc-api.md for the IPC API."
            )
            .response
        }
    }

    // MARK: - Endpoints

    private func issueAuthURL(_ request: HTTPRequest, requestId: String) -> HTTPResponse {
        let parsed: JSONValue
        do {
            parsed = try JSONParser.parse(request.body)
        } catch {
            if case .duplicateKey(let key) = error.reason {
                let place = error.dottedPath == key ? "" : " (at \(error.dottedPath))"
                return IPCError.invalid(
                    "invalid_json", "The body repeats the key \"\(key)\"\(place); send each key once."
                ).response
            }
            return IPCError.invalid(
                "invalid_json",
                "The body must be a JSON object such as {\"userId\": \"u-42\"}; found \(error.problem) at byte \(error.offset)."
            ).response
        }
        guard case .object(let fields) = parsed else {
            return IPCError.invalid(
                "invalid_json", "The body must be a JSON object such as {\"userId\": \"u-42\"}."
            ).response
        }
        for (key, _) in fields where key != "userId" && key != "serialNo" {
            return IPCError.invalid(
                "unknown_field", "Unknown field \"\(key)\"; send userId and, optionally, serialNo."
            ).response
        }
        guard case .string(let userId) = parsed["userId"], Validation.isValidUserId(userId) else {
            return IPCError.invalid(
                "invalid_user_id",
                "userId must be a string of 1 to 128 characters, at most 512 bytes in UTF-8, without control characters."
            ).response
        }
        var serialNo: String?
        if let raw = parsed["serialNo"] {
            guard case .string(let text) = raw, Validation.isValidSerialNo(text) else {
                return IPCError.invalid(
                    "invalid_serial_no",
                    "serialNo must be 1 to 64 characters of A-Z, a-z, 0-9, '_' and '-'; or leave it out."
                ).response
            }
            serialNo = text
        }
        switch service.issueAuthLink(userId: userId, serialNo: serialNo, requestId: requestId) {
        case .success(let issued):
            return json(
                200,
                .object([
                    ("serialNo", .string(issued.request.serialNo)),
                    ("userId", .string(issued.request.userId)),
                    ("alipayAuthUrl", .string(issued.alipayAuthUrl)),
                    ("callbackUrl", .string(issued.request.callbackUrl)),
                    ("expiresAt", .string(Timestamp.rfc3339(milliseconds: issued.request.expiresAt))),
                ]))
        case .failure(let error):
            return IPCError(error).response
        }
    }

    private func findBindings(_ request: HTTPRequest) -> HTTPResponse {
        let userId = request.queryValue("userId")
        let openId = request.queryValue("openId")
        switch (userId, openId) {
        case (let userId?, nil):
            guard let binding = service.latestBinding(userId: userId) else {
                return IPCError(
                    status: 404, code: "not_found", message: "No binding for userId \(userId) yet."
                ).response
            }
            return json(200, bindingJSON(binding))
        case (nil, let openId?):
            return json(
                200, .object([("bindings", .array(service.bindings(openId: openId).map(bindingJSON)))]))
        default:
            return IPCError.invalid("invalid_query", "Give exactly one of ?userId=… or ?openId=….").response
        }
    }

    private func requestStatus(_ request: HTTPRequest, serialNo: String) -> HTTPResponse {
        guard Validation.isValidSerialNo(serialNo) else {
            return IPCError.invalid(
                "invalid_serial_no", "serialNo must be 1 to 64 characters of A-Z, a-z, 0-9, '_' and '-'."
            ).response
        }
        var wait = 0.0
        if let text = request.queryValue("wait") {
            guard let seconds = Self.waitSeconds(text) else {
                return IPCError.invalid(
                    "invalid_wait", "wait must be decimal seconds from 0 to 60, such as 30 or 2.5."
                ).response
            }
            wait = seconds
        }
        guard let status = service.status(serialNo: serialNo, waitSeconds: wait) else {
            return IPCError(status: 404, code: "not_found", message: "No request with serialNo \(serialNo).")
                .response
        }
        var fields: [(String, JSONValue)] = [
            ("serialNo", .string(status.serialNo)),
            ("userId", .string(status.userId)),
            ("state", .string(status.state.rawValue)),
        ]
        if let openId = status.openId { fields.append(("openId", .string(openId))) }
        fields.append(("createdAt", .string(Timestamp.rfc3339(milliseconds: status.createdAt))))
        fields.append(("expiresAt", .string(Timestamp.rfc3339(milliseconds: status.expiresAt))))
        if let boundAt = status.boundAt {
            fields.append(("boundAt", .string(Timestamp.rfc3339(milliseconds: boundAt))))
        }
        return json(200, .object(fields))
    }

    /// Counters only, each O(1): it must stay instant on a ledger of millions of bindings.
    private func health() -> HTTPResponse {
        let counts = service.counts
        let store = service.store
        let storageFailure = store.failure
        var fields: [(String, JSONValue)] = [
            ("status", .string(storageFailure == nil ? "ok" : "storage_failing")),
            ("version", .string(facts.version)),
            ("startedAt", .string(Timestamp.rfc3339(milliseconds: facts.startedAt))),
            ("pending", .integer(Int64(counts.pending))),
            ("bindings", .integer(Int64(counts.bindings))),
            ("storage", .string(storageFailure.map { "failing: \($0)" } ?? "ok")),
            ("storageDirectory", .string(service.store.directory)),
            ("callbackListen", .string(facts.callbackListen)),
            ("signType", .string(service.settings.account.signType.rawValue)),
            // fsyncs so far: with group commit, fewer than the lines written under concurrency.
            ("ledgerSyncs", .integer(Int64(store.ledger.syncCount))),
            ("journalSyncs", .integer(Int64(store.journal.syncCount))),
            (
                "uptimeSeconds",
                .integer(Int64((MonotonicClock.nowNanos() - facts.startedAtMonotonic) / 1_000_000_000))
            ),
            ("configPath", .string(facts.configPath)),
            ("sandbox", .bool(facts.sandbox)),
            ("ipcSocket", .string(facts.ipcSocket)),
            ("ipcActivated", .bool(facts.ipcActivated)),
            ("callbackActivated", .bool(facts.callbackActivated)),
            // Durable lengths, as the files will read after a crash.
            ("ledgerBytes", .integer(Int64(store.ledger.length))),
            ("journalBytes", .integer(Int64(store.journal.length))),
            ("storageSyncStuck", .bool(store.isSyncStuck())),
        ]
        if let last = store.lastStorageError {
            fields.append(("lastStorageError", .string("\(last.error)")))
            fields.append(("lastStorageErrorAt", .string(Timestamp.rfc3339(milliseconds: last.at))))
        }
        if let error = counts.lastPlatformError { fields.append(("lastPlatformError", .string(error))) }
        if let at = counts.lastPlatformErrorAt {
            fields.append(("lastPlatformErrorAt", .string(Timestamp.rfc3339(milliseconds: at))))
        }
        return json(storageFailure == nil ? 200 : 503, .object(fields))
    }

    /// `?wait=`: decimal digits with an optional fraction, 0 to 60. `Double(_:)` alone would also take
    /// `0x10` (16 s), `1e1`, `+5`, `inf` and `nan`.
    static func waitSeconds(_ text: String) -> Double? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }),
            let seconds = Double(text), seconds <= 60
        else { return nil }
        return seconds
    }

    private func bindingJSON(_ binding: Binding) -> JSONValue {
        .object([
            ("userId", .string(binding.userId)),
            ("openId", .string(binding.openId)),
            ("serialNo", .string(binding.serialNo)),
            ("boundAt", .string(Timestamp.rfc3339(milliseconds: binding.boundAt))),
        ])
    }
}

func json(_ status: Int, _ value: JSONValue) -> HTTPResponse {
    var headers = HTTPHeaders()
    headers.add("Content-Type", "application/json")
    return HTTPResponse(status: status, headers: headers, body: value.encoded())
}

/// `{"error": {"code": "snake_case", "message": "…"}}` with the status SPEC gives each case.
struct IPCError: Error {
    let status: Int
    let code: String
    let message: String
    var extra: [(String, JSONValue)] = []
    var allow: String?

    init(status: Int, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    static func invalid(_ code: String, _ message: String) -> IPCError {
        IPCError(status: 400, code: code, message: message)
    }

    static func methodNotAllowed(allow: String) -> IPCError {
        var error = IPCError(
            status: 405, code: "method_not_allowed", message: "Use \(allow) for this endpoint.")
        error.allow = allow
        return error
    }

    init(_ error: BindingService.IssueError) {
        switch error {
        case .serialNoInUse:
            self.init(
                status: 409, code: "serial_no_in_use",
                message: "This serialNo was already used; send a new one or leave it out.")
        case .tooManyPending:
            self.init(
                status: 429, code: "too_many_pending",
                message:
                    "Too many requests are waiting for their callback (requests.maxPending); retry later.")
        case .shuttingDown:
            self.init(
                status: 503, code: "shutting_down", message: "openidd is shutting down; retry in a moment.")
        case .storage(let reason):
            self.init(
                status: 503, code: "storage_failed",
                message:
                    "The request could not be stored durably (\(reason)); no link was issued. Check the disk and retry."
            )
        case .platform(let platformError):
            switch platformError {
            case .timeout(let seconds):
                self.init(
                    status: 504, code: "platform_timeout",
                    message:
                        "The platform did not answer within \(seconds) s (platform.timeoutSeconds); retry later."
                )
            case .refused(let platformStatus, let platformMessage, let httpStatus):
                self.init(
                    status: 502, code: "platform_error",
                    message:
                        "The platform refused the request (HTTP \(httpStatus)): \(platformMessage ?? "no message")."
                )
                extra = [
                    ("platformStatus", platformStatus.map { .integer(Int64($0)) } ?? .null),
                    ("platformMessage", platformMessage.map { .string($0) } ?? .null),
                ]
            case .unreachable(let reason):
                self.init(
                    status: 502, code: "platform_unreachable",
                    message: "The platform could not be reached: \(reason).")
            case .signing(let reason):
                self.init(
                    status: 502, code: "signing_failed",
                    message: "The request could not be signed: \(reason). Check the key configuration.")
            }
        }
    }

    var response: HTTPResponse {
        var body: [(String, JSONValue)] = [("code", .string(code)), ("message", .string(message))]
        body += extra
        var response = json(status, .object([("error", .object(body))]))
        if let allow { response.headers.add("Allow", allow) }
        return response
    }
}

/// The server's own refusals on the IPC socket, as JSON errors.
public func renderIPCError(status: Int, reason: String) -> HTTPResponse {
    let code: String
    switch status {
    case 413: code = "body_too_large"
    case 408: code = "request_timeout"
    case 503: code = "unavailable"
    default: code = "bad_request"
    }
    return IPCError(
        status: status, code: code, message: reason.prefix(1).uppercased() + reason.dropFirst() + "."
    ).response
}
