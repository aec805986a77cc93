import Foundation
import Testing

/// Reads a file from Tests/CryptoTests/Fixtures (see its README for how each was made).
func fixture(_ name: String) throws -> String {
    let url = try #require(
        Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures"),
        "fixture \(name) missing from the test bundle")
    return try String(contentsOf: url, encoding: .utf8)
}

func fixtureBytes(_ name: String) throws -> [UInt8] {
    Array(try fixture(name).utf8)
}

/// True when `description` quotes no 12-character run of the key's Base64 body: enough to catch a
/// leaked line or fragment, short of the header words that may legitimately be named.
func quotesKeyMaterial(_ description: String, keyText: String) -> Bool {
    let body = Array(
        keyText.split(separator: "\n").filter { !$0.hasPrefix("-----") && !$0.contains(":") }.joined())
    guard body.count >= 12 else { return false }
    return (0...(body.count - 12)).contains { description.contains(String(body[$0..<$0 + 12])) }
}
