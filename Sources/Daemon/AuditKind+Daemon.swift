import Logging

/// The daemon's security events, each rate-limited on its own (docs/operations.md, "Audit log").
extension AuditKind {
    /// A callback whose signature does not verify.
    static let signatureInvalid = AuditKind("signature_invalid")
    /// A callback signed with a signType we hold no key for.
    static let signTypeUnconfigured = AuditKind("sign_type_unconfigured")
    /// A correctly signed callback for another businessId.
    static let businessIdMismatch = AuditKind("business_id_mismatch")
    /// A serialNo already bound to another openId (SPEC: log it as a security event).
    static let serialConflict = AuditKind("serial_conflict")
    /// A callback whose path token is not the serialNo's.
    static let tokenMismatch = AuditKind("token_mismatch")
    /// A callback whose userId is not the request's.
    static let userIdMismatch = AuditKind("user_id_mismatch")
    /// An IPC peer outside ipc.allowedUsers / ipc.allowedGroups.
    static let peerRefused = AuditKind("peer_refused")
}
