import POSIX

#if canImport(Glibc)
    import Glibc
#endif

/// An address block such as `10.0.0.0/8` or `::1/128`: the proxies whose X-Forwarded-For is believed.
public struct CIDR: Sendable, Equatable, CustomStringConvertible {
    public let network: [UInt8]
    public let prefixLength: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = CIDR.parseAddress(String(parts[0])) else { return nil }
        let maximum = address.count * 8
        let length: Int
        if parts.count == 2 {
            guard let value = Int(parts[1]), (0...maximum).contains(value), parts[1].allSatisfy(\.isASCII)
            else {
                return nil
            }
            length = value
        } else {
            length = maximum
        }
        network = address
        prefixLength = length
    }

    public func contains(_ host: String) -> Bool {
        guard let address = CIDR.parseAddress(host), address.count == network.count else { return false }
        var remaining = prefixLength
        for index in 0..<address.count where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if address[index] & mask != network[index] & mask { return false }
            remaining -= bits
        }
        return true
    }

    public var description: String {
        var buffer = [CChar](repeating: 0, count: 64)
        let family = network.count == 4 ? AF_INET : AF_INET6
        _ = network.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            + "/\(prefixLength)"
    }

    /// 4 bytes for IPv4, 16 for IPv6, nil for anything else.
    public static func parseAddress(_ text: String) -> [UInt8]? { IPAddress.bytes(text) }
}
