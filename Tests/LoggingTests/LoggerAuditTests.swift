import Logging
import Testing

@Suite struct LoggerAuditTests {
    private func logger(burst: Int = 2, level: LogLevel = .info) -> (Logger, MemorySink, ManualClock) {
        let sink = MemorySink()
        let clock = ManualClock()
        let logger = Logger(
            level: level, sink: sink, audit: AuditLimiter(burst: burst, perSecond: 1, now: clock.now))
        return (logger, sink, clock)
    }

    @Test func aSecurityEventIsAWarningWithItsFieldsAndKind() {
        let (logger, sink, _) = logger()
        logger.with("request", "callback-1").security(
            AuditKind("signature_invalid"), "callback signature invalid", [("signType", "MD5")])
        #expect(
            sink.lines == [
                "<4>security: callback signature invalid request=callback-1 signType=MD5 audit=signature_invalid"
            ])
    }

    @Test func aFloodIsCutToTheBurstAndTheNextLineSaysHowManyWereDropped() {
        let (logger, sink, clock) = logger(burst: 2)
        for index in 0..<50 {
            logger.with("request", "callback-\(index)").security(AuditKind("token_mismatch"), "token")
        }
        #expect(sink.lines.count == 2)
        clock.advance(seconds: 1)
        logger.security(AuditKind("token_mismatch"), "token")
        #expect(sink.lines.count == 3)
        #expect(sink.lines.last == "<4>security: token audit=token_mismatch suppressed=48")
    }

    @Test func copiesOfALoggerShareOneLimiter() {
        let (logger, sink, _) = logger(burst: 2)
        let kind = AuditKind("peer_refused")
        logger.with("request", "ipc-1").security(kind, "refused")
        logger.with("request", "ipc-2").security(kind, "refused")
        logger.with("request", "ipc-3").security(kind, "refused")
        #expect(sink.lines.count == 2)
    }

    @Test func aSummaryLineReportsWhatNoLaterLineDid() {
        let (logger, sink, _) = logger(burst: 1)
        for _ in 0..<6 { logger.security(AuditKind("serial_conflict"), "conflict") }
        logger.reportSuppressedSecurityEvents()
        logger.reportSuppressedSecurityEvents()
        #expect(
            sink.lines == [
                "<4>security: conflict audit=serial_conflict",
                "<4>security: events suppressed by the rate limit audit=serial_conflict suppressed=5",
            ])
    }

    @Test func belowTheThresholdNothingIsWrittenOrSpent() {
        let (logger, sink, _) = logger(burst: 1, level: .error)
        for _ in 0..<5 { logger.security(AuditKind("token_mismatch"), "token") }
        #expect(sink.lines.isEmpty)
        logger.setLevel(.warning)
        logger.security(AuditKind("token_mismatch"), "token")
        logger.reportSuppressedSecurityEvents()
        #expect(sink.lines == ["<4>security: token audit=token_mismatch"])
    }
}
