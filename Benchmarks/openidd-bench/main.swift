// openidd-bench: measures the real `openidd` binary from outside.
//
//   openidd-bench compare [--seconds S] [--count N]
//       in one run against nginx (needs nginx and wrk): durable callbacks with wrk -t1 -c64, IPC
//       lookups with 64 keep-alive clients, RSA auth links against nginx as the platform vs
//       `openssl speed rsa2048`, idle RSS and CPU
//   openidd-bench callbacks [--count N] [--concurrency 1,16,64] [--openidd PATH]
//       durable callbacks per second (distinct serialNos, MD5-signed, keep-alive connections),
//       latency percentiles, and ledger fsyncs per 1,000 bindings (group commit at work)
//   openidd-bench replay [--bindings 1000000] [--pending 100000] [--openidd PATH]
//       start-up time with a ledger of N bindings and a journal of P pending requests, and the RSS
//   openidd-bench slowloris [--count 2000] [--connections 400]
//       a real callback's latency alone and beside N clients holding half-sent requests open
//
// Every mode runs the daemon with the shipped unit's Environment= lines (systemd/openidd.service), as
// installed; --unit-environment no runs it without them.
//
// Build it in release mode for meaningful figures: swift build -c release

import Correlation
import Crypto
import Foundation
import HTTP1
import HTTPClient
import Ledger
import POSIX
import Platform
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

Signals.ignoreBrokenPipe()

/// Prints at once (stdout is a pipe under a harness, and a benchmark is watched while it runs).
func print(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}

/// `--name value` pairs after the mode.
let options: [String: String] = {
    var result: [String: String] = [:]
    var rest = Array(CommandLine.arguments.dropFirst(2))
    while rest.count >= 2, rest[0].hasPrefix("--") {
        result[String(rest[0].dropFirst(2))] = rest[1]
        rest.removeFirst(2)
    }
    return result
}()
let mode = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : ""
let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
let openidd = options["openidd"] ?? here + "/openidd"
let businessId = "bench-business"
let merchantId = "bench-merchant"
let md5Key = "bench-md5-key"

/// The `Environment=` assignments of the shipped unit (systemd/openidd.service), so the daemon under
/// test runs as installed. `--unit-environment no` leaves them out, to measure what they are worth.
let unitEnvironment: [String: String] = {
    guard options["unit-environment"] != "no" else { return [:] }
    let unit = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../systemd/openidd.service").standardizedFileURL.path
    guard let text = try? String(contentsOfFile: unit, encoding: .utf8) else {
        print("note: \(unit) not found; the daemon runs without the unit's environment")
        return [:]
    }
    var environment: [String: String] = [:]
    for line in text.split(separator: "\n") where line.hasPrefix("Environment=") {
        let assignment = line.dropFirst("Environment=".count)
        guard let equals = assignment.firstIndex(of: "=") else { continue }
        environment[String(assignment[..<equals])] = String(assignment[assignment.index(after: equals)...])
    }
    return environment
}()

/// A daemon in a fresh directory, configured for MD5 (signing cost aside, this measures our path).
struct Instance {
    let directory: String
    let socket: String
    var process: Process?

    init() {
        // --dir puts the state elsewhere (a tmpfs, to separate the disk's share from ours).
        var template = Array(((options["dir"] ?? "/tmp") + "/openidd-bench.XXXXXX").utf8CString)
        directory = String(cString: mkdtemp(&template)!)
        socket = directory + "/openidd.sock"
        try! FileManager.default.createDirectory(
            atPath: directory + "/state", withIntermediateDirectories: true)
        try! md5Key.write(toFile: directory + "/md5.key", atomically: true, encoding: .utf8)
        chmod(directory + "/md5.key", 0o600)  // openidd refuses secret keys others can read
        // Every bench client connects from 127.0.0.1, so the per-client cap is lifted.
        let config = """
            {
              "platform": { "baseUrl": "http://127.0.0.1:9", "businessId": "\(businessId)", "merchantId": "\(merchantId)",
                            "signType": "MD5", "md5KeyFile": "md5.key" },
              "callback": { "listen": "127.0.0.1:0", "publicUrl": "https://merchant.example/cb",
                            "maxConnectionsPerClient": 100000 },
              "ipc": { "socketPath": "openidd.sock", "socketMode": "0600" },
              "storage": { "directory": "state" },
              "requests": { "maxPending": 10000000 }
            }
            """
        try! config.write(toFile: directory + "/config.json", atomically: true, encoding: .utf8)
    }

