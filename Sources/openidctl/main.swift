import Config
import Foundation
import HTTP1
import HTTPClient

#if canImport(Glibc)
    import Glibc
#endif

// openidctl: the command-line client of openidd's IPC API.
// Exit codes (SPEC): 0 success, 1 error, 2 bad usage, 3 not found. The usage is in Usage.swift.

var socketPath = ProcessInfo.processInfo.environment["OPENIDD_SOCKET"] ?? "/run/openidd/openidd.sock"
var jsonOutput = false
var serial: String?
var timeout = 300.0
var positional: [String] = []
var exportOptions = ExportOptions()
var arguments = splittingEqualSigns(Array(CommandLine.arguments.dropFirst()))[...]
while let argument = arguments.popFirst() {
    switch argument {
    case "--socket":
        guard let value = arguments.popFirst() else { exitUsage("--socket needs a path") }
        socketPath = value
    case "--json": jsonOutput = true
    case "--serial":
        guard let value = arguments.popFirst() else { exitUsage("--serial needs a value") }
        serial = value
    case "--timeout":
        guard let value = arguments.popFirst(), let seconds = Double(value), seconds >= 0 else {
            exitUsage("--timeout needs a number of seconds")
        }
        timeout = seconds
    case "--config", "--storage", "--since", "--format", "--output":
        guard let value = arguments.popFirst() else { exitUsage("\(argument) needs a value") }
        exportOptions.set(argument, value)
    case "--help", "-h":
        // After a command word, that command's usage (`openidctl get --help`).
        exitWithUsage(of: positional.first)
    case "--version":
        print("openidctl \(Release.version)")
        exit(0)
    default:
        // The signature self-tests read the configuration, not the socket, and parse their own options.
        if positional.isEmpty, let command = SignCommand(rawValue: argument) {
            // A --config given before the command is the command's too (`openidctl --config F sign-test`);
            // one given after it comes later and wins.
            let earlier = exportOptions.configPath.map { ["--config", $0] } ?? []
            runSignCommand(command, arguments: earlier + Array(arguments), json: jsonOutput)
        }
        if argument.hasPrefix("--") { exitUsage("unknown option \(argument)") }
        positional.append(argument)
    }
}

/// Percent-encodes a query value (RFC 3986 unreserved characters pass through).
func encodeQuery(_ value: String) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
}

@MainActor func call(
    _ method: String, _ target: String, body: [String: String]? = nil, timeoutSeconds: Double = 30
) -> (Int, [String: Any], [UInt8]) {
    var headers = HTTPHeaders()
    var bytes: [UInt8] = []
    if let body {
        headers.add("Content-Type", "application/json")
        bytes = Array((try? JSONSerialization.data(withJSONObject: body)) ?? Data())
    }
    do {
        let response = try HTTPClient().send(
            method: method, target: target, headers: headers, body: bytes, to: .unix(path: socketPath),
            timeoutSeconds: timeoutSeconds)
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        return (response.status, object, response.body)
    } catch {
        // The client's own error names the path too; each message below names it once.
        guard error.kind == .connect else { exitError(error.description) }
        var info = stat()
        if stat(socketPath, &info) != 0 {
            exitError("is openidd running? socket \(socketPath) not found (use --socket or OPENIDD_SOCKET)")
        }
        if access(socketPath, R_OK | W_OK) != 0 {
            exitError(
                "permission denied on \(socketPath): run as a user in the socket's group (see ipc.socketMode)"
            )
        }
        // A socket left by a daemon that stopped without removing it, or a file that is no socket.
        exitError("is openidd running? nothing answers on \(socketPath) (use --socket or OPENIDD_SOCKET)")
    }
}

func printJSON(_ body: [UInt8]) {
    print(String(decoding: body, as: UTF8.self))
}

/// Prints the daemon's error and exits: 3 for not found, 1 otherwise.
@MainActor func exitWithDaemonError(_ status: Int, _ object: [String: Any], _ body: [UInt8]) -> Never {
    if jsonOutput { printJSON(body) }
    let error = object["error"] as? [String: Any]
    let message = error?["message"] as? String ?? "openidd answered HTTP \(status)"
    exitError(message, code: status == 404 ? 3 : 1)
}

