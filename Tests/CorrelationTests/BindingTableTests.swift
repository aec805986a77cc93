import Testing

@testable import Correlation

@Suite struct BindingTableTests {
    @Test func insertsAndLooksUpByEveryKey() {
        var table = BindingTable()
        let binding = makeBinding(serialNo: "s-1", userId: "用户-1", openId: "open-1")
        let inserted = table.insert(binding)
        #expect(inserted)
        #expect(table.count == 1)
        #expect(table.contains(serialNo: "s-1"))
        #expect(!table.contains(serialNo: "s-2"))
        #expect(table.binding(serialNo: "s-1") == binding)
        #expect(table.latest(userId: "用户-1") == binding)
        #expect(table.all(openId: "open-1") == [binding])
        #expect(table.latest(userId: "用户-2") == nil)
        #expect(table.all(openId: "nobody").isEmpty)
    }

    @Test func everyBindingKeepsItsOwnMerchantAndBusinessAmongMany() {
        // The first few distinct values are found by a scan, the rest through a dictionary.
        var table = BindingTable()
        var bindings: [Binding] = []
        for index in 0..<40 {
            let binding = Binding(
                serialNo: "s-\(index)", userId: "u-\(index)", openId: "o-\(index)",
                merchantId: "merchant-\(index % 9)", businessId: "business-\(index % 7)", boundAt: t0)
            let inserted = table.insert(binding)
            #expect(inserted)
            bindings.append(binding)
        }
        for binding in bindings { #expect(table.binding(serialNo: binding.serialNo) == binding) }
    }

    @Test func aSerialNoIsBoundOnce() {
        var table = BindingTable()
        let first = table.insert(makeBinding(serialNo: "s-1", openId: "a"))
        let second = table.insert(makeBinding(serialNo: "s-1", openId: "b"))
        #expect(first)
        #expect(!second)
        #expect(table.count == 1)
        #expect(table.binding(serialNo: "s-1")?.openId == "a")
    }

    @Test func latestPerUserIsTheNewestEvenOutOfOrder() {
        var table = BindingTable()
        let older = makeBinding(serialNo: "s-1", userId: "u", openId: "a", boundAt: t0 + 10)
        let newer = makeBinding(serialNo: "s-2", userId: "u", openId: "b", boundAt: t0 + 20)
        let stepped = makeBinding(serialNo: "s-3", userId: "u", openId: "c", boundAt: t0 + 15)
        table.insert(older)
        table.insert(newer)
        table.insert(stepped)
        #expect(table.latest(userId: "u") == newer)
    }

    @Test func everyUserOfAnOpenIdOldestFirst() {
        var table = BindingTable()
        let bindings = (0..<5).map {
            makeBinding(serialNo: "s-\($0)", userId: "u-\($0)", openId: "shared", boundAt: t0 + Int64($0))
        }
        for binding in bindings { table.insert(binding) }
        table.insert(makeBinding(serialNo: "x", userId: "other", openId: "different"))
        #expect(table.all(openId: "shared") == bindings)
    }

    @Test func lookupsSurviveManyGrowths() {
        var table = BindingTable()
        for index in 0..<20_000 {
            table.insert(
                makeBinding(
                    serialNo: "serial-\(index)", userId: "user-\(index % 7_000)",
                    openId: "open-\(index % 3_000)",
                    boundAt: t0 + Int64(index)))
        }
        #expect(table.count == 20_000)
        for index in stride(from: 0, to: 20_000, by: 997) {
            #expect(table.binding(serialNo: "serial-\(index)")?.userId == "user-\(index % 7_000)")
        }
        // user-5 was bound at indexes 5, 7005, 14005: the latest is the last.
        #expect(table.latest(userId: "user-5")?.serialNo == "serial-14005")
        #expect(table.all(openId: "open-7").map(\.serialNo) == (0..<7).map { "serial-\(7 + $0 * 3_000)" })
        var visited = 0
        table.forEach { _ in visited += 1 }
        #expect(visited == 20_000)
    }

    @Test func emptyAndPrefixKeysAreDistinct() {
        var table = BindingTable()
        table.insert(makeBinding(serialNo: "ab", userId: "u", openId: "o"))
        #expect(!table.contains(serialNo: "a"))
        #expect(!table.contains(serialNo: "abc"))
        #expect(!table.contains(serialNo: ""))
    }

    @Test func everyLookupIsRightAfterEveryInsertThroughGrowths() {
        // A reference model checked after each insert, so lookups are exercised while an index is
        // half moved (old table, new table, replacements in either).
        var table = BindingTable()
        var latest: [String: String] = [:]
        var all: [String: [String]] = [:]
        var generator = SystemRandomNumberGenerator()
        for index in 0..<6_000 {
            let user = "user-\(Int.random(in: 0..<900, using: &generator))"
            let open = "open-\(Int.random(in: 0..<400, using: &generator))"
            let serial = "serial-\(index)"
            let inserted = table.insert(
                makeBinding(serialNo: serial, userId: user, openId: open, boundAt: t0 + Int64(index)))
            #expect(inserted)
            latest[user] = serial
            all[open, default: []].append(serial)
            #expect(table.binding(serialNo: serial)?.openId == open)
            #expect(table.latest(userId: user)?.serialNo == serial)
            #expect(table.all(openId: open).map(\.serialNo) == all[open])
            // And some older keys, which may still sit in the old table.
            let other = "user-\(Int.random(in: 0..<900, using: &generator))"
            #expect(table.latest(userId: other)?.serialNo == latest[other])
            let older = "serial-\(Int.random(in: 0...index, using: &generator))"
            #expect(table.contains(serialNo: older))
            let repeated = table.insert(makeBinding(serialNo: older, userId: "x", openId: "y"))
            #expect(!repeated, "a repeat is refused")
        }
        #expect(table.count == 6_000)
    }
}

@Suite struct HashIndexGrowthTests {
    @Test func growthMovesEntriesAFewAtATimeAndLookupsSeeBothTables() {
        var index = HashIndex(capacity: 64)
        // An entry's key is its number mod 100, so 105 replaces 5 under the same key (and hash).
        let hashOf: (Int32) -> Int = { Int($0 % 100) &* 0x5851_F42D_4C95_7F2D }
        for entry in Int32(0)..<32 { index.insert(entry, hash: hashOf(entry)) }
        index.beginGrowth(to: 128)
        #expect(index.isGrowing)
        #expect(index.capacity == 128)
        // Nothing moved yet: every entry is found in the old table.
        for entry in Int32(0)..<32 { #expect(index.find(hash: hashOf(entry)) { $0 == entry } == entry) }
        // A replacement of an entry not yet moved is carried over with its new value.
        index.replace(5, with: 105, hash: hashOf(5))
        index.move(8)
        #expect(index.isGrowing)
        index.move(1_000)
        #expect(!index.isGrowing)
        #expect(index.count == 32)
        #expect(index.find(hash: hashOf(5)) { $0 == 105 } == 105)
        #expect(index.find(hash: hashOf(5)) { $0 == 5 } == nil)
        for entry in Int32(0)..<32 where entry != 5 {
            #expect(index.find(hash: hashOf(entry)) { $0 == entry } == entry)
        }
        #expect(Set(index.entries) == Set((Int32(0)..<32).map { $0 == 5 ? 105 : $0 }))
    }
}
