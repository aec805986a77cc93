import COpenSSL

/// Compares in time independent of where the bytes differ (CRYPTO_memcmp), so a caller checking a
/// signature or token leaks no prefix through timing. Lengths are public; a mismatch returns false.
public func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    guard !a.isEmpty else { return true }
    return a.withUnsafeBytes { left in
        b.withUnsafeBytes { right in
            CRYPTO_memcmp(left.baseAddress, right.baseAddress, left.count) == 0
        }
    }
}

/// The same comparison over two buffers (checks that keep both sides on the stack).
public func constantTimeEquals(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
    guard a.count == b.count else { return false }
    guard a.count > 0 else { return true }
    return CRYPTO_memcmp(a.baseAddress, b.baseAddress, a.count) == 0
}

/// The same comparison over two strings' UTF-8, without copying native strings' bytes out (a path
/// token is compared on every callback).
public func constantTimeEquals(_ a: String, _ b: String) -> Bool {
    var a = a
    var b = b
    return a.withUTF8 { left in
        b.withUTF8 { right in
            guard left.count == right.count else { return false }
            guard !left.isEmpty else { return true }
            return CRYPTO_memcmp(left.baseAddress, right.baseAddress, left.count) == 0
        }
    }
}
