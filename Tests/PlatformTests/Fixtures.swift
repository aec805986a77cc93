import Foundation

/// Reads Tests/CryptoTests/Fixtures/`name` (see its README: the known answers come from the OpenSSL
/// CLI, not from our code). Found from this file, symlinks resolved, rather than as a resource.
func fixture(_ name: String) throws -> String {
    let url = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
        .appendingPathComponent("../CryptoTests/Fixtures/\(name)").standardizedFileURL
    return try String(contentsOf: url, encoding: .utf8)
}

func fixtureBytes(_ name: String) throws -> [UInt8] {
    Array(try fixture(name).utf8)
}