    /// Starts openidd and returns the seconds until its IPC socket answered.
    mutating func start() -> Double {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: openidd)
        process.arguments = ["--config", directory + "/config.json"]
        process.environment = ProcessInfo.processInfo.environment.merging(unitEnvironment) { $1 }
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        let started = MonotonicClock.nowNanos()
        try! process.run()
        self.process = process
        while health() == nil {
            guard process.isRunning else {
                fatalError("openidd exited; run it by hand with --config \(directory)/config.json")
            }
            usleep(2_000)
        }
        return Double(MonotonicClock.nowNanos() - started) / 1e9
    }

    func health() -> [String: Any]? {
        guard
            let response = try? HTTPClient().send(
                method: "GET", target: "/v1/health", to: .unix(path: socket), timeoutSeconds: 5)
        else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
    }

    /// Resident and peak memory from /proc, in MB.
    func memory() -> (rss: Double, peak: Double) {
        let status =
            (try? String(contentsOfFile: "/proc/\(process!.processIdentifier)/status", encoding: .utf8)) ?? ""
        func field(_ name: String) -> Double {
            let line = status.split(separator: "\n").first { $0.hasPrefix(name + ":") } ?? ""
            return (Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
        }
        return (field("VmRSS"), field("VmHWM"))
    }

    /// Stops the daemon; `--keep yes` leaves the directory for profiling (`perf record openidd --config …`).
    func stop() {
        guard let process else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        if options["keep"] == "yes" {
            print("  kept          \(directory)")
        } else {
            try? FileManager.default.removeItem(atPath: directory)
        }
    }
}

/// Writes lines in large blocks.
func writeLines(_ path: String, count: Int, _ line: (Int) -> [UInt8]) {
    let fd = try! FileDescriptor.open(path, O_WRONLY | O_CREAT | O_TRUNC)
    var block: [UInt8] = []
    block.reserveCapacity(1 << 22)
    for index in 0..<count {
        block += line(index)
        if block.count > (1 << 22) - 512 {
            try! fd.writeAll(block)
            block.removeAll(keepingCapacity: true)
        }
    }
    try! fd.writeAll(block)
    fd.close()
}

func pendingRequest(_ index: Int, now: Int64) -> PendingRequest {
    let token = "token-\(index)-" + String(repeating: "x", count: 30)
    return PendingRequest(
        serialNo: "pending-\(index)-\(String(index * 7919, radix: 36))", userId: "user-\(index)",
        token: token,
        callbackUrl: "https://merchant.example/cb/\(token)", createdAt: now, expiresAt: now + 86_400_000)
}

/// The platform's callback for `request`, MD5-signed as the platform signs, ready to send.
func signedCallback(for request: PendingRequest, index: Int, timestamp: Int64) -> [UInt8] {
    let keys = SigningKeys(md5Key: Array(md5Key.utf8))
    let body = Array("{\"serialNo\":\"\(request.serialNo)\",\"openId\":\"2088open\(index)\"}".utf8)
    var headers = HTTPHeaders()
    headers.add("Host", "merchant.example")
    headers.add("Content-Type", "application/json; charset=utf-8")
    for (name, value) in try! keys.authHeaders(
        businessId: businessId, nonce: "nonce-\(index)", timestamp: timestamp, signType: .md5, body: body)
    {
        headers.add(name, value)
    }
    return serializeRequest(method: "POST", target: "/cb/\(request.token)", headers: headers, body: body)
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}

// MARK: - Start-up replay

