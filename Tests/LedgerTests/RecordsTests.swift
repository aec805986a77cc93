import Correlation
import JSON
import Ledger
import Testing

@Suite struct LedgerLineTests {
    @Test func encodeIsExactlySPECsLine() {
        #expect(
            text(LedgerLine.encode(makeBinding()))
                == #"{"serialNo":"s-1","userId":"u-42","openId":"open-1","merchantId":"eb1b","businessId":"754e0c5d","boundAt":"2026-11-26T15:47:21.123Z"}"#
                + "\n")
    }

    @Test func encodeEscapesAndEndsWithOneNewline() {
        let line = LedgerLine.encode(makeBinding(userId: "a\"b\nc/验"))
        #expect(text(line).contains(#""userId":"a\"b\nc/验""#))
        #expect(line.last == 0x0A)
        #expect(line.filter { $0 == 0x0A }.count == 1)
    }

    @Test(arguments: ["u-42", "a\"b\\c", "tab\there", "nul\u{0}del\u{7F}", "用户/\r\n", ""])
    func encodeWritesWhatTheGeneralJSONEncoderWrites(userId: String) {
        let binding = makeBinding(userId: userId)
        var expected = JSONValue.object([
            ("serialNo", .string(binding.serialNo)), ("userId", .string(binding.userId)),
            ("openId", .string(binding.openId)), ("merchantId", .string(binding.merchantId)),
            ("businessId", .string(binding.businessId)), ("boundAt", .string("2026-11-26T15:47:21.123Z")),
        ]).encoded()
        expected.append(0x0A)
        #expect(LedgerLine.encode(binding) == expected)
    }

    @Test func roundTripsThroughReplay() throws {
        for binding in [makeBinding(), makeBinding(userId: "用户 \"42\"\t", openId: "O_-9", boundAt: 0)] {
            var registry = Registry()
            var scratch = ReplayScratch()
            try Array(LedgerLine.encode(binding).dropLast()).withUnsafeBufferPointer {
                try LedgerLine.replay($0, into: &registry, scratch: &scratch)
            }
            registry.finishRestore()
            #expect(registry.latestBinding(userId: binding.userId) == binding)
        }
    }
}

@Suite struct JournalLineTests {
    @Test func pendingRoundTrips() throws {
        let entry = JournalLine.Entry.pending(makeRequest())
        let line = JournalLine.encode(entry)
        #expect(
            text(line)
                == #"{"op":"pending","serialNo":"s-1","userId":"u-42","token":"tok","callbackUrl":"https://m.example/cb/tok","createdAt":1795708040123,"expiresAt":1795794441123}"#
                + "\n")
        #expect(try decodeJournal(Array(line.dropLast())) == entry)
    }

    @Test func failedRoundTrips() throws {
        let line = JournalLine.encode(.failed(serialNo: "s-9"))
        #expect(text(line) == #"{"op":"failed","serialNo":"s-9"}"# + "\n")
        #expect(try decodeJournal(Array(line.dropLast())) == .failed(serialNo: "s-9"))
    }

    @Test(arguments: [
        #"{"op":"bound","serialNo":"s"}"#, #"{"serialNo":"s"}"#, #"{"op":1,"serialNo":"s"}"#,
        #"{"op":"failed"}"#,
        #"{"op":"pending","serialNo":"s","userId":"u","token":"t","callbackUrl":"c","createdAt":"1","expiresAt":2}"#,
        #"{"op":"pending","serialNo":"s","userId":"u","token":"t","callbackUrl":"c","createdAt":1}"#,
        #"{"op":"pending","serialNo":"s","userId":"u","callbackUrl":"c","createdAt":1,"expiresAt":2}"#,
    ])
    func decodeRejectsIncompleteEntries(json: String) throws {
        #expect(throws: FlatJSON.DecodeError.self) { try decodeJournal(Array(json.utf8)) }
    }

    func decodeJournal(_ line: [UInt8]) throws -> JournalLine.Entry {
        try line.withUnsafeBufferPointer { try JournalLine.decode($0) }
    }
}

@Suite struct LedgerReplayLineTests {
    func replayed(_ text: String) throws -> Registry {
        var registry = Registry()
        var scratch = ReplayScratch()
        try Array(text.utf8).withUnsafeBufferPointer {
            try LedgerLine.replay($0, into: &registry, scratch: &scratch)
        }
        registry.finishRestore()
        return registry
    }

