// libFuzzer target for the strict JSON parser that reads callbacks, IPC bodies and the configuration:
// whatever it accepts, Foundation's JSONSerialization accepts and reads the same, and writing the value
// and reading it again gives the same value. Build and run: Fuzz/run.sh SECONDS jsonparser
import Foundation
import JSON

func same(_ value: JSONValue, _ foundation: Any) -> Bool {
    switch value {
    case .string(let text): return foundation as? String == text
    case .null: return foundation is NSNull
    case .bool(let flag):
        guard let number = foundation as? NSNumber, !(foundation is String) else { return false }
        return number.boolValue == flag
    case .integer(let integer):
        guard let number = foundation as? NSNumber, !(foundation is String) else { return false }
        // Foundation reads some long integers as NSDecimalNumber, whose doubleValue can be a few
        // units in the last place away; its decimal text is exact.
        return number.stringValue == String(integer) || number.doubleValue == Double(integer)
    case .number(let double):
        guard let number = foundation as? NSNumber, !(foundation is String) else { return false }
        // Foundation reads long numbers as NSDecimalNumber, whose doubleValue can be a few units in
        // the last place away from the nearest Double.
        return abs(number.doubleValue - double) <= abs(double) * 1e-14
    case .array(let items):
        guard let array = foundation as? [Any], array.count == items.count else { return false }
        return zip(items, array).allSatisfy { same($0, $1) }
    case .object(let fields):
        guard let object = foundation as? [String: Any], object.count == fields.count else { return false }
        return fields.allSatisfy { key, value in object[key].map { same(value, $0) } ?? false }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let value = try? JSONParser.parse(bytes) else { return 0 }
    guard let foundation = try? JSONSerialization.jsonObject(with: Data(bytes), options: .fragmentsAllowed)
    else {
        preconditionFailure("the parser took a text Foundation refuses")
    }
    precondition(same(value, foundation), "Foundation reads it differently")
    let reread = try? JSONParser.parse(value.encoded())
    precondition(reread == value, "what JSONValue writes does not read back the same")
    return 0
}