@MainActor func benchReplay() {
    let bindings = Int(options["bindings"] ?? "1000000")!
    let pending = Int(options["pending"] ?? "100000")!
    var instance = Instance()
    let now = WallClock.nowMilliseconds()
    writeLines(instance.directory + "/state/bindings.jsonl", count: bindings) { index in
        LedgerLine.encode(
            Binding(
                serialNo: "serial-\(index)-\(String(index * 104_729, radix: 36))",
                userId: "user-\(index % 800_000)",
                openId: "2088\(String(format: "%012d", index))openid", merchantId: merchantId,
                businessId: businessId,
                boundAt: now - Int64(bindings - index) * 1000))
    }
    writeLines(instance.directory + "/state/pending.jsonl", count: pending) {
        JournalLine.encode(.pending(pendingRequest($0, now: now)))
    }
    let size =
        (try? FileManager.default.attributesOfItem(atPath: instance.directory + "/state/bindings.jsonl")[
            .size] as? Int) ?? 0
    // Drop the page cache's advantage only as far as an unprivileged benchmark can: read the files once, like a warm restart.
    _ = try? FileSystem.readAll(instance.directory + "/state/bindings.jsonl")
    let seconds = instance.start()
    let memory = instance.memory()
    let health = instance.health() ?? [:]
    print("replay: \(bindings) bindings (\(size / 1_000_000) MB ledger) + \(pending) pending")
    print(String(format: "  ready after   %.3f s (process start, replay, listeners)", seconds))
    print(String(format: "  RSS           %.1f MB (peak %.1f MB)", memory.rss, memory.peak))
    print("  daemon says   bindings=\(health["bindings"] ?? "?") pending=\(health["pending"] ?? "?")")
    instance.stop()
}

// MARK: - Durable callbacks

/// A daemon started with `count` pending requests, its callback port, and each request's signed
/// callback, ready to send.
@MainActor func startWithPending(_ count: Int) -> (Instance, UInt16, [[UInt8]]) {
    var instance = Instance()
    let now = WallClock.nowMilliseconds()
    let requestsList = (0..<count).map { pendingRequest($0, now: now) }
    writeLines(instance.directory + "/state/pending.jsonl", count: count) {
        JournalLine.encode(.pending(requestsList[$0]))
    }
    sync()  // the set-up's writeback must not land in the measured run
    _ = instance.start()
    let listen = instance.health()?["callbackListen"] as? String ?? ""
    let port = UInt16(listen.split(separator: ":").last ?? "0")!
    let prepared: [[UInt8]] = requestsList.enumerated().map { index, request in
        signedCallback(for: request, index: index, timestamp: now)
    }
    return (instance, port, prepared)
}

/// One keep-alive connection that sends prepared requests and waits for each `SUCCESS`.
func runConnection(port: UInt16, requests: ArraySlice<[UInt8]>, latencies: UnsafeMutableBufferPointer<Double>)
    -> Int
{
    let fd = try! Socket.connectTCP(
        host: "127.0.0.1", port: port, deadlineNanos: MonotonicClock.deadline(afterSeconds: 5))
    defer { fd.close() }
    var succeeded = 0
    var buffer = [UInt8](repeating: 0, count: 4096)
    for (offset, request) in requests.enumerated() {
        let started = MonotonicClock.nowNanos()
        var sent = 0
        while sent < request.count {
            let count = request.withUnsafeBytes {
                send(fd.rawValue, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL))
            }
            if count > 0 {
                sent += count
            } else if errno != EAGAIN && errno != EINTR {
                return succeeded
            } else {
                _ = try? Poll.wait(fd, for: .writable, deadlineNanos: .max)
            }
        }
        var parser = ResponseParser()
        while true {
            if let response = try? parser.next() {
                if response.status == 200 && response.body == Array("SUCCESS".utf8) { succeeded += 1 }
                break
            }
            let count = buffer.withUnsafeMutableBytes { recv(fd.rawValue, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                parser.append(Array(buffer[0..<count]))
            } else if count < 0 && (errno == EAGAIN || errno == EINTR) {
                _ = try? Poll.wait(fd, for: .readable, deadlineNanos: .max)
            } else {
                return succeeded
            }
        }
        latencies[requests.startIndex + offset - requests.startIndex] =
            Double(MonotonicClock.nowNanos() - started) / 1e6
    }
    return succeeded
}

