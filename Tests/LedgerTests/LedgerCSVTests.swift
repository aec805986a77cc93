import Ledger
import Testing

private func csvRow(_ line: String) throws -> String {
    var output: [UInt8] = []
    LedgerCSV.appendRow(try fields(line), to: &output)
    return text(output)
}

@Suite struct LedgerCSVTests {
    @Test func headerIsSPECsFieldOrder() {
        #expect(text(LedgerCSV.header) == "serialNo,userId,openId,merchantId,businessId,boundAt\r\n")
    }

    @Test func plainRowIsBareAndEndsWithCRLF() throws {
        #expect(
            try csvRow(text(LedgerLine.encode(makeBinding())).withoutNewline())
                == "s-1,u-42,open-1,eb1b,754e0c5d,2026-11-26T15:47:21.123Z\r\n")
    }

    @Test(arguments: [
        ("a,b", #""a,b""#),
        (#"say "hi""#, #""say ""hi""""#),
        (#"""#, #""""""#),
        ("line\nbreak", "\"line\nbreak\""),
        ("carriage\rreturn", "\"carriage\rreturn\""),
        ("=1+1", "=1+1"),
        ("+SUM(A1)", "+SUM(A1)"),
        ("-2", "-2"),
        ("@x", "@x"),
        (" padded ", " padded "),
        ("用户;'42'", "用户;'42'"),
    ])
    func userIdIsQuotedOnlyWhenRFC4180NeedsItAndNeverAltered(userId: String, field: String) throws {
        let line = text(LedgerLine.encode(makeBinding(userId: userId))).withoutNewline()
        #expect(try csvRow(line) == "s-1,\(field),open-1,eb1b,754e0c5d,2026-11-26T15:47:21.123Z\r\n")
    }

    @Test func laterKeysAreLeftOutAndOrderFollowsSPEC() throws {
        let line =
            #"{"v":2,"boundAt":"2026-11-26T15:47:21.123Z","openId":"o","userId":"u\u00e9","serialNo":"s","businessId":"b","merchantId":"m","note":"x,y"}"#
        #expect(try csvRow(line) == "s,ué,o,m,b,2026-11-26T15:47:21.123Z\r\n")
    }
}
