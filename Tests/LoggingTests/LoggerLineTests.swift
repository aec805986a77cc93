import Logging
import Testing

/// The line format journald and an ops engineer's grep rely on: `<priority>message key=value ...`, with
/// values quoted only when they must be, so a hostile value can never forge a second line.
@Suite struct LoggerLineTests {
    func line(_ build: (Logger) -> Void) -> String? {
        let sink = MemorySink()
        build(Logger(level: .info, sink: sink))
        return sink.lines.last
    }

    @Test func priorityMessageContextThenFields() {
        let text = line {
            $0.with("request", "r-1").with("client", "10.0.0.1").info("bound", [("userId", "u-42")])
        }
        #expect(text == "<6>bound request=r-1 client=10.0.0.1 userId=u-42")
        #expect(line { $0.error("disk") } == "<3>disk")
        #expect(line { $0.warning("w", [("a", "1"), ("b", "2")]) } == "<4>w a=1 b=2")
    }

    @Test func severalContextFieldsAtOnceKeepTheirOrder() {
        let sink = MemorySink()
        let base = Logger(level: .info, sink: sink).with("listener", "callback")
        let derived = base.with(("request", "r-1"), ("client", "10.0.0.1"))
        derived.info("bound", [("userId", "u-42")])
        base.info("m")
        base.with().info("n")
        #expect(
            sink.lines == [
                "<6>bound listener=callback request=r-1 client=10.0.0.1 userId=u-42",
                "<6>m listener=callback", "<6>n listener=callback",
            ])
    }

    @Test func plainValuesStayBareIncludingNonASCII() {
        #expect(line { $0.info("m", [("k", "验证-ok_1/2:3")]) } == "<6>m k=验证-ok_1/2:3")
    }

    @Test(arguments: [
        ("", #""""#),
        ("has space", #""has space""#),
        (#"a"b"#, #""a\"b""#),
        ("line\nforged=1", #""line\nforged=1""#),
        ("cr\r", #""cr\r""#),
        ("tab\t", #""tab\t""#),
        ("del\u{7F}", #""del\u{7f}""#),
        ("bell\u{07}", #""bell\u{7}""#),
        (#"back\slash x"#, #""back\\slash x""#),
    ])
    func valuesThatNeedItAreQuotedAndEscaped(value: String, rendered: String) {
        let text = line { $0.info("m", [("k", value)]) }
        #expect(text == "<6>m k=\(rendered)")
        #expect(text?.contains("\n") == false)
    }

    @Test func linesBelowTheLevelAreNotBuilt() {
        var built = false
        let sink = MemorySink()
        let logger = Logger(level: .info, sink: sink)
        logger.debug(
            {
                built = true; return "expensive"
            }())
        #expect(!built)
        #expect(sink.lines.isEmpty)
        logger.setLevel(.debug)
        logger.debug("now")
        #expect(sink.lines == ["<7>now"])
    }
}