    @Test func replayReadsFieldsInAnyOrderAndIgnoresUnknownKeys() throws {
        let lines = [
            (
                #"{"serialNo":"s-1","userId":"u-42","openId":"o-1","merchantId":"m","businessId":"b","boundAt":"2026-11-26T15:47:21.123Z"}"#,
                makeBinding(openId: "o-1", merchantId: "m", businessId: "b")
            ),
            (
                #"{"boundAt":"2026-11-26T15:47:21.123Z","businessId":"b","merchantId":"m","openId":"o-1","userId":"\u7528\u6237 \"q\"","serialNo":"s-2","extra":7}"#,
                makeBinding(
                    serialNo: "s-2", userId: "用户 \"q\"", openId: "o-1", merchantId: "m", businessId: "b")
            ),
            (
                #"{"v":2,"serialNo":"s-1","userId":"u-42","openId":"open-1","merchantId":"eb1b","businessId":"754e0c5d","boundAt":"2026-11-26T15:47:21.123Z","note":"later"}"#,
                makeBinding()
            ),
        ]
        for (line, expected) in lines {
            let registry = try replayed(line)
            #expect(registry.bindingCount == 1)
            #expect(registry.latestBinding(userId: expected.userId) == expected)
        }
    }

    @Test(arguments: [
        #"{"serialNo":"s","userId":"u","openId":"o","merchantId":"m","businessId":"b"}"#,
        #"{"serialNo":"s","serialNo":"t","userId":"u","openId":"o","merchantId":"m","businessId":"b","boundAt":"2026-11-26T15:47:21.123Z"}"#,
        #"{"serialNo":"s","userId":"u","openId":"o","merchantId":"m","businessId":"b","boundAt":"yesterday"}"#,
        #"{"serialNo":"s","userId":"u","openId":"o","merchantId":"m","businessId":"b","boundAt":"2026-11-26T15:47:21.123Z""#,
    ])
    func badLinesAreRejected(line: String) {
        #expect(throws: (any Error).self) { try replayed(line) }
    }

    @Test func duplicateSerialNoLinesKeepTheFirstAndIndexCorrectly() throws {
        var registry = Registry()
        var scratch = ReplayScratch()
        for (serial, user, open) in [
            ("s-1", "u-1", "o-1"), ("s-2", "u-2", "o-2"), ("s-1", "u-1", "o-9"), ("s-3", "u-1", "o-2"),
        ] {
            let line =
                #"{"serialNo":"\#(serial)","userId":"\#(user)","openId":"\#(open)","merchantId":"m","businessId":"b","boundAt":"2026-11-26T15:47:21.123Z"}"#
            try Array(line.utf8).withUnsafeBufferPointer {
                try LedgerLine.replay($0, into: &registry, scratch: &scratch)
            }
        }
        registry.finishRestore()
        #expect(registry.bindingCount == 3)
        #expect(registry.bindings(openId: "o-9").isEmpty)
        #expect(registry.bindings(openId: "o-2").map(\.serialNo) == ["s-2", "s-3"])
        #expect(registry.latestBinding(userId: "u-1")?.serialNo == "s-3")
        #expect(registry.status(serialNo: "s-1", now: 0)?.openId == "o-1")
    }

    @Test func merchantAndBusinessIdsChangingBetweenLinesAreKept() throws {
        var registry = Registry()
        var scratch = ReplayScratch()
        for (serial, merchant) in [("s-1", "m-1"), ("s-2", "m-2"), ("s-3", "m-1")] {
            let line =
                #"{"serialNo":"\#(serial)","userId":"\#(serial)","openId":"o","merchantId":"\#(merchant)","businessId":"b","boundAt":"2026-11-26T15:47:21.123Z"}"#
            try Array(line.utf8).withUnsafeBufferPointer {
                try LedgerLine.replay($0, into: &registry, scratch: &scratch)
            }
        }
        registry.finishRestore()
        #expect(registry.bindings(openId: "o").map(\.merchantId) == ["m-1", "m-2", "m-1"])
    }
}

