import Foundation

/// `openidctl status` for people: two aligned columns, durations and sizes in human units. The keys
/// are the health answer's own, so a row can be found in `--json`; a field an older daemon does not
/// send is left out.
enum StatusTable {
    static func render(_ health: [String: Any], socket: String) -> String {
        var rows: [(String, String)] = []
        func add(_ label: String, _ value: String?) {
            if let value { rows.append((label, value)) }
        }
        for key in ["status", "version", "startedAt"] { add(key, text(health[key])) }
        add("uptime", integer(health["uptimeSeconds"]).map(duration))
        add(
            "configPath",
            text(health["configPath"]).map { health["sandbox"] as? Bool == true ? $0 + " (sandbox)" : $0 })
        for key in ["pending", "bindings", "storage", "storageDirectory"] { add(key, text(health[key])) }
        add("ledgerSize", integer(health["ledgerBytes"]).map(size))
        add("journalSize", integer(health["journalBytes"]).map(size))
        add("storageSyncStuck", yesNo(health["storageSyncStuck"]))
        add("lastStorageError", event(health, "lastStorageError"))
        add("callbackListen", text(health["callbackListen"]))
        add("callbackActivated", yesNo(health["callbackActivated"]))
        add("ipcSocket", text(health["ipcSocket"]))
        add("ipcActivated", yesNo(health["ipcActivated"]))
        add("signType", text(health["signType"]))
        add("lastPlatformError", event(health, "lastPlatformError"))
        add("socket", socket)
        let width = rows.map(\.0.count).max()! + 1
        return rows.map { $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + $0.1 + "\n" }.joined()
    }

    /// "45s" under a minute, then "12m", "4h 0m", "3d 4h 12m".
    static func duration(_ seconds: Int) -> String {
        if seconds < 60 { return "\(max(seconds, 0))s" }
        let days = seconds / 86_400
        let hours = seconds % 86_400 / 3600
        let minutes = seconds % 3600 / 60
        if days > 0 { return "\(days)d \(hours)h \(minutes)m" }
        if hours > 0 { return "\(hours)h \(minutes)m" }
        return "\(minutes)m"
    }

    /// Bytes below 1 KiB, else binary units to one decimal: "512 B", "1.5 KiB", "186.3 MiB".
    static func size(_ bytes: Int) -> String {
        if bytes < 1024 { return "\(bytes) B" }
        var unit = 1024
        for name in ["KiB", "MiB", "GiB", "TiB"] {
            let tenths = (bytes * 10 + unit / 2) / unit
            // Rounded up into the next unit ("1024.0 KiB"): say it in that unit instead.
            if tenths < 10_240 || name == "TiB" { return "\(tenths / 10).\(tenths % 10) \(name)" }
            unit *= 1024
        }
        fatalError("unreachable: TiB ends the loop")
    }

    private static func text(_ value: Any?) -> String? {
        if let string = value as? String { return string }
        if let number = value as? NSNumber { return number.stringValue }
        return nil
    }

    private static func integer(_ value: Any?) -> Int? {
        (value as? NSNumber)?.intValue
    }

    private static func yesNo(_ value: Any?) -> String? {
        (value as? Bool).map { $0 ? "yes" : "no" }
    }

    /// "what (at WHEN)" for an error the daemon reports with its time.
    private static func event(_ health: [String: Any], _ key: String) -> String? {
        guard let what = text(health[key]) else { return nil }
        guard let at = text(health[key + "At"]) else { return what }
        return "\(what) (at \(at))"
    }
}