@MainActor func benchCallbacks() {
    let count = Int(options["count"] ?? "4000")!
    let levels = (options["concurrency"] ?? "1,16,64").split(separator: ",").map { Int($0)! }
    print("durable callbacks: \(count) distinct serialNos per run, MD5-signed, keep-alive connections")
    print("  conns  callbacks/s    p50 ms   p99 ms   fsyncs per 1000 bindings")
    for concurrency in levels {
        let (instance, port, prepared) = startWithPending(count)
        let syncsBefore = instance.health()?["ledgerSyncs"] as? Int ?? 0
        var latencies = [Double](repeating: 0, count: count)
        let perConnection = (count + concurrency - 1) / concurrency
        let succeeded = Mutex(0)
        let started = MonotonicClock.nowNanos()
        latencies.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let shared = buffer
            // One thread per connection: the clients block on the network, so a pool sized to the
            // cores (concurrentPerform) would never have more than two requests in flight.
            let finished = DispatchGroup()
            for connection in 0..<concurrency {
                let range = (connection * perConnection)..<min(count, (connection + 1) * perConnection)
                guard !range.isEmpty else { continue }
                finished.enter()
                let thread = Thread {
                    let done = runConnection(
                        port: port, requests: prepared[range],
                        latencies: UnsafeMutableBufferPointer(rebasing: shared[range]))
                    succeeded.withLock { $0 += done }
                    finished.leave()
                }
                thread.stackSize = 256 * 1024
                thread.start()
            }
            finished.wait()
        }
        let seconds = Double(MonotonicClock.nowNanos() - started) / 1e9
        let syncs = (instance.health()?["ledgerSyncs"] as? Int ?? 0) - syncsBefore
        let ok = succeeded.withLock { $0 }
        let sorted = latencies.sorted()
        print(
            String(
                format: "  %5d  %11.0f  %8.2f %8.2f   %6.1f%@", concurrency, Double(ok) / seconds,
                percentile(sorted, 0.5),
                percentile(sorted, 0.99), Double(syncs) * 1000 / Double(max(ok, 1)),
                ok == count ? "" : "  (only \(ok) of \(count) SUCCESS)"))
        instance.stop()
    }
}

// MARK: - Slowloris

