import Crypto
import Foundation
import HTTPClient
import JSON
import Logging
import POSIX
import Platform

/// What is wrong with a configuration file: every problem found, each naming the key at fault.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    /// One mistake: the dotted key at fault (nil for the file as a whole) and what is wrong with it.
    public struct Problem: Sendable, Equatable {
        public let key: String?
        public let message: String
    }

    public let path: String
    /// At least one, in the order they were found.
    public let problems: [Problem]

    public init(path: String, key: String?, message: String) {
        self.init(path: path, problems: [Problem(key: key, message: message)])
    }

    init(path: String, problems: [Problem]) {
        precondition(!problems.isEmpty, "a ConfigError names at least one problem")
        self.path = path
        self.problems = problems
    }

    /// The first problem's key.
    public var key: String? { problems[0].key }
    /// The first problem's message.
    public var message: String { problems[0].message }

    /// One line for one problem; otherwise a count, then a line for each.
    public var description: String {
        func text(_ problem: Problem) -> String {
            problem.key.map { "\($0): \(problem.message)" } ?? problem.message
        }
        guard problems.count > 1 else { return "\(path): \(text(problems[0]))" }
        return "\(path): \(problems.count) problems:\n"
            + problems.map { "  " + text($0) }.joined(separator: "\n")
    }
}

/// `/etc/openidd/config.json`, validated. Unknown keys are errors (a typo must not silently fall back
/// to a default). Relative paths are relative to the config file's directory.
///
/// The settings come in two types: `restartOnly`, which a running daemon keeps until it restarts, and
/// `reloadable`, which a reload (SIGHUP) swaps in. Each type lists its keys once (`keys`); the parser's
/// unknown-key check and reload's refusal are derived from those lists.
public struct Configuration: Sendable {
    public let path: String
    public let restartOnly: RestartSettings
    public let reloadable: ReloadableSettings
    /// `$CREDENTIALS_DIRECTORY` when the configuration was read, if systemd set it.
    public let credentialsDirectory: String?

    public static let defaultPath = "/etc/openidd/config.json"

    /// Every key the file may hold, by its dotted name (`platform.baseUrl`).
    public static let keys: [String] = RestartSettings.keys.map(\.name) + ReloadableSettings.keys.map(\.name)

    /// The keys by section, for the unknown-key check and its message.
    static let knownKeys: [String: Set<String>] = keys.reduce(into: [:]) { sections, key in
        let parts = key.split(separator: ".", maxSplits: 1)
        sections[String(parts[0]), default: []].insert(String(parts[1]))
    }

