// libFuzzer target for the ledger's and journal's line reader: whatever the flat JSON parser accepts
// must read exactly as Foundation's JSONSerialization reads it. Build and run: Fuzz/run.sh SECONDS json
import Foundation
import JSON

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let flat = try? FlatJSON.decode(bytes) else { return 0 }
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
