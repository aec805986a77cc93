import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// SIGKILL while callbacks are in flight: every callback that got SUCCESS is in the ledger exactly once
/// after a restart, and every request still pending binds.
@Suite struct CrashTests {
    @Test func sigkillUnderLoadLosesNothingAcknowledged() throws {
        let directory = TemporaryDirectory()
        let platform = try FakePlatform(in: directory)
        let daemon = DaemonUnderTest(platformUrl: platform.baseUrl, directory: directory)
        try daemon.start()
        let issued = try (0..<90).map { try daemon.issue(userId: "user-\($0)") }
        let acknowledged = ResultBox(count: issued.count)

        for round in 0..<3 {
            // Eight clients send the next slice of callbacks; the daemon dies partway through.
            let slice = Array(issued[(round * 30)..<((round + 1) * 30)])
            let group = DispatchGroup()
            for client in 0..<8 {
                DispatchQueue.global().async(group: group) {
                    for (offset, request) in slice.enumerated() where offset % 8 == client {
                        let answer = try? daemon.callback(
                            token: request.token,
                            body: callbackBody(serialNo: request.serialNo, openId: "oid-\(request.serialNo)"))
                        if answer?.text == "SUCCESS" {
                            acknowledged.set(round * 30 + offset, request.serialNo)
                        }
                    }
                }
            }
            usleep(UInt32(15_000 + round * 10_000))
            daemon.stop(signal: SIGKILL)
            group.wait()
            try daemon.start()

            let serials = daemon.ledgerLines().map { line -> String in
                let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                return object?["serialNo"] as? String ?? "unparsable: \(line)"
            }
            #expect(Set(serials).count == serials.count, "a ledger line was duplicated")
            for serial in acknowledged.values where !serial.isEmpty {
                #expect(serials.contains(serial), "acknowledged \(serial) lost")
            }
        }

        // Everything not acknowledged is still pending and binds now; everything bound repeats idempotently.
        for request in issued {
            let answer = try daemon.callback(
                token: request.token,
                body: callbackBody(serialNo: request.serialNo, openId: "oid-\(request.serialNo)"))
            #expect(answer.text == "SUCCESS", "\(request.serialNo): \(answer.status) \(answer.text)")
        }
        let lines = daemon.ledgerLines()
        #expect(lines.count == issued.count)
        #expect(Set(lines).count == issued.count)
    }
}
