import Config
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

// openidctl's usage: one entry per command, so `openidctl COMMAND --help` prints that command's part
// and a new command adds its own entry.

/// A command's usage: its synopsis and what it does, as the usage's lines show them.
struct CommandUsage {
    let name: String
    let text: String
}

let commandUsages = [
    CommandUsage(
        name: "auth-url",
        text: "  auth-url USER_ID [--serial SERIAL]   ask the platform for an Alipay authorization link"),
    CommandUsage(
        name: "get",
        text: "  get USER_ID                          the openId bound to USER_ID (latest binding)"),
    CommandUsage(name: "find", text: "  find OPENID                          every userId bound to OPENID"),
    CommandUsage(
        name: "wait",
        text:
            "  wait SERIAL [--timeout SECONDS]      wait until the request is bound, expired or failed (default 300 s)"
    ),
    CommandUsage(
        name: "status", text: "  status                               the daemon's health and counts"),
    CommandUsage(
        name: "sign-test",
        text: """
              sign-test [--config PATH] [--user-id U] [--serial S] [--sign-type SHA256-RSA|MD5] [--nonce N]
                        [--timestamp MS]           show the auth-link request openidd would sign: header part,
                                                   body, string to sign, key fingerprint, sign, HTTP headers
            """),
    CommandUsage(
        name: "verify-callback",
        text: """
              verify-callback --headers FILE --body FILE [--config PATH]
                                                   check a captured platform callback against the configured
                                                   keys and say what is wrong (exit 0 valid, 1 not)
            """),
    CommandUsage(
        name: "export",
        text: """
              export [--config PATH | --storage DIR] [--since TIME] [--format jsonl|csv] [--output FILE]
                                                   the ledger's bindings with boundAt >= TIME (RFC 3339), read
                                                   from storage.directory of PATH (default \(Configuration.defaultPath))
            """),
    CommandUsage(
        name: "check",
        text: """
              check [--config PATH | --storage DIR]
                                                   read the ledger and journal as start-up does, without the
                                                   daemon, and list every problem (exit 0 "ok", 1 if any)
            """),
    CommandUsage(name: "help", text: "  help [COMMAND]                       this usage, or COMMAND's"),
]

let usageHeader = "Usage: openidctl [--socket PATH] [--json] COMMAND\n"

let usageFooter = """
    Options:
      --socket PATH   the IPC socket (default $OPENIDD_SOCKET or /run/openidd/openidd.sock); --socket=PATH too
      --json          print the daemon's JSON answer as is
      --config PATH   sign-test, verify-callback: openidd's configuration (default \(Configuration.defaultPath))
      --version       openidctl's version
    Exit status: 0 success, 1 error, 2 bad usage, 3 not found.

    """

/// The whole usage, or one command's when `command` names one.
func usage(of command: String? = nil) -> String {
    if let command, let entry = commandUsages.first(where: { $0.name == command }) {
        return usageHeader + entry.text + "\n"
    }
    return usageHeader + commandUsages.map(\.text).joined(separator: "\n") + "\n" + usageFooter
}

/// Prints the usage and exits 0.
func exitWithUsage(of command: String? = nil) -> Never {
    print(usage(of: command), terminator: "")
    exit(0)
}

/// A usage mistake: its reason on one line and where the usage is, exit 2 (SPEC).
func exitUsage(_ message: String) -> Never {
    FileHandle.standardError.write(
        Data("openidctl: \(message)\nTry 'openidctl --help' for the usage.\n".utf8))
    exit(2)
}

func exitError(_ message: String, code: Int32 = 1) -> Never {
    FileHandle.standardError.write(Data("openidctl: \(message)\n".utf8))
    exit(code)
}

/// `--name=value` as the two arguments `--name value`, so every option takes either spelling.
func splittingEqualSigns(_ arguments: [String]) -> [String] {
    arguments.flatMap { argument -> [String] in
        guard argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") else { return [argument] }
        return [String(argument[..<equals]), String(argument[argument.index(after: equals)...])]
    }
}