@Suite struct LedgerFieldsTests {
    func strings(_ fields: LedgerFields) -> [String] { fields.values.map(text) }

    @Test func fieldsComeInSPECsOrderWithEscapesUndone() throws {
        let decoded = try fields(
            #"{"boundAt":"2026-11-26T15:47:21.123Z","openId":"o-1","userId":"\u7528 \"q\"\/","serialNo":"s-1","businessId":"b","merchantId":"m","extra":7}"#
        )
        #expect(strings(decoded) == ["s-1", "用 \"q\"/", "o-1", "m", "b", "2026-11-26T15:47:21.123Z"])
        #expect(decoded.boundAt == t0)
    }

    @Test func buffersAreReusedWithoutLeftovers() throws {
        var reused = LedgerFields()
        for (serial, user) in [("a-long-serial-number", "a-long-user"), ("s", "u")] {
            let line = text(LedgerLine.encode(makeBinding(serialNo: serial, userId: user))).withoutNewline()
            var bytes = Array(line.utf8)
            try bytes.withUnsafeMutableBufferPointer { try reused.decode(UnsafeBufferPointer($0)) }
            #expect(
                strings(reused) == [serial, user, "open-1", "eb1b", "754e0c5d", "2026-11-26T15:47:21.123Z"])
        }
    }

    @Test(arguments: [
        (#"{"serialNo":"s","userId":"u","openId":"o","merchantId":"m","businessId":"b"}"#, "boundAt"),
        (
            #"{"userId":"u","openId":"o","merchantId":"m","businessId":"b","boundAt":"2026-11-26T15:47:21.123Z"}"#,
            "serialNo"
        ),
        (
            #"{"serialNo":"s","userId":7,"openId":"o","merchantId":"m","businessId":"b","boundAt":"2026-11-26T15:47:21.123Z"}"#,
            "userId"
        ),
        (
            #"{"serialNo":"s","userId":"u","openId":"o","openId":"p","merchantId":"m","businessId":"b","boundAt":"2026-11-26T15:47:21.123Z"}"#,
            "duplicate key \"openId\""
        ),
        (
            // The same key spelt with an escape is still the same key.
            #"{"serialNo":"s","userId":"u","openId":"o","\u006fpenId":"p","merchantId":"m","businessId":"b","boundAt":"2026-11-26T15:47:21.123Z"}"#,
            "duplicate key \"openId\""
        ),
        (
            #"{"serialNo":"s","userId":"u","openId":"o","merchantId":"m","businessId":"b","boundAt":"2026-11-26T15:47:21Z"}"#,
            "boundAt"
        ),
        (
            #"{"serialNo":"s","userId":"u","openId":"o","merchantId":"m","businessId":"b","boundAt":"2026-11-26T15:47:21.123Z""#,
            "expected"
        ),
        ("not json", "expected"),
    ])
    func badLinesSayWhatIsWrong(line: String, reason: String) {
        #expect {
            try fields(line)
        } throws: { error in
            "\(error)".contains(reason)
        }
    }

    /// makeBinding()'s ledger line with `key` set to `value`, or left out when `value` is nil.
    func line(_ key: String, _ value: JSONValue?) -> String {
        let values = ["s-1", "u-42", "open-1", "eb1b", "754e0c5d", "2026-11-26T15:47:21.123Z"]
        let named: [(String, JSONValue)] = zip(LedgerFields.names, values).compactMap { name, text in
            guard name == key else { return (name, .string(text)) }
            return value.map { (name, $0) }
        }
        return text(JSONValue.object(named).encoded())
    }

    @Test(arguments: LedgerFields.names)
    func everyFieldIsRequiredAsAString(key: String) {
        for value: JSONValue? in [nil, .integer(1)] {
            #expect {
                try fields(line(key, value))
            } throws: { error in
                "\(error)" == "missing string \"\(key)\""
            }
        }
    }

    @Test(arguments: ["2026-11-26T15:47:21Z", "2026-11-26 15:47:21.123Z", "1795708041123", ""])
    func aBadBoundAtIsRejected(boundAt: String) {
        #expect {
            try fields(line("boundAt", .string(boundAt)))
        } throws: { error in
            "\(error)" == "boundAt is not an RFC 3339 UTC timestamp"
        }
    }
}
