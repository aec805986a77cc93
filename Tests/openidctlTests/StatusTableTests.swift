import Testing

@testable import openidctl

@Suite struct StatusTableTests {
    @Test(arguments: [
        (0, "0s"), (59, "59s"), (60, "1m"), (3599, "59m"), (3600, "1h 0m"),
        (4 * 3600 + 12 * 60 + 5, "4h 12m"),
        (3 * 86_400 + 4 * 3600 + 12 * 60, "3d 4h 12m"), (86_400, "1d 0h 0m"), (-3, "0s"),
    ])
    func durations(seconds: Int, text: String) {
        #expect(StatusTable.duration(seconds) == text)
    }

    @Test(arguments: [
        (0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (1536, "1.5 KiB"), (1_048_575, "1.0 MiB"),
        (195_311_000, "186.3 MiB"), (3 << 30, "3.0 GiB"), (5 << 40, "5.0 TiB"), (5000 << 40, "5000.0 TiB"),
    ])
    func sizes(bytes: Int, text: String) {
        #expect(StatusTable.size(bytes) == text)
    }

    private let health: [String: Any] = [
        "status": "ok", "version": "0.2.0", "startedAt": "2026-11-26T17:07:13.977Z", "pending": 0,
        "bindings": 1_000_000, "storage": "ok", "storageDirectory": "/var/lib/openidd",
        "callbackListen": "127.0.0.1:8480", "signType": "SHA256-RSA", "ledgerSyncs": 1, "journalSyncs": 1,
        "uptimeSeconds": 274_320, "configPath": "/etc/openidd/config.json", "sandbox": false,
        "ipcSocket": "/run/openidd/openidd.sock", "ipcActivated": true, "callbackActivated": false,
        "ledgerBytes": 195_311_000, "journalBytes": 512, "storageSyncStuck": false,
        "lastStorageError": "write /var/lib/openidd/bindings.jsonl: No space left on device",
        "lastStorageErrorAt": "2026-11-27T01:00:00.000Z",
        "lastPlatformError": "platform unreachable", "lastPlatformErrorAt": "2026-11-27T02:00:00.000Z",
    ]

    @Test func everyFieldInTwoAlignedColumns() {
        let table = StatusTable.render(health, socket: "/run/openidd/openidd.sock")
        #expect(
            table == """
                status            ok
                version           0.2.0
                startedAt         2026-11-26T17:07:13.977Z
                uptime            3d 4h 12m
                configPath        /etc/openidd/config.json
                pending           0
                bindings          1000000
                storage           ok
                storageDirectory  /var/lib/openidd
                ledgerSize        186.3 MiB
                journalSize       512 B
                storageSyncStuck  no
                lastStorageError  write /var/lib/openidd/bindings.jsonl: No space left on device (at 2026-11-27T01:00:00.000Z)
                callbackListen    127.0.0.1:8480
                callbackActivated no
                ipcSocket         /run/openidd/openidd.sock
                ipcActivated      yes
                signType          SHA256-RSA
                lastPlatformError platform unreachable (at 2026-11-27T02:00:00.000Z)
                socket            /run/openidd/openidd.sock

                """)
    }

    @Test func sandboxIsNamedAndAbsentFieldsAreLeftOut() {
        let table = StatusTable.render(
            ["status": "ok", "configPath": "/tmp/openidd-sandbox.x/config.json", "sandbox": true],
            socket: "/s")
        #expect(
            table == """
                status     ok
                configPath /tmp/openidd-sandbox.x/config.json (sandbox)
                socket     /s

                """)
    }
}
