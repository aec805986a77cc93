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
           openidd --sandbox [--keep]  run the whole flow on loopback against a built-in sandbox platform;
                                       its temporary directory (keys included) goes when it stops, unless --keep
           openidd --version | --help

    Under systemd: Type=notify (READY=1, STATUS=, WATCHDOG=1, RELOADING=1, STOPPING=1), socket activation
    with FileDescriptorName=ipc and FileDescriptorName=callback, SIGHUP reloads keys, timeouts, TTL,
    log level and the IPC access lists, SIGTERM drains and exits 0.

    """

func fail(_ message: String, code: Int32 = 1) -> Never {
    FileHandle.standardError.write(Data("openidd: \(message)\n".utf8))
    exit(code)
}

/// A usage mistake: its reason and where the usage is, exit 2.
func failUsage(_ message: String) -> Never {
    fail("\(message)\nTry 'openidd --help' for the usage.", code: 2)
}

var configPath = Configuration.defaultPath
var checkOnly = false
var sandbox = false
var keep = false
var arguments = CommandLine.arguments.dropFirst()
// With nothing to run (no arguments, no configuration where one is looked for), say what would run.
if arguments.isEmpty && !FileSystem.exists(configPath) {
    fail(
        """
        no configuration at \(configPath).
          To try it with none: openidd --sandbox    For the options: openidd --help
        """, code: 2)
}
while let argument = arguments.popFirst() {
    switch argument {
    case "--config":
        guard let value = arguments.popFirst() else { failUsage("--config needs a path") }
        configPath = value
    case "--check-config": checkOnly = true
    case "--sandbox": sandbox = true
    case "--keep": keep = true
    case "--version":
        print("openidd \(Daemon.version)")
        exit(0)
    case "--help", "-h":
        print(usage, terminator: "")
        exit(0)
    default:
        failUsage("unknown argument \(argument)")
    }
}
if keep && !sandbox { failUsage("--keep goes with --sandbox") }

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
var sandboxSetup: SandboxSetup?
do {
    if sandbox {
        let setup = try SandboxSetup.prepare(logger: logger)
        sandboxSetup = setup
        do {
            daemon = try Daemon(
                configuration: setup.configuration, keys: try setup.configuration.loadKeys(), logger: logger,
                listeners: Daemon.Listeners(callback: setup.callbackListener), sandbox: true)
        } catch {
            if !keep { try? setup.removeDirectory() }
            throw error
        }
        daemon.start()
        FileHandle.standardOutput.write(Data(setup.banner(ipcSocket: daemon.ipcSocketPath, keep: keep).utf8))
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
if let sandboxSetup, !keep {
    do {
        try sandboxSetup.removeDirectory()
        print("openidd: removed \(sandboxSetup.directory)")
    } catch {
        fail("could not remove \(sandboxSetup.directory): \(error)")
    }
}
exit(0)
