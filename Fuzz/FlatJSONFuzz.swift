// libFuzzer target for the ledger's and journal's line reader: whatever the flat JSON parser accepts
// must read exactly as Foundation's JSONSerialization reads it. Build and run: Fuzz/run.sh SECONDS json
import Foundation
import JSON

enum Value {
    case string(String)
    case integer(Int64)
}

struct RepeatedKey: Error {}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    var flat: [String: Value] = [:]
    do {
        try FlatJSON.scan(bytes) { keyBytes, scanned in
            let key = String(decoding: keyBytes, as: UTF8.self)
            // Which of a repeated key's values Foundation keeps is its own choice: not compared.
            guard flat[key] == nil else { throw RepeatedKey() }
            switch scanned {
            case .string(let text): flat[key] = .string(String(decoding: text, as: UTF8.self))
            case .integer(let number): flat[key] = .integer(number)
            }
        }
    } catch {
        return 0
    }
    guard let object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] else {
        preconditionFailure("the flat parser took a body Foundation refuses")
    }
    precondition(object.count == flat.count, "a different set of keys")
    for (key, value) in flat {
        switch value {
        case .string(let text):
            precondition(object[key] as? String == text, "string \(key) reads differently")
        case .integer(let number):
            precondition((object[key] as? NSNumber)?.int64Value == number, "integer \(key) reads differently")
            precondition(!(object[key] is String), "integer \(key) is a string to Foundation")
        }
    }
    return 0
}
