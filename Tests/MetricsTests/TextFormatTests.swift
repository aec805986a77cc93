import Testing

@testable import Metrics

@Suite struct TextFormatTests {
    @Test(arguments: ["a", "_a", "a:b", "openidd_callbacks_total", "A9_:z"])
    func validMetricNames(name: String) {
        #expect(TextFormat.isValidMetricName(name))
    }

    @Test(arguments: ["", "9a", "a-b", "a b", "a.b", "é", "__reserved"])
    func invalidMetricNames(name: String) {
        #expect(!TextFormat.isValidMetricName(name))
    }

    @Test func labelNamesHaveNoColon() {
        #expect(TextFormat.isValidLabelName("listener"))
        #expect(!TextFormat.isValidLabelName("a:b"))
        #expect(!TextFormat.isValidLabelName("__name__"))
        #expect(!TextFormat.isValidLabelName(""))
    }

    @Test func escapesOnlyWhatTheFormatNames() {
        #expect(TextFormat.escapeLabelValue(#"a\b"c"#) == #"a\\b\"c"#)
        #expect(TextFormat.escapeLabelValue("a\nb") == #"a\nb"#)
        #expect(TextFormat.escapeLabelValue("tab\tstays") == "tab\tstays")
        #expect(TextFormat.escapeHelp(#"a\b"c"#) == #"a\\b"c"#, "HELP does not escape quotes")
        #expect(TextFormat.escapeHelp("a\nb") == #"a\nb"#)
    }

    @Test func numbers() {
        #expect(TextFormat.number(0) == "0")
        #expect(TextFormat.number(1) == "1")
        #expect(TextFormat.number(2.5) == "2.5")
        #expect(TextFormat.number(0.001) == "0.001")
        #expect(TextFormat.number(1e20) == "1e+20")
        #expect(TextFormat.number(.nan) == "NaN")
        #expect(TextFormat.number(-.infinity) == "-Inf")
    }
}