    /// `environment` supplies `CREDENTIALS_DIRECTORY` for key paths written `credential:NAME`.
    public static func load(
        path: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigError) -> Configuration {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readAll(path)
        } catch {
            throw ConfigError(path: path, key: nil, message: "cannot read the configuration file (\(error))")
        }
        return try parse(bytes, path: path, environment: environment)
    }

    public static func parse(
        _ bytes: [UInt8], path: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigError) -> Configuration {
        var reader = try Reader(bytes: bytes, path: path)
        reader.credentialsDirectory = environment["CREDENTIALS_DIRECTORY"]
        // Every key is read even after a problem, so one run reports them all; a value that could not
        // be read is nil here, and only then.
        let signTypeText = reader.check(SignType.sha256RSA.rawValue) {
            try $0.string("platform.signType", default: SignType.sha256RSA.rawValue)
        }
        let signType = SignType(rawValue: signTypeText)
        if signType == nil {
            reader.note("platform.signType", "must be \"SHA256-RSA\" or \"MD5\", not \"\(signTypeText)\"")
        }
        let baseUrl = reader.check(nil) { try $0.url("platform.baseUrl") }
        let businessId = reader.check("") { try $0.identifier("platform.businessId") }
        let merchantId = reader.check("") { try $0.identifier("platform.merchantId") }
        let privateKeyFile = reader.check(nil) { try $0.keyPath("platform.privateKeyFile") }
        let platformPublicKeyFile = reader.check(nil) { try $0.keyPath("platform.platformPublicKeyFile") }
        let md5KeyFile = reader.check(nil) { try $0.keyPath("platform.md5KeyFile") }
        let userIdField = reader.check("userId") { try $0.string("platform.userIdField", default: "userId") }
        let timeoutSeconds = reader.check(10) {
            try $0.number("platform.timeoutSeconds", default: 10, range: 0.1...120)
        }
        switch signType {
        case .sha256RSA?:
            if privateKeyFile == nil && !reader.noted("platform.privateKeyFile") {
                reader.note("platform.privateKeyFile", "is required with signType SHA256-RSA")
            }
            if platformPublicKeyFile == nil && !reader.noted("platform.platformPublicKeyFile") {
                reader.note(
                    "platform.platformPublicKeyFile",
                    "is required with signType SHA256-RSA (to verify callbacks)")
            }
        case .md5?:
            if md5KeyFile == nil && !reader.noted("platform.md5KeyFile") {
                reader.note("platform.md5KeyFile", "is required with signType MD5")
            }
        case nil: break
        }
        if !FieldName.isValid(userIdField) {
            reader.note(
                "platform.userIdField", "must be a plain field name such as \"userId\" or \"thirdAccount\"")
        }

        let listenText = reader.check("127.0.0.1:8480") {
            try $0.string("callback.listen", default: "127.0.0.1:8480")
        }
        let listen = parseListen(listenText, relativeTo: reader.directory)
        if listen == nil {
            reader.note(
                "callback.listen",
                "must be \"HOST:PORT\", \"[IPv6]:PORT\" or \"unix:/path\", not \"\(listenText)\"")
        }
        let publicUrl = reader.check(nil) { try $0.url("callback.publicUrl") }
        if let publicUrl, publicUrl.target.contains("?") {
            reader.note("callback.publicUrl", "must not have a query; the daemon appends /{token} to it")
        }
        let openIdField = reader.check(nil) { try $0.optionalString("callback.openIdField") }
        if let openIdField, !FieldName.isValid(openIdField) {
            reader.note("callback.openIdField", "must be a plain field name")
        }
        var proxies: [CIDR] = []
        let proxyTexts = reader.check([]) { try $0.stringArray("callback.trustedProxies") }
        for (index, text) in proxyTexts.enumerated() {
            guard let cidr = CIDR(text) else {
                reader.note(
                    "callback.trustedProxies[\(index)]",
                    "\"\(text)\" is not a CIDR such as 127.0.0.1/32 or ::1/128")
                continue
            }
            proxies.append(cidr)
        }
        let perClient = reader.check(64) {
            try $0.integer("callback.maxConnectionsPerClient", default: 64, range: 1...100_000)
        }

        let socketPath = reader.check("") {
            try $0.path("ipc.socketPath", default: "/run/openidd/openidd.sock")
        }
        let modeText = reader.check("0660") { try $0.string("ipc.socketMode", default: "0660") }
        let mode = modeText.count >= 3 && modeText.count <= 4 ? mode_t(modeText, radix: 8) : nil
        if mode.map({ $0 > 0o777 }) ?? true {
            reader.note("ipc.socketMode", "must be an octal string such as \"0660\"")
        }
        let access = IPCAccessPolicy(
            users: Set(
                reader.check([]) {
                    try $0.ids("ipc.allowedUsers", kind: "user", lookUp: UserDatabase.uid(ofUser:))
                }),
            groups: Set(
                reader.check([]) {
                    try $0.ids("ipc.allowedGroups", kind: "group", lookUp: UserDatabase.gid(ofGroup:))
                }))

        let storageDirectory = reader.check("") {
            try $0.path("storage.directory", default: "/var/lib/openidd")
        }
        let ttlSeconds = reader.check(0) {
            try $0.integer("requests.ttlSeconds", default: 86_400, range: 1...2_592_000)
        }
        let maxPending = reader.check(0) {
            try $0.integer("requests.maxPending", default: 100_000, range: 1...10_000_000)
        }
        let logLevel = reader.check(.info) { try $0.logLevel("log.level") }
        reader.noteUnknownKeys()
        guard reader.problems.isEmpty, let signType, let baseUrl, let listen, let publicUrl, let mode else {
            throw ConfigError(path: path, problems: reader.problems)
        }
        let restartOnly = RestartSettings(
            account: PlatformAccount(
                baseUrl: baseUrl.description, businessId: businessId, merchantId: merchantId,
                signType: signType, userIdField: userIdField),
            callback: RestartSettings.Callback(
                listen: listen, publicUrl: publicUrl, openIdField: openIdField, trustedProxies: proxies,
                maxConnectionsPerClient: perClient),
            ipcSocket: RestartSettings.IPCSocket(path: socketPath, mode: mode),
            storageDirectory: storageDirectory)
        let reloadable = ReloadableSettings(
            privateKeyFile: privateKeyFile, platformPublicKeyFile: platformPublicKeyFile,
            md5KeyFile: md5KeyFile, platformTimeoutSeconds: timeoutSeconds, ipcAccess: access,
            ttlSeconds: ttlSeconds, maxPending: maxPending, logLevel: logLevel)
        return Configuration(
            path: path, restartOnly: restartOnly, reloadable: reloadable,
            credentialsDirectory: reader.credentialsDirectory)
    }

    /// Settings that work but leave a door open, each a key and a sentence for a warning at start-up
    /// (after storage is opened, so the directory exists).
    public func risks() -> [(key: String, message: String)] {
        var risks: [(key: String, message: String)] = []
        let baseUrl = restartOnly.account.baseUrl
        if let url = HTTPURL(baseUrl), !url.isTLS, !Self.isLoopback(host: url.host) {
            risks.append(
                (
                    "platform.baseUrl",
                    "\(baseUrl) is plain http to another host: the platform's answers can be read and changed on the way; use https://"
                ))
        }
        let socketMode = restartOnly.ipcSocket.mode
        if socketMode & 0o007 != 0, reloadable.ipcAccess.isOpen {
            risks.append(
                (
                    "ipc.socketMode",
                    "\(String(socketMode, radix: 8)) lets every local user use the IPC API, and neither ipc.allowedUsers nor ipc.allowedGroups is set; use 0660 with a group, or list who may"
                ))
        }
        let storageDirectory = restartOnly.storageDirectory
        if let mode = try? FileSystem.permissions(storageDirectory), mode & 0o022 != 0 {
            risks.append(
                (
                    "storage.directory",
                    "\(storageDirectory) is writable by group or others (mode \(String(mode, radix: 8))): they could replace the ledger; run chmod 700 on it"
                ))
        }
        return risks
    }

    /// `localhost`, 127.0.0.0/8 or ::1.
    static func isLoopback(host: String) -> Bool {
        if host == "localhost" || host == "::1" { return true }
        guard let address = CIDR.parseAddress(host), address.count == 4 else { return false }
        return address[0] == 127
    }

    /// Reads and parses the key files the sign type needs. Errors name the key and the file, never the
    /// key's bytes; each file is checked even when another is wrong, so one run reports them all.
    public func loadKeys() throws(ConfigError) -> SigningKeys {
        var keys = SigningKeys()
        var problems: [ConfigError.Problem] = []
        do { keys.merchantPrivateKey = try merchantPrivateKey() } catch { problems += error.problems }
        do { keys.platformPublicKey = try platformPublicKey() } catch { problems += error.problems }
        do { keys.md5Key = try md5Key() } catch { problems += error.problems }
        guard problems.isEmpty else { throw ConfigError(path: path, problems: problems) }
        return keys
    }

    private func merchantPrivateKey() throws(ConfigError) -> RSAPrivateKey? {
        guard let file = reloadable.privateKeyFile else { return nil }
        let text = try readKeyFile(file, key: "platform.privateKeyFile", secret: true)
        do {
            return try RSAPrivateKey(text: text)
        } catch {
            throw ConfigError(path: path, key: "platform.privateKeyFile", message: "\(file): \(error)")
        }
    }

    private func platformPublicKey() throws(ConfigError) -> RSAPublicKey? {
        guard let file = reloadable.platformPublicKeyFile else { return nil }
        let text = try readKeyFile(file, key: "platform.platformPublicKeyFile")
        do {
            return try RSAPublicKey(text: text)
        } catch {
            throw ConfigError(path: path, key: "platform.platformPublicKeyFile", message: "\(file): \(error)")
        }
    }

    private func md5Key() throws(ConfigError) -> [UInt8]? {
        guard let file = reloadable.md5KeyFile else { return nil }
        // Surrounding whitespace (a trailing newline from an editor) is not part of the key.
        let text = try readKeyFile(file, key: "platform.md5KeyFile", secret: true).trimmingCharacters(
            in: .whitespacesAndNewlines)
        guard !text.isEmpty else {
            throw ConfigError(path: path, key: "platform.md5KeyFile", message: "\(file) is empty")
        }
        return Array(text.utf8)
    }

    /// A secret key (the merchant's private key, the MD5 key) that others on the machine can read is
    /// refused: the mistake is easy to make and costly to leave.
    private func readKeyFile(_ file: String, key: String, secret: Bool = false) throws(ConfigError) -> String
    {
        // systemd's credential copies are private to the service already; it grants the service user
        // read access with an ACL, which makes them look group-readable (0440) to stat(2).
        let passedBySystemd = credentialsDirectory.map { !$0.isEmpty && file.hasPrefix($0 + "/") } ?? false
        if secret, !passedBySystemd, let mode = try? FileSystem.permissions(file), mode & 0o077 != 0 {
            throw ConfigError(
                path: path, key: key,
                message:
                    "\(file) is readable by group or others (mode \(String(mode, radix: 8))); run chmod 600 on it, owned by the daemon's user, or pass it with systemd's LoadCredential="
            )
        }
        do {
            return String(decoding: try FileSystem.readAll(file), as: UTF8.self)
        } catch {
            throw ConfigError(path: path, key: key, message: "cannot read \(file) (\(error))")
        }
    }

    static func parseListen(_ text: String, relativeTo directory: String) -> SocketAddress? {
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            guard !path.isEmpty else { return nil }
            return .unix(path: path.hasPrefix("/") ? path : directory + "/" + path)
        }
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else {
            return nil
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
            guard CIDR.parseAddress(host)?.count == 16 else { return nil }
        } else {
            guard CIDR.parseAddress(host)?.count == 4 else { return nil }
        }
        return .inet(host: host, port: port)
    }
}