/// Sequential callbacks on one connection, alone and then with `--connections` (400) clients holding
/// half-sent headers open: how much the slow clients delay a real callback.
@MainActor func benchSlowloris() {
    let count = Int(options["count"] ?? "2000")!
    let slowCount = Int(options["connections"] ?? "400")!
    let (instance, port, prepared) = startWithPending(2 * count)
    func phase(_ range: Range<Int>) -> (p50: Double, p99: Double, ok: Int) {
        var latencies = [Double](repeating: 0, count: range.count)
        let ok = latencies.withUnsafeMutableBufferPointer {
            runConnection(port: port, requests: prepared[range], latencies: $0)
        }
        let sorted = latencies.sorted()
        return (percentile(sorted, 0.5), percentile(sorted, 0.99), ok)
    }
    print(
        "slowloris: \(count) sequential durable callbacks, alone, then beside \(slowCount) half-sent requests"
    )
    let alone = phase(0..<count)
    var slow: [FileDescriptor] = []
    for _ in 0..<slowCount {
        let fd = try! Socket.connectTCP(
            host: "127.0.0.1", port: port, deadlineNanos: MonotonicClock.deadline(afterSeconds: 5))
        let head = Array("POST /cb/slow HTTP/1.1\r\nHost: merchant.example\r\nContent-Le".utf8)
        _ = head.withUnsafeBytes { send(fd.rawValue, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        slow.append(fd)
    }
    usleep(200_000)
    let beside = phase(count..<(2 * count))
    let open = instance.health()?["bindings"] as? Int ?? 0
    print(
        String(
            format: "  alone            p50 %.3f ms  p99 %.3f ms  (%d SUCCESS)", alone.p50, alone.p99,
            alone.ok))
    print(
        String(
            format: "  beside %4d slow  p50 %.3f ms  p99 %.3f ms  (%d SUCCESS; %d bindings in all)",
            slowCount,
            beside.p50, beside.p99, beside.ok, open))
    for fd in slow { fd.close() }
    instance.stop()
}

// MARK: - Against nginx, in one run

/// CPU time (user + system, all threads) a process has used, in ticks of 1/100 s.
func cpuTicks(_ pid: Int32) -> Int {
    let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
    let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
    guard fields.count > 12 else { return 0 }
    return (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0)
}

/// Runs a command and returns its standard output.
func shell(_ command: String) -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", command]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle(forWritingAtPath: "/dev/null")
    try! process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}

/// wrk's "Requests/sec" and the 99th percentile latency in ms.
func wrkFigures(_ output: String) -> (rate: Double, p99: Double) {
    let rate =
        output.split(separator: "\n").first { $0.hasPrefix("Requests/sec:") }
        .flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
    var p99 = 0.0
    if let line = output.split(separator: "\n").first(where: {
        $0.trimmingCharacters(in: .whitespaces).hasPrefix("99%")
    }) {
        let value = line.split(separator: " ").last.map(String.init) ?? ""
        if value.hasSuffix("ms") {
            p99 = Double(value.dropLast(2)) ?? 0
        } else if value.hasSuffix("us") {
            p99 = (Double(value.dropLast(2)) ?? 0) / 1000
        } else if value.hasSuffix("s") {
            p99 = (Double(value.dropLast(1)) ?? 0) * 1000
        }
    }
    return (rate, p99)
}

/// Keep-alive clients, one thread each, sending `request(i)` for `seconds`; returns requests per second.
func closedLoop(
    seconds: Double, connections: Int, connect: @escaping @Sendable () -> FileDescriptor,
    request: @escaping @Sendable (Int) -> [UInt8]
) -> Double {
    let done = Mutex(0)
    let finished = DispatchGroup()
    let deadline = MonotonicClock.deadline(afterSeconds: seconds)
    for connection in 0..<connections {
        finished.enter()
        let thread = Thread {
            let fd = connect()
            var count = 0
            var buffer = [UInt8](repeating: 0, count: 16384)
            while MonotonicClock.nowNanos() < deadline {
                let bytes = request(connection * 1_000_000 + count)
                _ = bytes.withUnsafeBytes { send(fd.rawValue, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                var parser = ResponseParser()
                var answered = false
                while !answered {
                    let n = buffer.withUnsafeMutableBytes { recv(fd.rawValue, $0.baseAddress, $0.count, 0) }
                    if n <= 0 { break }
                    parser.append(Array(buffer[0..<n]))
                    if (try? parser.next()) != nil { answered = true }
                }
                if !answered { break }
                count += 1
            }
            fd.close()
            done.withLock { $0 += count }
            finished.leave()
        }
        thread.stackSize = 256 * 1024
        thread.start()
    }
    finished.wait()
    return Double(done.withLock { $0 }) / seconds
}

@MainActor func benchCompare() {
    let seconds = Double(options["seconds"] ?? "8")!
    // Enough distinct serialNos for 70,000 callbacks a second, so every callback does the full work.
    let count = Int(options["count"] ?? String(max(250_000, Int(seconds * 70_000))))!
    let nginxPort = 18_000 + Int(getpid() % 1000)
    let nginxDirectory = NSTemporaryDirectory() + "openidd-bench-nginx-\(getpid())"
    try! FileManager.default.createDirectory(atPath: nginxDirectory, withIntermediateDirectories: true)
    let platformAnswer =
        #"{"status":420,"message":"success","data":{"alipayAuthUrl":"https://openauth.example/authorize"}}"#
    try! """
    worker_processes 1;
    daemon on;
    pid \(nginxDirectory)/nginx.pid;
    error_log \(nginxDirectory)/error.log;
    events { worker_connections 4096; }
    http {
      access_log off;
      keepalive_requests 1000000000;
      server {
        listen 127.0.0.1:\(nginxPort);
        listen unix:\(nginxDirectory)/nginx.sock;
        location / { return 200 "ok"; }
        location = /v1/openapi/auth/alipay/url { default_type application/json; return 200 '\(platformAnswer)'; }
      }
    }
    """.write(toFile: nginxDirectory + "/nginx.conf", atomically: true, encoding: .utf8)
    // Not through Foundation's Process: nginx's daemonised child inherits a descriptor Process watches
    // for the child's exit, so waitUntilExit would wait for nginx to stop.
    _ = system("nginx -c \(nginxDirectory)/nginx.conf")
    defer {
        // Once nginx has gone (it removes its pid file on the way out), its directory goes too.
        _ = shell(
            "kill $(cat \(nginxDirectory)/nginx.pid); for i in $(seq 50); do [ -e \(nginxDirectory)/nginx.pid ] || break; sleep 0.1; done; rm -rf \(nginxDirectory)"
        )
    }
    usleep(300_000)
    print("against nginx on the same machine, \(Int(seconds)) s per figure")

    // 1. Callbacks: wrk -t1 -c64 with distinct, pre-signed callbacks.
    // CPU per request as well as requests per second: on a shared 2-core machine the rate moves with
    // whatever else runs, the CPU each request costs much less.
    let nginxWorker =
        Int32(
            shell("pgrep -P $(cat \(nginxDirectory)/nginx.pid) | head -1").trimmingCharacters(
                in: .whitespacesAndNewlines))
        ?? 0
    // --rounds N repeats nginx then openidd N times, alternating, and reports the median ratio: the
    // machine's speed drifts between runs, a ratio taken from the same moment much less.
    let rounds = max(Int(options["rounds"] ?? "1") ?? 1, 1)
    var ratios: [Double] = []
    var p99s: [Double] = []
    var instance: Instance?
    var bound = 0
    for _ in 1...rounds {
        let nginxTicksBefore = cpuTicks(nginxWorker)
        let nginxStatic = wrkFigures(
            shell("wrk -t1 -c64 -d\(Int(seconds))s --latency http://127.0.0.1:\(nginxPort)/"))
        let nginxMicroseconds =
            Double(cpuTicks(nginxWorker) - nginxTicksBefore) * 1e4 / max(nginxStatic.rate * seconds, 1)
        instance?.stop()
        var current = Instance()
        let now = WallClock.nowMilliseconds()
        let requestsList = (0..<count).map { pendingRequest($0, now: now) }
        writeLines(current.directory + "/state/pending.jsonl", count: count) {
            JournalLine.encode(.pending(requestsList[$0]))
        }
        // NUL-separated, for the wrk script below.
        writeLines(current.directory + "/requests.bin", count: count) { index in
            signedCallback(for: requestsList[index], index: index, timestamp: now) + [0]
        }
        try! """
        local requests = {}
        local i = 0
        init = function(args)
          local f = io.open(args[1], "rb")
          local data = f:read("*a")
          f:close()
          for r in string.gmatch(data, "([^%z]+)") do requests[#requests + 1] = r end
        end
        request = function()
          i = i + 1
          if i > #requests then i = 1 end
          return requests[i]
        end
        """.write(toFile: current.directory + "/callbacks.lua", atomically: true, encoding: .utf8)
        // The set-up just wrote ~100 MB; left dirty, its writeback would land in the middle of the run and
        // queue the daemon's fdatasyncs behind it (p99 in the hundreds of ms, from the bench, not the daemon).
        sync()
        _ = current.start()
        let listen = current.health()?["callbackListen"] as? String ?? ""
        let callbackPort = String(listen.split(separator: ":").last ?? "0")
        let syncsBefore = current.health()?["ledgerSyncs"] as? Int ?? 0
        let openiddTicksBefore = cpuTicks(current.process!.processIdentifier)
        let callbacksOutput = shell(
            "wrk -t1 -c64 -d\(Int(seconds))s --latency -s \(current.directory)/callbacks.lua http://127.0.0.1:\(callbackPort)/ -- \(current.directory)/requests.bin"
        )
        if options["verbose"] == "yes" {
            print(callbacksOutput)
            // How long the ledger's fdatasyncs took (a slow disk shows here, not in our code).
            if let metrics = try? HTTPClient().send(
                method: "GET", target: "/metrics", to: .unix(path: current.socket), timeoutSeconds: 5)
            {
                var buckets: [String: Int] = [:]
                for line in String(decoding: metrics.body, as: UTF8.self).split(separator: "\n")
                where line.hasPrefix("openidd_ledger_fsync_duration_seconds_bucket{file=\"ledger\"") {
                    let parts = line.split(separator: "\"")
                    if parts.count >= 4, let count = Int(line.split(separator: " ").last ?? "") {
                        buckets[String(parts[3])] = count
                    }
                }
                let all = buckets["+Inf"] ?? 0
                print(
                    "    ledger fdatasyncs: \(all); over 10 ms: \(all - (buckets["0.01"] ?? all)), over 100 ms: \(all - (buckets["0.1"] ?? all))"
                )
            }
        }
        let callbacks = wrkFigures(callbacksOutput)
        let openiddMicroseconds =
            Double(cpuTicks(current.process!.processIdentifier) - openiddTicksBefore) * 1e4
            / max(callbacks.rate * seconds, 1)
        let health = current.health() ?? [:]
        bound = health["bindings"] as? Int ?? 0
        let syncs = (health["ledgerSyncs"] as? Int ?? 0) - syncsBefore
        print(
            String(
                format: "  nginx static return 200      %8.0f req/s  p99 %6.2f ms", nginxStatic.rate,
                nginxStatic.p99))
        print(
            String(
                format:
                    "  durable callbacks (MD5)      %8.0f req/s  p99 %6.2f ms  = %.0f%% of nginx; %d bound, %.1f fsyncs/1000",
                callbacks.rate, callbacks.p99, 100 * callbacks.rate / max(nginxStatic.rate, 1), bound,
                Double(syncs) * 1000 / Double(max(bound, 1))))
        print(
            String(
                format:
                    "    CPU per request: nginx %.1f µs, openidd %.1f µs (all threads, user + system, fsync included)",
                nginxMicroseconds, openiddMicroseconds))
        if Double(bound) < callbacks.rate * seconds * 0.95 {
            print(
                "    (only \(bound) distinct serialNos were bound: raise --count so every callback does the full work)"
            )
        }
        instance = current
        ratios.append(callbacks.rate / max(nginxStatic.rate, 1))
        p99s.append(callbacks.p99)
    }
    if rounds > 1 {
        let sortedRatios = ratios.sorted()
        print(
            String(
                format:
                    "  median of %d rounds: callbacks = %.0f%% of nginx (%.0f–%.0f%%), p99 %.2f ms (%.2f–%.2f)",
                rounds, 100 * sortedRatios[rounds / 2], 100 * sortedRatios.first!, 100 * sortedRatios.last!,
                p99s.sorted()[rounds / 2], p99s.min()!, p99s.max()!))
    }
    let instanceForLookups = instance!

    // --only callbacks: stop here (a quick loop while working on the callback path).
    if options["only"] == "callbacks" {
        instanceForLookups.stop()
        return
    }

    // 2. IPC lookups: the same closed-loop client, over a Unix socket, against nginx and openidd (wrk
    // cannot speak to a Unix socket).
    let socket = instanceForLookups.socket
    let boundCount = bound
    let nginxSocket = nginxDirectory + "/nginx.sock"
    let nginxClient = closedLoop(
        seconds: seconds, connections: 64, connect: { try! Socket.connectUnix(path: nginxSocket) },
        request: { _ in Array("GET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8) })
    let lookups = closedLoop(
        seconds: seconds, connections: 64, connect: { try! Socket.connectUnix(path: socket) },
        request: { index in
            Array(
                "GET /v1/bindings?userId=user-\(index % max(boundCount, 1)) HTTP/1.1\r\nHost: a\r\n\r\n".utf8)
        })
    print(String(format: "  nginx static, Unix socket (same client) %8.0f req/s", nginxClient))
    print(
        String(
            format: "  IPC lookups by userId        %8.0f req/s  = %.0f%% of nginx", lookups,
            100 * lookups / max(nginxClient, 1)))
    instanceForLookups.stop()

    // 3. Auth links with SHA256-RSA against a platform that answers at once (nginx).
    var rsa = Instance()
    let key = try! RSAPrivateKey.generate(bits: 2048)
    try! key.pkcs8PEM().write(toFile: rsa.directory + "/merchant.pem", atomically: true, encoding: .utf8)
    chmod(rsa.directory + "/merchant.pem", 0o600)
    try! key.publicKey.spkiPEM().write(
        toFile: rsa.directory + "/platform.pem", atomically: true, encoding: .utf8)
    var config = try! String(contentsOfFile: rsa.directory + "/config.json", encoding: .utf8)
    config = config.replacingOccurrences(
        of: "\"baseUrl\": \"http://127.0.0.1:9\"", with: "\"baseUrl\": \"http://127.0.0.1:\(nginxPort)\""
    )
    .replacingOccurrences(
        of: "\"signType\": \"MD5\", \"md5KeyFile\": \"md5.key\"",
        with:
            "\"signType\": \"SHA256-RSA\", \"privateKeyFile\": \"merchant.pem\", \"platformPublicKeyFile\": \"platform.pem\""
    )
    try! config.write(toFile: rsa.directory + "/config.json", atomically: true, encoding: .utf8)
    _ = rsa.start()
    let rsaSocket = rsa.socket
    let links = closedLoop(
        seconds: seconds, connections: 64, connect: { try! Socket.connectUnix(path: rsaSocket) },
        request: { index in
            let body = "{\"userId\":\"u-\(index)\"}"
            return Array(
                "POST /v1/auth-url HTTP/1.1\r\nHost: a\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
                    .utf8)
        })
    rsa.stop()
    let speed = shell("openssl speed -seconds 3 rsa2048 2>/dev/null | tail -1")
    let signRate = Double(speed.split(separator: " ").filter { !$0.isEmpty }.dropLast().last ?? "0") ?? 0
    print(String(format: "  openssl speed rsa2048 sign   %8.0f /s (one core)", signRate))
    print(
        String(
            format: "  auth links (SHA256-RSA)      %8.0f /s  = %.0f%% of one core's sign rate", links,
            100 * links / max(signRate, 1)))

    // 4. Idle: RSS and CPU over a quiet stretch.
    var idle = Instance()
    _ = idle.start()
    let pid = idle.process!.processIdentifier
    let before = cpuTicks(pid)
    sleep(5)
    let ticks = cpuTicks(pid) - before
    print(
        String(
            format: "  idle                         RSS %.1f MB, CPU %d ticks (1/100 s) in 5 s",
            idle.memory().rss, ticks))
    idle.stop()
}

if ["compare", "replay", "callbacks", "slowloris"].contains(mode) {
    let shown = unitEnvironment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
    print("daemon environment (the unit's): " + (shown.isEmpty ? "none" : shown.joined(separator: " ")))
}
switch mode {
case "compare": benchCompare()
case "replay": benchReplay()
case "callbacks": benchCallbacks()
case "slowloris": benchSlowloris()
default:
    print(
        "usage: openidd-bench [mode] ... [--unit-environment no] [--dir PATH (state and work files; default /tmp)]; compare [--seconds S] [--rounds N] [--only callbacks] | callbacks [--count N] [--concurrency 1,16,64] | replay [--bindings N] [--pending N] | slowloris [--count N] [--connections N]"
    )
    exit(2)
}
