import HTTPClient
import Logging
import POSIX
import Platform

#if canImport(Glibc)
    import Glibc
#endif

/// A key of the configuration file: its dotted name and the field of `Settings` it sets.
public struct SettingKey<Settings>: Sendable {
    public let name: String
    /// Whether the field holds different values in the two settings.
    public let differs: @Sendable (Settings, Settings) -> Bool

    init<Value: Equatable & Sendable>(_ name: String, _ field: KeyPath<Settings, Value> & Sendable) {
        self.name = name
        self.differs = { $0[keyPath: field] != $1[keyPath: field] }
    }
}

/// Settings that list their keys, each once.
public protocol KeyedSettings: Sendable {
    static var keys: [SettingKey<Self>] { get }
}

extension KeyedSettings {
    /// The keys whose values differ from `other`'s, in `keys` order.
    public func changedKeys(from other: Self) -> [String] {
        Self.keys.filter { $0.differs(self, other) }.map(\.name)
    }
}

/// Settings a running daemon keeps until it restarts: the listeners are bound and the storage opened
/// with them, and requests still pending were issued to the platform under this account and
/// callback URL.
public struct RestartSettings: KeyedSettings {
    public struct Callback: Sendable {
        public var listen: SocketAddress
        public var publicUrl: HTTPURL
        public var openIdField: String?
        /// Peers whose `X-Forwarded-For` is believed; exempt from `maxConnectionsPerClient`.
        public var trustedProxies: [CIDR]
        /// Connections one client address may hold on the callback port.
        public var maxConnectionsPerClient: Int
    }

    public struct IPCSocket: Sendable {
        public var path: String
        public var mode: mode_t
    }

    public var account: PlatformAccount
    public var callback: Callback
    public var ipcSocket: IPCSocket
    public var storageDirectory: String

    /// Every restart-only key and the field it sets.
    public static let keys: [SettingKey<RestartSettings>] = [
        SettingKey("platform.baseUrl", \.account.baseUrl),
        SettingKey("platform.businessId", \.account.businessId),
        SettingKey("platform.merchantId", \.account.merchantId),
        SettingKey("platform.signType", \.account.signType),
        SettingKey("platform.userIdField", \.account.userIdField),
        SettingKey("callback.listen", \.callback.listen),
        SettingKey("callback.publicUrl", \.callback.publicUrl),
        SettingKey("callback.openIdField", \.callback.openIdField),
        SettingKey("callback.trustedProxies", \.callback.trustedProxies),
        SettingKey("callback.maxConnectionsPerClient", \.callback.maxConnectionsPerClient),
        SettingKey("ipc.socketPath", \.ipcSocket.path),
        SettingKey("ipc.socketMode", \.ipcSocket.mode),
        SettingKey("storage.directory", \.storageDirectory),
    ]
}

/// Settings a reload (SIGHUP) applies to a running daemon: the key files (read again), the platform
/// timeout, the request limits, the log level and who may use the IPC socket.
public struct ReloadableSettings: KeyedSettings {
    public var privateKeyFile: String?
    public var platformPublicKeyFile: String?
    public var md5KeyFile: String?
    public var platformTimeoutSeconds: Double
    /// `ipc.allowedUsers` and `ipc.allowedGroups`, names resolved to ids when the file was read.
    public var ipcAccess: IPCAccessPolicy
    public var ttlSeconds: Int
    public var maxPending: Int
    public var logLevel: LogLevel

    /// Every reloadable key and the field it sets.
    public static let keys: [SettingKey<ReloadableSettings>] = [
        SettingKey("platform.privateKeyFile", \.privateKeyFile),
        SettingKey("platform.platformPublicKeyFile", \.platformPublicKeyFile),
        SettingKey("platform.md5KeyFile", \.md5KeyFile),
        SettingKey("platform.timeoutSeconds", \.platformTimeoutSeconds),
        SettingKey("ipc.allowedUsers", \.ipcAccess.users),
        SettingKey("ipc.allowedGroups", \.ipcAccess.groups),
        SettingKey("requests.ttlSeconds", \.ttlSeconds),
        SettingKey("requests.maxPending", \.maxPending),
        SettingKey("log.level", \.logLevel),
    ]
}