/// A JSON field name the operator may choose (`userIdField`, `openIdField`).
enum FieldName {
    static func isValid(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 64
            && text.unicodeScalars.allSatisfy {
                $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_")
            }
    }
}

/// Walks the parsed JSON and remembers which keys were read, so the rest can be reported as unknown.
private struct Reader {
    let path: String
    let directory: String
    let root: JSONValue
    var seen: Set<String> = []
    /// What is wrong so far, in the order found.
    var problems: [ConfigError.Problem] = []

    var credentialsDirectory: String?

    init(bytes: [UInt8], path: String) throws(ConfigError) {
        self.path = path
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        self.directory = FileSystem.directoryName(of: absolute)
        let parsed: JSONValue
        do {
            parsed = try JSONParser.parse(bytes)
        } catch {
            let (line, column) = Self.lineAndColumn(of: error.offset, in: bytes)
            if case .duplicateKey = error.reason {
                throw ConfigError(
                    path: path, key: error.dottedPath,
                    message: "is given twice; keep one (a repeated key is refused, not overridden)")
            }
            let place = error.path.isEmpty ? "" : " in \(error.dottedPath)"
            throw ConfigError(
                path: path, key: nil,
                message: "is not valid JSON: \(error.problem)\(place), at line \(line), column \(column)")
        }
        guard case .object(let sections) = parsed else {
            throw ConfigError(path: path, key: nil, message: "must be a JSON object of sections")
        }
        self.root = parsed
        for (section, value) in sections {
            guard Configuration.knownKeys[section] != nil else {
                note(
                    section,
                    "unknown section; known sections are \(Configuration.knownKeys.keys.sorted().joined(separator: ", "))"
                )
                continue
            }
            guard case .object = value else {
                note(section, "must be an object")
                continue
            }
        }
    }

