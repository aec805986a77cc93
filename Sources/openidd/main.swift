import Config
import Daemon
import Foundation
import Logging
import POSIX
import Sandbox
import Systemd

#if canImport(Glibc)
    import Glibc
#endif

let usage = """
    Usage: openidd [--config PATH]     run the daemon (default config \(Configuration.defaultPath))
           openidd --check-config [--config PATH]
                                       validate the configuration and key files, then exit 0 (or 1)
           openidd --sandbox           run the whole flow on loopback against a built-in sandbox platform
           openidd --version | --help

    Under systemd: Type=notify (READY=1, STATUS=, WATCHDOG=1, RELOADING=1, STOPPING=1), socket activation
    with FileDescriptorName=ipc and FileDescriptorName=callback, SIGHUP reloads keys, timeouts, TTL,
    log level and the IPC access lists, SIGTERM drains and exits 0.

    """

func fail(_ message: String, code: Int32 = 1) -> Never {
    FileHandle.standardError.write(Data("openidd: \(message)\n".utf8))
    exit(code)
}

var configPath = Configuration.defaultPath
var checkOnly = false
var sandbox = false
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--config":
        guard let value = arguments.popFirst() else { fail("--config needs a path\n\n\(usage)", code: 2) }
        configPath = value
    case "--check-config": checkOnly = true
    case "--sandbox": sandbox = true
    case "--version":
        print("openidd \(Daemon.version)")
        exit(0)
    case "--help", "-h":
        print(usage, terminator: "")
        exit(0)
    default:
        fail("unknown argument \(argument)\n\n\(usage)", code: 2)
    }
}

let logger = Logger(level: .info)
let environment = ProcessInfo.processInfo.environment

if checkOnly {
    do {
        let configuration = try Configuration.load(path: configPath)
        _ = try configuration.loadKeys()
        print(
            "\(configPath): OK (signType \(configuration.restartOnly.account.signType.rawValue), callback \(configuration.restartOnly.callback.publicUrl))"
        )
        exit(0)
    } catch {
        fail("\(error)")
    }
}

// Signals are blocked in every thread (threads inherit the mask) and taken synchronously below.
Signals.ignoreBrokenPipe()
Signals.block([SIGTERM, SIGINT, SIGHUP])
let notifier = Notifier(environment: environment)

let daemon: Daemon
var sandboxPlatform: SandboxPlatform?
do {
    if sandbox {
        let setup = try SandboxSetup.prepare(logger: logger)
        sandboxPlatform = setup.platform
        daemon = try Daemon(
            configuration: setup.configuration, keys: try setup.configuration.loadKeys(), logger: logger,
            listeners: Daemon.Listeners(callback: setup.callbackListener), sandbox: true)
        daemon.start()
        FileHandle.standardOutput.write(Data(setup.banner(ipcSocket: daemon.ipcSocketPath).utf8))
    } else {
        let configuration = try Configuration.load(path: configPath)
        let activated = try SocketActivation.listeners(environment: environment)
        if !activated.isEmpty {
            logger.notice("socket activation", [("sockets", activated.keys.sorted().joined(separator: ","))])
        }
        daemon = try Daemon(
            configuration: configuration, keys: try configuration.loadKeys(), logger: logger,
            listeners: Daemon.Listeners(
                callback: activated["callback"], ipc: activated["ipc"], socketActivated: !activated.isEmpty))
        daemon.start(watchdogSeconds: Watchdog.timeout(environment: environment)) { notifier.send($0) }
    }
} catch {
    notifier.send("STATUS=failed to start: \(error)")
    fail("\(error)")
}
// Ready only now: storage replayed and both sockets listening.
notifier.ready(status: daemon.statusLine)

while true {
    let signal = Signals.wait(for: [SIGTERM, SIGINT, SIGHUP])
    guard signal == SIGHUP else { break }
    notifier.reloading()
    do {
        try daemon.reload()
        notifier.ready(status: daemon.statusLine)
    } catch {
        logger.error("reload failed; the running configuration stays in force", [("reason", "\(error)")])
        notifier.ready(status: "reload failed, running configuration kept: \(error)")
    }
}
notifier.stopping()
daemon.shutdown(graceSeconds: 10)
exit(0)
