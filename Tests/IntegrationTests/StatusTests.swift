import Crypto
import Foundation
import Platform
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Milliseconds since the epoch of an RFC 3339 stamp as the daemon writes them ("…T17:07:13.977Z").
private func milliseconds(_ stamp: Any?) -> Int64? {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    guard let text = stamp as? String, let date = formatter.date(from: text) else { return nil }
    return Int64((date.timeIntervalSince1970 * 1000).rounded())
}

private func fileSize(_ path: String) -> Int? {
    (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int
}

/// The rows of `openidctl status`'s table, by label; every value must start in the same column.
private func tableRows(_ output: String, sourceLocation: SourceLocation = #_sourceLocation) -> [String:
    String]
{
    var rows: [String: String] = [:]
    var valueColumns: Set<Int> = []
    for line in output.split(separator: "\n") {
        let label = String(line.prefix { $0 != " " })
        let value = String(line.dropFirst(label.count).drop { $0 == " " })
        valueColumns.insert(line.count - value.count)
        rows[label] = value
    }
    #expect(valueColumns.count == 1, "misaligned:\n\(output)", sourceLocation: sourceLocation)
    return rows
}

/// `openidctl status` / `GET /v1/health` (docs/openidctl.md), and the audit trail's rate limit
/// against a real daemon.
@Suite struct StatusTests {
    /// Every field `status` adds to SPEC's health answer, against a daemon whose platform is unreachable
    /// (so a platform error with its time) and whose ledger holds three bindings from before.
    @Test func statusReportsEveryFieldInTheTableAndAsJSON() throws {
        let directory = TemporaryDirectory()
        try FileManager.default.createDirectory(
            atPath: directory.path + "/state", withIntermediateDirectories: true)
        // Port 9 (discard) on loopback: nothing listens, so the platform call fails at once.
        let daemon = DaemonUnderTest(platformUrl: "http://127.0.0.1:9", directory: directory)
        try writeNumberedLedger(count: 3, to: daemon.ledgerPath)
        try daemon.start()
        let before = Int64(Date().timeIntervalSince1970 * 1000)
        let refused = try daemon.ipc("POST", "/v1/auth-url", body: #"{"userId":"alice"}"#)
        #expect(refused.status == 502)
        let after = Int64(Date().timeIntervalSince1970 * 1000)
        // Uptime counts whole seconds from start-up.
        usleep(1_100_000)

        let socket = ["--socket", daemon.socketPath]
        let json = try run(Binaries.openidctl, socket + ["--json", "status"])
        #expect(json.status == 0, "\(json.stderr)")
        let health = try #require(
            try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        // SPEC's fields are all still there.
        for key in [
            "status", "version", "startedAt", "pending", "bindings", "storage", "storageDirectory",
            "callbackListen", "signType", "ledgerSyncs", "journalSyncs", "lastPlatformError",
        ] {
            #expect(health[key] != nil, "\(key) missing")
        }
        #expect(health["bindings"] as? Int == 3)
        let uptime = try #require(health["uptimeSeconds"] as? Int)
        #expect((1...60).contains(uptime))
        #expect(health["configPath"] as? String == daemon.configPath)
        #expect(health["sandbox"] as? Bool == false)
        #expect(health["ipcSocket"] as? String == daemon.socketPath)
        #expect(health["ipcActivated"] as? Bool == false)
        #expect(health["callbackActivated"] as? Bool == false)
        let ledgerBytes = try #require(fileSize(daemon.ledgerPath))
        #expect(ledgerBytes > 0)
        #expect(health["ledgerBytes"] as? Int == ledgerBytes)
        // The failed link's journal line.
        let journalBytes = try #require(fileSize(daemon.journalPath))
        #expect(journalBytes > 0)
        #expect(health["journalBytes"] as? Int == journalBytes)
        #expect(health["storageSyncStuck"] as? Bool == false)
        #expect(health["lastStorageError"] == nil)
        #expect(health["lastStorageErrorAt"] == nil)
        let platformError = try #require(health["lastPlatformError"] as? String)
        let platformErrorAt = try #require(milliseconds(health["lastPlatformErrorAt"]))
        #expect((before...after).contains(platformErrorAt))

        let table = try run(Binaries.openidctl, socket + ["status"])
        #expect(table.status == 0, "\(table.stderr)")
        let rows = tableRows(table.stdout)
        #expect(rows["status"] == "ok")
        #expect(rows["bindings"] == "3")
        #expect(rows["uptime"] == "\(uptime)s" || rows["uptime"] == "\(uptime + 1)s")
        #expect(rows["configPath"] == daemon.configPath)
        #expect(rows["ledgerSize"] == ledgerBytes.formattedAsSize)
        #expect(rows["journalSize"] == journalBytes.formattedAsSize)
        #expect(rows["storageSyncStuck"] == "no")
        #expect(rows["callbackListen"] == "127.0.0.1:\(daemon.callbackPort)")
        #expect(rows["callbackActivated"] == "no")
        #expect(rows["ipcSocket"] == daemon.socketPath)
        #expect(rows["ipcActivated"] == "no")
        #expect(rows["lastPlatformError"] == "\(platformError) (at \(health["lastPlatformErrorAt"]!))")
        #expect(rows["lastStorageError"] == nil)
        #expect(rows["socket"] == daemon.socketPath)
    }

    /// A flood of badly signed callbacks: every one refused with 401, but the log gets only the burst and
    /// what refilled meanwhile, and the next line through says how many were dropped.
    @Test func aFloodOfBadSignaturesIsRefusedButLoggedAtTheLimitersRate() throws {
        let directory = TemporaryDirectory()
        let platform = try FakePlatform(in: directory)
        let daemon = DaemonUnderTest(platformUrl: platform.baseUrl, directory: directory)
        try daemon.start()
        let issued = try daemon.issue(userId: "u-flood")
        let body = callbackBody(serialNo: issued.serialNo, openId: "oid-flood")
        let started = Date()
        var statuses: [Int: Int] = [:]
        var signatures: Set<String> = []
        for _ in 0..<500 {
            // Signed with the merchant's key, not the platform's.
            let answer = try daemon.callback(
                token: issued.token, body: body, signWith: SigningKeys(merchantPrivateKey: TestKeys.merchant)
            ) { headers in signatures.formUnion(headers.filter { $0.name == "sign" }.map(\.value)) }
            statuses[answer.status, default: 0] += 1
        }
        let floodSeconds = Date().timeIntervalSince(started)
        #expect(statuses == [401: 500])
        // One token refills per second: the first line after the flood carries the dropped count.
        usleep(1_100_000)
        let last = try daemon.callback(
            token: issued.token, body: body, signWith: SigningKeys(merchantPrivateKey: TestKeys.merchant))
        #expect(last.status == 401)

        let lines = daemon.log.split(separator: "\n").filter {
            $0.contains("security: callback signature invalid")
        }
        // The default burst of 20, one per second of flood, and the one after it.
        #expect(lines.count >= 21)
        #expect(Double(lines.count) <= 20 + floodSeconds.rounded(.up) + 1, "\(lines.count) lines")
        let suppressed = lines.compactMap { line -> Int? in
            guard let field = line.split(separator: " ").first(where: { $0.hasPrefix("suppressed=") }) else {
                return nil
            }
            return Int(field.dropFirst("suppressed=".count))
        }
        #expect(lines.last?.contains("suppressed=") == true, "\(lines.last ?? "")")
        // Every event is either a line or counted in one.
        #expect(lines.count + suppressed.reduce(0, +) == 501)
        // Each line has the context to investigate it, and never the signature.
        for line in lines {
            #expect(line.contains(" request=callback-"))
            #expect(line.contains(" client=127.0.0.1"))
            #expect(line.contains(" audit=signature_invalid"))
        }
        let log = daemon.log
        #expect(signatures.count == 500)
        #expect(signatures.filter { log.contains($0) }.isEmpty)
        #expect(daemon.ledgerLines().isEmpty)
    }

    /// `status` reads counters only: on a ledger of a million bindings it answers at once.
    @Test func statusAnswersAtOnceOnAMillionBindings() throws {
        let directory = TemporaryDirectory()
        try FileManager.default.createDirectory(
            atPath: directory.path + "/state", withIntermediateDirectories: true)
        let daemon = DaemonUnderTest(platformUrl: "http://127.0.0.1:9", directory: directory)
        let lineLength = try writeNumberedLedger(count: 1_000_000, to: daemon.ledgerPath)
        // Replaying 190 MB in a debug build (or under a sanitizer) takes a while.
        try daemon.start(readyWithinSeconds: 300)

        let status = try run(Binaries.openidctl, ["--socket", daemon.socketPath, "status"])
        #expect(status.status == 0, "\(status.stderr)")
        #expect(tableRows(status.stdout)["bindings"] == "1000000")
        let json = try run(Binaries.openidctl, ["--socket", daemon.socketPath, "--json", "status"])
        let health = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(health?["bindings"] as? Int == 1_000_000)
        #expect(health?["ledgerBytes"] as? Int == 1_000_000 * lineLength)
        // A walk over a million bindings would take far longer than this, even in a debug build.
        var fastest = Double.infinity
        for _ in 0..<5 {
            let started = Date()
            #expect(try daemon.ipc("GET", "/v1/health").status == 200)
            fastest = min(fastest, Date().timeIntervalSince(started))
        }
        #expect(fastest < 0.1, "health took \(fastest) s")
    }
}

extension Int {
    /// What `openidctl status` prints for a size (docs/openidctl.md), written out apart from
    /// its code.
    fileprivate var formattedAsSize: String {
        if self < 1024 { return "\(self) B" }
        if self < 1024 * 1024 { return String(format: "%.1f KiB", Double(self) / 1024) }
        return String(format: "%.1f MiB", Double(self) / 1024 / 1024)
    }
}
