import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `GET /metrics` on the IPC socket: scraped with curl, parsed by Python's `prometheus_client` (the
/// reference parser, not ours), and moving by exactly one for each event it counts.
@Suite struct MetricsTests {
    /// One scrape: the HTTP status, the Content-Type, and every sample keyed `name{label=value,…}` with
    /// labels sorted, as `prometheus_client.parser` read them; also each family's type.
    struct Scrape {
        let status: Int
        let contentType: String
        let samples: [String: Double]
        let types: [String: String]

        subscript(_ key: String) -> Double? { samples[key] }
    }

    static let parser = """
        import json, sys
        from prometheus_client.parser import text_string_to_metric_families
        samples, types = {}, {}
        for family in text_string_to_metric_families(open(sys.argv[1], encoding="utf-8").read()):
            types[family.name] = family.type
            for s in family.samples:
                key = s.name + "{" + ",".join(f"{k}={v}" for k, v in sorted(s.labels.items())) + "}"
                if key in samples: sys.exit("duplicate sample " + key)
                samples[key] = s.value
        print(json.dumps({"samples": samples, "types": types}))
        """

    static func scrape(_ daemon: DaemonUnderTest, method: String = "GET") throws -> Scrape {
        let output = daemon.directory.path + "/metrics-\(UUID().uuidString).txt"
        let curl = try run(
            "/usr/bin/curl",
            [
                "-q", "-s", "-X", method, "-o", output, "-w", "%{http_code} %{content_type}", "--unix-socket",
                daemon.socketPath, "http://localhost/metrics",
            ])
        try #require(curl.status == 0, "curl: \(curl.stderr)")
        let (code, contentType) = curl.stdout.split(separator: " ", maxSplits: 1).map(String.init).pair
        guard code == "200" else {
            return Scrape(status: Int(code) ?? 0, contentType: contentType, samples: [:], types: [:])
        }
        let parsed = try run("/usr/bin/env", ["python3", "-c", parser, output])
        try #require(parsed.status == 0, "prometheus_client could not parse the scrape: \(parsed.stderr)")
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(parsed.stdout.utf8)) as? [String: Any])
        return Scrape(
            status: 200, contentType: contentType,
            samples: (json["samples"] as? [String: Double]) ?? [:],
            types: (json["types"] as? [String: String]) ?? [:])
    }

    @Test func eachEventMovesItsSeriesByExactlyOne() throws {
        let directory = TemporaryDirectory()
        let platform = try FakePlatform(in: directory)
        let daemon = DaemonUnderTest(platformUrl: platform.baseUrl, directory: directory)
        try daemon.start()

        let before = try Self.scrape(daemon)
        #expect(before.status == 200)
        #expect(before.contentType == "text/plain; version=0.0.4; charset=utf-8")
        #expect(before.types["openidd_callbacks"] == "counter")
        #expect(before.types["openidd_platform_request_duration_seconds"] == "histogram")
        #expect(before.types["openidd_ledger_fsync_duration_seconds"] == "histogram")
        #expect(before.types["openidd_ledger_batch_lines"] == "histogram")
        #expect(before.types["openidd_open_connections"] == "gauge")
        #expect(before["openidd_build_info{version=0.2.0}"] == 1)
        let startTime = try #require(before["openidd_start_time_seconds{}"])
        #expect(abs(startTime - Date().timeIntervalSince1970) < 60)
        // The scrape's own connection is open while it is answered.
        #expect((before["openidd_open_connections{listener=ipc}"] ?? 0) >= 1)
        #expect(before["openidd_open_connections{listener=callback}"] != nil)
        #expect(before["openidd_pending_requests{}"] == 0)
        #expect(before["openidd_bindings{}"] == 0)

        // One auth link issued: pending goes to 1 and the journal wrote one line.
        let issued = try daemon.issue(userId: "u-42")
        let afterIssue = try Self.scrape(daemon)
        #expect(afterIssue["openidd_pending_requests{}"] == 1)
        // One refused before the platform is asked: the serialNo is taken.
        let reused = try daemon.ipc(
            "POST", "/v1/auth-url", body: #"{"userId":"u-42","serialNo":"\#(issued.serialNo)"}"#)
        #expect(reused.errorCode == "serial_no_in_use")

        // One bound, one repeat, one 401, one 404, and one 413 from the server's own parser.
        let body = callbackBody(serialNo: issued.serialNo, openId: "oid-1")
        #expect(try daemon.callback(token: issued.token, body: body).text == "SUCCESS")
        #expect(try daemon.callback(token: issued.token, body: body).text == "SUCCESS")
        let unsigned = try daemon.callback(token: issued.token, body: body) { headers in
            headers.removeAll { $0.name == "sign" }
        }
        #expect(unsigned.status == 401)
        let unknown = try daemon.callback(
            token: issued.token, body: callbackBody(serialNo: "no-such-serial", openId: "oid-1"))
        #expect(unknown.status == 404)
        let huge = try run(
            "/usr/bin/curl",
            [
                "-q", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--data-binary",
                "@" + directory.write("huge", String(repeating: "x", count: 70_000)),
                "http://127.0.0.1:\(daemon.callbackPort)/openidd/callback/\(issued.token)",
            ])
        #expect(huge.stdout == "413")

        // One platform failure: the platform is gone, so it cannot be reached.
        kill(platform.process.processIdentifier, SIGKILL)
        platform.process.waitUntilExit()
        let refused = try daemon.ipc("POST", "/v1/auth-url", body: #"{"userId":"u-43"}"#)
        #expect(refused.errorCode == "platform_unreachable")

        let after = try Self.scrape(daemon)
        func moved(_ key: String) -> Double? {
            guard let old = before[key], let new = after[key] else { return nil }
            return new - old
        }
        #expect(moved("openidd_auth_links_total{outcome=issued}") == 1)
        let reasons = [
            "serial_no_in_use", "too_many_pending", "platform_rejected", "platform_timeout",
            "platform_unreachable", "storage", "shutting_down",
        ]
        for reason in reasons {
            #expect(
                moved("openidd_auth_link_failures_total{reason=\(reason)}")
                    == (["platform_unreachable", "serial_no_in_use"].contains(reason) ? 1 : 0),
                "\(reason)")
        }
        #expect(moved("openidd_platform_request_duration_seconds_count{}") == 2)
        #expect((moved("openidd_platform_request_duration_seconds_sum{}") ?? 0) > 0)

        let outcomes = [
            "bound", "repeat", "400", "401", "403", "404", "405", "408", "409", "410", "413", "503", "other",
        ]
        let expected: Set = ["bound", "repeat", "401", "404", "413"]
        for outcome in outcomes {
            #expect(
                moved("openidd_callbacks_total{outcome=\(outcome)}") == (expected.contains(outcome) ? 1 : 0),
                "\(outcome)")
        }

        // The ledger synced the one binding; the journal its pending line and the failed one.
        #expect((moved("openidd_ledger_fsync_duration_seconds_count{file=ledger}") ?? 0) >= 1)
        #expect((moved("openidd_ledger_fsync_duration_seconds_count{file=journal}") ?? 0) >= 1)
        #expect(moved("openidd_ledger_batch_lines_sum{file=ledger}") == 1)
        #expect(moved("openidd_ledger_batch_lines_sum{file=journal}") == 2)
        #expect(after["openidd_ledger_batch_lines_bucket{file=ledger,le=+Inf}"] != nil)
        #expect(after["openidd_pending_requests{}"] == 0)
        #expect(after["openidd_bindings{}"] == 1)
    }

    @Test(arguments: [("reject", "platform_rejected"), ("timeout", "platform_timeout")])
    func platformFailuresCountUnderTheirReason(mode: String, reason: String) throws {
        let directory = TemporaryDirectory()
        let platform = try FakePlatform(in: directory, mode: mode)
        let daemon = DaemonUnderTest(platformUrl: platform.baseUrl, timeoutSeconds: 1, directory: directory)
        try daemon.start()
        let answer = try daemon.ipc("POST", "/v1/auth-url", body: #"{"userId":"u-1"}"#)
        #expect(answer.status == 502 || answer.status == 504)
        let scrape = try Self.scrape(daemon)
        #expect(scrape["openidd_auth_link_failures_total{reason=\(reason)}"] == 1)
        #expect(scrape["openidd_auth_links_total{outcome=issued}"] == 0)
        #expect(scrape["openidd_platform_request_duration_seconds_count{}"] == 1)
        if mode == "timeout" {
            // The whole second waited is in the histogram: not in the buckets below 1 s.
            #expect(scrape["openidd_platform_request_duration_seconds_bucket{le=0.5}"] == 0)
        }
        withExtendedLifetime(platform) {}
    }

    @Test func onlyGetIsAllowed() throws {
        let daemon = DaemonUnderTest(platformUrl: "http://127.0.0.1:9")
        try daemon.start()
        let answer = try daemon.ipc("POST", "/metrics", body: "{}")
        #expect(answer.status == 405)
        #expect(answer.errorCode == "method_not_allowed")
    }

    @Test(.enabled(if: getuid() == 0, "runs curl as another user with setpriv, which needs root"))
    func theIPCAccessListsApplyToMetrics() throws {
        let daemon = try IPCAccessTests.daemon(#""allowedUsers": ["root"]"#)
        #expect(try Self.scrape(daemon).status == 200)
        let refused = try IPCAccessTests.curl(daemon, uid: 65534, gid: 65534, path: "/metrics")
        #expect(refused.status == 403)
        #expect(IPCAccessTests.errorCode(refused.body) == "forbidden", "\(refused.body)")
        #expect(!refused.body.contains("openidd_"))
    }
}

extension Array where Element == String {
    fileprivate var pair: (String, String) { (first ?? "", count > 1 ? self[1] : "") }
}