    /// Runs one read; if it throws, its problem is noted and `fallback` stands in for the value, so
    /// the keys after it are checked too.
    mutating func check<T>(_ fallback: T, _ read: (inout Reader) throws -> T) -> T {
        do {
            return try read(&self)
        } catch let error as ConfigError {
            problems += error.problems
        } catch {
            // The reads throw only ConfigError; anything else still stops the file being accepted.
            problems.append(ConfigError.Problem(key: nil, message: "\(error)"))
        }
        return fallback
    }

    mutating func note(_ key: String, _ message: String) {
        problems.append(ConfigError.Problem(key: key, message: message))
    }

    /// Whether a problem with `key` has been noted already.
    func noted(_ key: String) -> Bool { problems.contains { $0.key == key } }

    /// A byte offset as the 1-based line and column (in bytes) an editor shows.
    static func lineAndColumn(of offset: Int, in bytes: [UInt8]) -> (Int, Int) {
        let before = bytes[..<min(offset, bytes.count)]
        let line = before.count { $0 == 0x0A } + 1
        let column = offset - (before.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0) + 1
        return (line, column)
    }

    func error(_ key: String, _ message: String) -> ConfigError {
        ConfigError(path: path, key: key, message: message)
    }

    /// The value at a dotted key; nil when it is absent or `null`.
    private mutating func value(_ key: String) -> JSONValue? {
        assert(Configuration.keys.contains(key), "\(key) is read but is in neither settings type's keys")
        seen.insert(key)
        let parts = key.split(separator: ".", maxSplits: 1).map(String.init)
        let value = root[parts[0]]?[parts[1]]
        return value == .null ? nil : value
    }

