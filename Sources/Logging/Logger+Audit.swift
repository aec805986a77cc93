extension Logger {
    /// Logs a security event as a warning, `security: MESSAGE … audit=KIND`, unless `kind` is over its
    /// rate (see `AuditLimiter`); the first line through after a flood adds `suppressed=N`. Give enough
    /// context to investigate (client, request, serialNo) but never a signature or key.
    public func security(
        _ kind: AuditKind, _ message: @autoclosure () -> String, _ fields: [(String, String)] = []
    ) {
        // Below the threshold nothing is written, so nothing is spent or counted.
        guard LogLevel.warning <= level else { return }
        guard case .log(let suppressed) = audit.decide(kind) else { return }
        var all = fields + [("audit", kind.name)]
        if suppressed > 0 { all.append(("suppressed", String(suppressed))) }
        warning("security: " + message(), all)
    }

    /// One summary line per kind whose dropped events no later line has reported yet, so the end of a
    /// flood is never silent. Called periodically.
    public func reportSuppressedSecurityEvents() {
        for (kind, suppressed) in audit.drainSuppressed() {
            warning(
                "security: events suppressed by the rate limit",
                [("audit", kind.name), ("suppressed", String(suppressed))])
        }
    }
}