func field(_ object: [String: Any], _ key: String) -> String {
    if let text = object[key] as? String { return text }
    if let number = object[key] as? NSNumber { return number.stringValue }
    return "-"
}

guard let command = positional.first else { exitUsage("no command given") }
let operands = Array(positional.dropFirst())
func operand(_ name: String) -> String {
    guard operands.count == 1 else { exitUsage("\(command) takes exactly one \(name)") }
    return operands[0]
}

switch command {
case "auth-url":
    let userId = operand("USER_ID")
    var body = ["userId": userId]
    if let serial { body["serialNo"] = serial }
    let (status, object, raw) = call("POST", "/v1/auth-url", body: body, timeoutSeconds: 150)
    guard status == 200 else { exitWithDaemonError(status, object, raw) }
    if jsonOutput {
        printJSON(raw)
    } else {
        print(field(object, "alipayAuthUrl"))
        print("serialNo  \(field(object, "serialNo"))")
        print("expiresAt \(field(object, "expiresAt"))")
    }

case "get":
    let userId = operand("USER_ID")
    let (status, object, raw) = call("GET", "/v1/bindings?userId=\(encodeQuery(userId))")
    guard status == 200 else { exitWithDaemonError(status, object, raw) }
    if jsonOutput {
        printJSON(raw)
    } else {
        print(field(object, "openId"))
        print("serialNo  \(field(object, "serialNo"))")
        print("boundAt   \(field(object, "boundAt"))")
    }

case "find":
    let openId = operand("OPENID")
    let (status, object, raw) = call("GET", "/v1/bindings?openId=\(encodeQuery(openId))")
    guard status == 200 else { exitWithDaemonError(status, object, raw) }
    let bindings = object["bindings"] as? [[String: Any]] ?? []
    if jsonOutput {
        printJSON(raw)
    } else if bindings.isEmpty {
        FileHandle.standardError.write(Data("openidctl: no userId is bound to openId \(openId)\n".utf8))
    } else {
        for binding in bindings {
            print("\(field(binding, "userId"))\t\(field(binding, "serialNo"))\t\(field(binding, "boundAt"))")
        }
    }
    exit(bindings.isEmpty ? 3 : 0)

case "wait":
    let serialNo = operand("SERIAL")
    let deadline = Date().addingTimeInterval(timeout)
    while true {
        let remaining = max(0, deadline.timeIntervalSinceNow)
        let wait = Int(min(60, remaining.rounded(.up)))
        let (status, object, raw) = call(
            "GET", "/v1/requests/\(serialNo)?wait=\(wait)", timeoutSeconds: Double(wait) + 30)
        guard status == 200 else { exitWithDaemonError(status, object, raw) }
        let state = field(object, "state")
        if state == "pending" && deadline.timeIntervalSinceNow > 0 { continue }
        if jsonOutput {
            printJSON(raw)
        } else {
            print(state == "bound" ? "bound \(field(object, "openId"))" : state)
        }
        switch state {
        case "bound": exit(0)
        case "pending": exitError("still pending after \(Int(timeout)) s")
        default: exitError("request \(serialNo) is \(state)")
        }
    }

case "status":
    guard operands.isEmpty else { exitUsage("status takes no operand") }
    let (status, object, raw) = call("GET", "/v1/health")
    // Not a health answer at all (refused by ipc.allowedUsers, say): say why rather than print nothing.
    if !jsonOutput, object["error"] != nil { exitWithDaemonError(status, object, raw) }
    if jsonOutput {
        printJSON(raw)
    } else {
        print(StatusTable.render(object, socket: socketPath), terminator: "")
    }
    exit(status == 200 ? 0 : 1)

case "export":
    guard operands.isEmpty else { exitUsage("export takes no operand") }
    runExport(exportOptions)

case "check":
    guard operands.isEmpty else { exitUsage("check takes no operand") }
    runCheck(exportOptions)
case "help":
    guard operands.count <= 1 else { exitUsage("help takes at most one COMMAND") }
    exitWithUsage(of: operands.first)

default:
    exitUsage("unknown command \(command)")
}