    mutating func optionalString(_ key: String) throws(ConfigError) -> String? {
        guard let raw = value(key) else { return nil }
        guard case .string(let text) = raw else { throw error(key, "must be a string") }
        return text
    }

    mutating func string(_ key: String, default fallback: String) throws(ConfigError) -> String {
        try optionalString(key) ?? fallback
    }

    mutating func nonEmptyString(_ key: String) throws(ConfigError) -> String {
        guard let text = try optionalString(key) else { throw error(key, "is required") }
        guard !text.isEmpty, text.trimmingCharacters(in: .whitespaces) == text else {
            throw error(key, "must be a non-empty string without surrounding spaces")
        }
        return text
    }

    /// An id the platform's signing string carries (`businessId`, `merchantId`): a control character
    /// (a CR or LF pasted along with it) would make every signature fail, so it is refused here.
    mutating func identifier(_ key: String) throws(ConfigError) -> String {
        let text = try nonEmptyString(key)
        guard !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw error(key, "must not contain control characters (such as a line break)")
        }
        return text
    }

    mutating func url(_ key: String) throws(ConfigError) -> HTTPURL {
        let text = try nonEmptyString(key)
        guard let url = HTTPURL(text) else {
            throw error(key, "must be an http:// or https:// URL, not \"\(text)\"")
        }
        return url
    }

    mutating func resolve(_ text: String) -> String {
        text.hasPrefix("/") ? text : directory + "/" + text
    }

    /// A key file: a path, or `credential:NAME` for a file systemd passes with `LoadCredential=NAME:…`
    /// (found in `$CREDENTIALS_DIRECTORY`).
    mutating func keyPath(_ key: String) throws(ConfigError) -> String? {
        guard let text = try optionalString(key) else { return nil }
        guard text.hasPrefix("credential:") else { return try optionalPathValue(key, text) }
        let name = String(text.dropFirst("credential:".count))
        guard !name.isEmpty, !name.contains("/") else {
            throw error(key, "credential:NAME needs a plain NAME")
        }
        guard let directory = credentialsDirectory, !directory.isEmpty else {
            throw error(
                key,
                "\(text) needs $CREDENTIALS_DIRECTORY, which systemd sets when the unit has LoadCredential=\(name):/path/to/file"
            )
        }
        return directory + "/" + name
    }

    mutating func logLevel(_ key: String) throws(ConfigError) -> LogLevel {
        let text = try string(key, default: "info")
        guard let level = LogLevel(name: text) else {
            throw error(key, "must be one of error, warning, notice, info, debug")
        }
        return level
    }

    private mutating func optionalPathValue(_ key: String, _ text: String) throws(ConfigError) -> String? {
        guard !text.isEmpty else { throw error(key, "must not be empty") }
        return resolve(text)
    }

    mutating func optionalPath(_ key: String) throws(ConfigError) -> String? {
        guard let text = try optionalString(key) else { return nil }
        guard !text.isEmpty else { throw error(key, "must not be empty") }
        return resolve(text)
    }

    mutating func path(_ key: String, default fallback: String) throws(ConfigError) -> String {
        try optionalPath(key) ?? fallback
    }

    mutating func number(_ key: String, default fallback: Double, range: ClosedRange<Double>)
        throws(ConfigError) -> Double
    {
        let value: Double
        switch self.value(key) {
        case nil: return fallback
        case .integer(let integer)?: value = Double(integer)
        case .number(let number)?: value = number
        default: throw error(key, "must be a number")
        }
        guard range.contains(value) else {
            throw error(key, "must be between \(format(range.lowerBound)) and \(format(range.upperBound))")
        }
        return value
    }

    /// A whole number written without a fraction or an exponent (`1.5` and `1.0` are refused: a count
    /// or a number of seconds the daemon would silently round is a misreading waiting to happen).
    mutating func integer(_ key: String, default fallback: Int, range: ClosedRange<Int>) throws(ConfigError)
        -> Int
    {
        guard let raw = value(key) else { return fallback }
        guard case .integer(let integer) = raw, let value = Int(exactly: integer), range.contains(value)
        else {
            throw error(key, "must be an integer between \(range.lowerBound) and \(range.upperBound)")
        }
        return value
    }

    mutating func stringArray(_ key: String) throws(ConfigError) -> [String] {
        guard let raw = value(key) else { return [] }
        let wrongType = error(key, "must be an array of strings")
        guard case .array(let items) = raw else { throw wrongType }
        var strings: [String] = []
        for item in items {
            guard case .string(let text) = item else { throw wrongType }
            strings.append(text)
        }
        return strings
    }

    /// A list of users or groups, each a name (looked up now) or a numeric id (a JSON number or a string
    /// of digits, as systemd's `User=` reads one). Unknown names are errors: a typo must not lock out
    /// an app, or leave the list shorter than the operator thinks.
    mutating func ids(_ key: String, kind: String, lookUp: (String) throws -> UInt32?) throws(ConfigError)
        -> [UInt32]
    {
        guard let raw = value(key) else { return [] }
        let wrongType = error(
            key, "must be an array of \(kind) names or numeric ids, such as [\"www-data\", 1001]")
        guard case .array(let array) = raw else { throw wrongType }
        var ids: [UInt32] = []
        for (index, element) in array.enumerated() {
            let entry = "\(key)[\(index)]"
            // (uid_t)-1 means "no id" to the kernel (setresuid(2)), so it names nobody.
            let valid = 0...(UInt32.max - 1)
            switch element {
            case .integer(let number):
                guard let id = UInt32(exactly: number), valid.contains(id) else {
                    throw error(entry, "\(number) is not a \(kind) id (0 to \(valid.upperBound))")
                }
                ids.append(id)
                continue
            case .number(let number):
                throw error(entry, "\(number) is not a \(kind) id (0 to \(valid.upperBound))")
            case .string: break
            default: throw wrongType
            }
            guard case .string(let text) = element else { throw wrongType }
            if !text.isEmpty, text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber) {
                guard let id = UInt32(text), valid.contains(id) else {
                    throw error(entry, "\"\(text)\" is not a \(kind) id (0 to \(valid.upperBound))")
                }
                ids.append(id)
                continue
            }
            guard !text.isEmpty else { throw error(entry, "must not be empty") }
            let found: UInt32?
            do {
                found = try lookUp(text)
            } catch {
                throw self.error(entry, "cannot look up the \(kind) \"\(text)\" (\(error))")
            }
            guard let found else {
                throw error(entry, "there is no \(kind) named \"\(text)\" on this system")
            }
            ids.append(found)
        }
        return ids
    }

    mutating func noteUnknownKeys() {
        guard case .object(let sections) = root else { return }
        for (section, value) in sections {
            guard case .object(let fields) = value else { continue }
            for key in fields.map(\.0).sorted() where !seen.contains("\(section).\(key)") {
                let known = Configuration.knownKeys[section, default: []].sorted().joined(separator: ", ")
                note("\(section).\(key)", "unknown key; \(section) accepts \(known)")
            }
        }
    }

    private func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
