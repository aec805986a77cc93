import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A real full disk: the state directory on a tiny tmpfs, filled up while the daemon runs.
@Suite(.serialized) struct DiskFaultTests {
    @Test func fullDiskGives503sAndServiceResumesWhenSpaceReturns() throws {
        let directory = TemporaryDirectory()
        let state = directory.path + "/state"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        let mount = try run("/bin/mount", ["-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", state])
        try #require(mount.status == 0, "mounting a tmpfs needs root: \(mount.stderr)")
        defer { _ = try? run("/bin/umount", ["-l", state]) }

        let platform = try FakePlatform(in: directory)
        let daemon = DaemonUnderTest(platformUrl: platform.baseUrl, directory: directory)
        try daemon.start()
        defer { daemon.stop(signal: SIGKILL) }
        let issued = try (0..<40).map { try daemon.issue(userId: "user-\($0)") }

        // Fill the file system.
        let filler = FileManager.default.createFile(atPath: state + "/filler", contents: nil)
        try #require(filler)
        let handle = try #require(FileHandle(forWritingAtPath: state + "/filler"))
        let block = [UInt8](repeating: 0x55, count: 4096)
        while (try? handle.write(contentsOf: block)) != nil {}
        try? handle.close()

        // Callbacks succeed while the ledger's last page has room, then fail with 503 and are not lost.
        var acknowledged: [String] = []
        var refused: (serialNo: String, token: String)?
        for request in issued {
            let answer = try daemon.callback(
                token: request.token,
                body: callbackBody(serialNo: request.serialNo, openId: "oid-\(request.serialNo)"))
            if answer.status == 200 {
                #expect(answer.text == "SUCCESS")
                acknowledged.append(request.serialNo)
                continue
            }
            #expect(answer.status == 503)
            #expect(answer.text == "FAIL storage")
            refused = (request.serialNo, request.token)
            break
        }
        let failed = try #require(refused, "the disk never filled")
        #expect(daemon.log.contains("No space left on device"))

        let health = try daemon.ipc("GET", "/v1/health")
        #expect(health.status == 503)
        #expect(health.json["status"] as? String == "storage_failing")
        // openidctl status says so, with the error and when, and exits 1.
        let failingStatus = try run(Binaries.openidctl, ["--socket", daemon.socketPath, "status"])
        #expect(failingStatus.status == 1)
        #expect(failingStatus.stdout.contains("status            storage_failing\n"))
        let storageErrorRow = failingStatus.stdout.split(separator: "\n").first {
            $0.hasPrefix("lastStorageError  ")
        }
        #expect(
            storageErrorRow?.contains("No space left on device (at 20") == true, "\(failingStatus.stdout)")
        #expect(health.json["lastStorageErrorAt"] is String)
        // The refused request is still pending (nothing half-done in memory) and reads as such.
        #expect(
            try daemon.ipc("GET", "/v1/requests/\(failed.serialNo)").json["state"] as? String == "pending")
        #expect(try daemon.ipc("GET", "/v1/bindings?userId=\(failed.serialNo)").status == 404)
        // Auth links cannot be journaled either.
        var linkRefused = false
        for index in 0..<40 {
            let answer = try daemon.ipc("POST", "/v1/auth-url", body: #"{"userId":"late-\#(index)"}"#)
            if answer.status == 503 {
                #expect(answer.errorCode == "storage_failed")
                linkRefused = true
                break
            }
        }
        #expect(linkRefused)

        // Space returns: the platform's retry binds, and health recovers by itself.
        try FileManager.default.removeItem(atPath: state + "/filler")
        let retry = try daemon.callback(
            token: failed.token,
            body: callbackBody(serialNo: failed.serialNo, openId: "oid-\(failed.serialNo)"))
        #expect(retry.text == "SUCCESS")
        acknowledged.append(failed.serialNo)
        let recovered = try daemon.ipc("GET", "/v1/health")
        #expect(recovered.status == 200)
        // The last error stays on record after storage recovers.
        #expect((recovered.json["lastStorageError"] as? String)?.contains("No space left on device") == true)
        #expect(try run(Binaries.openidctl, ["--socket", daemon.socketPath, "status"]).status == 0)
        #expect(try daemon.ipc("POST", "/v1/auth-url", body: #"{"userId":"after"}"#).status == 200)

        // The ledger holds every acknowledged binding exactly once, each line whole.
        let lines = daemon.ledgerLines()
        let serials = lines.compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["serialNo"] as? String
        }
        #expect(serials.count == lines.count)
        #expect(serials == acknowledged)
        // And a restart replays it cleanly.
        daemon.stop(signal: SIGKILL)
        try daemon.start()
        #expect(try daemon.ipc("GET", "/v1/health").json["bindings"] as? Int == acknowledged.count)
    }
}
