/// Every binding, in compact columnar storage: string bytes in one arena, fixed-size records, and three
/// open-addressing indexes of record numbers (by serialNo, latest by userId, all by openId).
///
/// A million bindings as ordinary `Binding` values in dictionaries take several hundred megabytes;
/// here they take about a hundred, and replay appends bytes without allocating per line.
public struct BindingTable: Sendable {
    struct Span: Sendable {
        var offset: UInt32
        var length: UInt32
    }

    struct Record: Sendable {
        var serialNo: Span
        var userId: Span
        var openId: Span
        var merchantId: UInt16
        var businessId: UInt16
        /// The previous binding of the same openId, or -1: the openId index points at the newest.
        var previousForOpenId: Int32
        var boundAt: Int64
    }

    enum Column { case serialNo, userId, openId }

    private var arena: [UInt8] = []
    private var records: [Record] = []
    /// merchantId and businessId repeat on every line; store each distinct value once.
    private var interned: [String] = []
    private var internedIndex: [String: UInt16] = [:]
    private var bySerialNo = HashIndex()
    private var latestByUserId = HashIndex()
    private var newestByOpenId = HashIndex()

    public init() {}

    public var count: Int { records.count }

    /// Sizes storage for about `count` bindings of `bytesPerBinding` string bytes, so replay neither
    /// copies growing arrays nor rebuilds indexes.
    public mutating func reserveCapacity(_ count: Int, bytesPerBinding: Int) {
        records.reserveCapacity(count)
        arena.reserveCapacity(count * bytesPerBinding)
        var capacity = 16
        while capacity < count * 2 + 2 { capacity *= 2 }
        guard capacity > bySerialNo.capacity else { return }
        finishGrowth()
        bySerialNo = rebuilt(bySerialNo, capacity: capacity, column: .serialNo)
        latestByUserId = rebuilt(latestByUserId, capacity: capacity, column: .userId)
        newestByOpenId = rebuilt(newestByOpenId, capacity: capacity, column: .openId)
    }

    // MARK: - Inserting

    /// Adds a binding; false (and nothing changed) when its serialNo is already bound.
    @discardableResult
    public mutating func insert(_ binding: Binding) -> Bool {
        var serialNo = binding.serialNo
        var userId = binding.userId
        var openId = binding.openId
        return serialNo.withUTF8 { serial in
            userId.withUTF8 { user in
                openId.withUTF8 { open in
                    insert(
                        serialNo: serial, userId: user, openId: open, merchantId: binding.merchantId,
                        businessId: binding.businessId, boundAt: binding.boundAt)
                }
            }
        }
    }

    /// The allocation-free form replay uses: the bytes are copied into the arena.
    public mutating func insert(
        serialNo: UnsafeBufferPointer<UInt8>, userId: UnsafeBufferPointer<UInt8>,
        openId: UnsafeBufferPointer<UInt8>,
        merchantId: String, businessId: String, boundAt: Int64
    ) -> Bool {
        let serialHash = Self.hash(serialNo)
        let userHash = Self.hash(userId)
        let openHash = Self.hash(openId)
        // Each index's home slot is a cache miss in a table of millions; ask for all three at once, so
        // the misses overlap instead of queueing behind each other in the finds below.
        let homes =
            bySerialNo.home(hash: serialHash) | latestByUserId.home(hash: userHash)
            | newestByOpenId.home(hash: openHash)
        if homes == .max { Self.keepLoad() }
        if find(serialNo, hash: serialHash, in: bySerialNo, column: .serialNo) != nil { return false }
        let index = Int32(records.count)
        let newestForOpenId = find(openId, hash: openHash, in: newestByOpenId, column: .openId)
        records.append(
            Record(
                serialNo: store(serialNo), userId: store(userId), openId: store(openId),
                merchantId: intern(merchantId),
                businessId: intern(businessId), previousForOpenId: newestForOpenId ?? -1, boundAt: boundAt))

        growIfNeeded()
        bySerialNo.insert(index, hash: serialHash)
        if let latest = find(userId, hash: userHash, in: latestByUserId, column: .userId) {
            // Keep the newest; ledger order is time order, but a stepped clock must not hide a binding.
            if records[Int(latest)].boundAt <= boundAt {
                latestByUserId.replace(latest, with: index, hash: userHash)
            }
        } else {
            latestByUserId.insert(index, hash: userHash)
        }
        if let newest = newestForOpenId {
            newestByOpenId.replace(newest, with: index, hash: openHash)
        } else {
            newestByOpenId.insert(index, hash: openHash)
        }
        return true
    }

    /// Gives the optimizer a use for early slot loads, so it cannot drop them.
    @inline(never)
    static func keepLoad() {}

    // MARK: - Replay

    /// Appends a binding without indexing it; `buildIndexes()` must run before any lookup or insert.
    /// Replay appends a million lines this way, then indexes them in one cache-friendly pass.
    public mutating func appendUnindexed(
        serialNo: UnsafeBufferPointer<UInt8>, userId: UnsafeBufferPointer<UInt8>,
        openId: UnsafeBufferPointer<UInt8>,
        merchantId: String, businessId: String, boundAt: Int64
    ) {
        records.append(
            Record(
                serialNo: store(serialNo), userId: store(userId), openId: store(openId),
                merchantId: intern(merchantId),
                businessId: intern(businessId), previousForOpenId: -1, boundAt: boundAt))
    }

    /// A serialNo that `buildIndexes` found on a second record: the record kept and the one dropped,
    /// each with its position among the records appended (the ledger's order).
    public struct Duplicate: Sendable, Equatable {
        public let kept: Binding
        public let keptPosition: Int
        public let dropped: Binding
        public let droppedPosition: Int
    }

    /// Indexes every record appended since the indexes were last complete. A serialNo that appears
    /// twice keeps its first record; the later ones are dropped and returned (a line repeated after a
    /// failed sync, or a contradiction for the caller to judge).
    ///
    /// Records are inserted in the order of the slots their hashes pick (a counting sort on the slot's
    /// top bits), so the tables fill front to back instead of being hit at random: several times fewer
    /// cache and TLB misses than inserting in ledger order.
    @discardableResult
    public mutating func buildIndexes() -> [Duplicate] {
        let first = bySerialNo.count
        guard first < records.count else { return [] }
        finishGrowth()
        var capacity = max(16, bySerialNo.capacity)
        while capacity < records.count * 2 + 2 { capacity *= 2 }
        if capacity != bySerialNo.capacity {
            bySerialNo = rebuilt(bySerialNo, capacity: capacity, column: .serialNo)
            latestByUserId = rebuilt(latestByUserId, capacity: capacity, column: .userId)
            newestByOpenId = rebuilt(newestByOpenId, capacity: capacity, column: .openId)
        }
        let fresh = Int32(first)..<Int32(records.count)
        var duplicates: [Int32] = []
        var found: [Duplicate] = []
        for (index, hash) in slotOrder(fresh, column: .serialNo) {
            if let kept = find(keyOf: index, hash: hash, in: bySerialNo, column: .serialNo) {
                duplicates.append(index)
                found.append(
                    Duplicate(
                        kept: binding(at: kept), keptPosition: Int(kept), dropped: binding(at: index),
                        droppedPosition: Int(index)))
            } else {
                bySerialNo.insert(index, hash: hash)
            }
        }
        let dropped = Set(duplicates)
        for (index, hash) in slotOrder(fresh, column: .userId) where !dropped.contains(index) {
            if let latest = find(keyOf: index, hash: hash, in: latestByUserId, column: .userId) {
                // Same slot order for the same key, so records of one user arrive in ledger order.
                if records[Int(latest)].boundAt <= records[Int(index)].boundAt {
                    latestByUserId.replace(latest, with: index, hash: hash)
                }
            } else {
                latestByUserId.insert(index, hash: hash)
            }
        }
        for (index, hash) in slotOrder(fresh, column: .openId) where !dropped.contains(index) {
            if let newest = find(keyOf: index, hash: hash, in: newestByOpenId, column: .openId) {
                records[Int(index)].previousForOpenId = newest
                newestByOpenId.replace(newest, with: index, hash: hash)
            } else {
                newestByOpenId.insert(index, hash: hash)
            }
        }
        if !duplicates.isEmpty { removeRecords(duplicates) }
        return found.sorted { $0.droppedPosition < $1.droppedPosition }
    }

    /// Record numbers with their key hashes, ordered by the slot each hash starts probing at
    /// (stable: equal slots keep ledger order).
    private func slotOrder(_ range: Range<Int32>, column: Column) -> [(Int32, Int)] {
        let capacity = bySerialNo.capacity
        let bucketBits = min(16, capacity.trailingZeroBitCount)
        let shift = capacity.trailingZeroBitCount - bucketBits
        var hashes = [Int](repeating: 0, count: range.count)
        var counts = [Int](repeating: 0, count: (1 << bucketBits) + 1)
        arena.withUnsafeBufferPointer { arena in
            for (offset, index) in range.enumerated() {
                let span = span(records[Int(index)], column)
                let hash = Self.hash(
                    UnsafeBufferPointer(rebasing: arena[Int(span.offset)..<Int(span.offset + span.length)]))
                hashes[offset] = hash
                counts[((hash & (capacity - 1)) >> shift) + 1] += 1
            }
        }
        for bucket in 1..<counts.count { counts[bucket] += counts[bucket - 1] }
        var ordered = [(Int32, Int)](repeating: (0, 0), count: range.count)
        for (offset, hash) in hashes.enumerated() {
            let bucket = (hash & (capacity - 1)) >> shift
            ordered[counts[bucket]] = (range.lowerBound + Int32(offset), hash)
            counts[bucket] += 1
        }
        return ordered
    }

    /// Drops duplicate records (rare) and renumbers the indexes by rebuilding them.
    private mutating func removeRecords(_ drop: [Int32]) {
        let dropped = Set(drop)
        records = records.enumerated().filter { !dropped.contains(Int32($0.offset)) }.map(\.element)
        bySerialNo = HashIndex(capacity: bySerialNo.capacity)
        latestByUserId = HashIndex(capacity: bySerialNo.capacity)
        newestByOpenId = HashIndex(capacity: bySerialNo.capacity)
        for index in records.indices { records[index].previousForOpenId = -1 }
        buildIndexes()
    }

    // MARK: - Lookups

    public func contains(serialNo: String) -> Bool {
        lookup(serialNo, in: bySerialNo, column: .serialNo) != nil
    }

    public func binding(serialNo: String) -> Binding? {
        lookup(serialNo, in: bySerialNo, column: .serialNo).map(binding(at:))
    }

    public func latest(userId: String) -> Binding? {
        lookup(userId, in: latestByUserId, column: .userId).map(binding(at:))
    }

    /// Every binding of `openId`, oldest first.
    public func all(openId: String) -> [Binding] {
        guard var index = lookup(openId, in: newestByOpenId, column: .openId) else { return [] }
        var result: [Binding] = []
        while index >= 0 {
            result.append(binding(at: index))
            index = records[Int(index)].previousForOpenId
        }
        return result.reversed()
    }

    /// Calls `body` with every binding in insertion order (export, tests).
    public func forEach(_ body: (Binding) throws -> Void) rethrows {
        for index in records.indices { try body(binding(at: Int32(index))) }
    }

    // MARK: - Storage

    private func binding(at index: Int32) -> Binding {
        let record = records[Int(index)]
        return Binding(
            serialNo: string(record.serialNo), userId: string(record.userId), openId: string(record.openId),
            merchantId: interned[Int(record.merchantId)], businessId: interned[Int(record.businessId)],
            boundAt: record.boundAt)
    }

    private func string(_ span: Span) -> String {
        arena.withUnsafeBufferPointer {
            String(
                decoding: UnsafeBufferPointer(
                    rebasing: $0[Int(span.offset)..<Int(span.offset + span.length)]), as: UTF8.self)
        }
    }

    private mutating func store(_ bytes: UnsafeBufferPointer<UInt8>) -> Span {
        let span = Span(offset: UInt32(arena.count), length: UInt32(bytes.count))
        arena.append(contentsOf: bytes)
        return span
    }

    private mutating func intern(_ value: String) -> UInt16 {
        // A daemon binds for one merchant and business: the value is almost always one already seen,
        // and often the very same string, which compares without reading its bytes (no hashing).
        for (index, known) in interned.prefix(4).enumerated() where known == value { return UInt16(index) }
        if let index = internedIndex[value] { return index }
        let index = UInt16(interned.count)
        interned.append(value)
        internedIndex[value] = index
        return index
    }

    private func span(_ record: Record, _ column: Column) -> Span {
        switch column {
        case .serialNo: return record.serialNo
        case .userId: return record.userId
        case .openId: return record.openId
        }
    }

    private func equals(_ index: Int32, _ column: Column, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        let span = span(records[Int(index)], column)
        guard Int(span.length) == key.count else { return false }
        return arena.withUnsafeBufferPointer { arena in
            key.isEmpty || memcmpEqual(arena.baseAddress! + Int(span.offset), key.baseAddress!, key.count)
        }
    }

    private func find(_ key: UnsafeBufferPointer<UInt8>, hash: Int, in index: HashIndex, column: Column)
        -> Int32?
    {
        index.find(hash: hash) { equals($0, column, key) }
    }

    /// The indexed record whose `column` key is that of record `record`.
    private func find(keyOf record: Int32, hash: Int, in index: HashIndex, column: Column) -> Int32? {
        let key = span(records[Int(record)], column)
        return arena.withUnsafeBufferPointer { arena in
            let bytes = UnsafeBufferPointer(rebasing: arena[Int(key.offset)..<Int(key.offset + key.length)])
            return index.find(hash: hash) { equals($0, column, bytes) }
        }
    }

    private func lookup(_ key: String, in index: HashIndex, column: Column) -> Int32? {
        var key = key
        return key.withUTF8 { find($0, hash: Self.hash($0), in: index, column: column) }
    }

    /// Grows the indexes at half load, a little at a time: each insert moves 8 old slots of each
    /// index, so a growth is complete long before the next one is due (that takes as many inserts as
    /// the old table had slots / 2), and no insert waits for a whole rehash.
    private mutating func growIfNeeded() {
        if bySerialNo.needsGrowth(adding: 1) {
            let capacity = max(16, bySerialNo.capacity * 2)
            bySerialNo.beginGrowth(to: capacity)
            latestByUserId.beginGrowth(to: capacity)
            newestByOpenId.beginGrowth(to: capacity)
        }
        bySerialNo.move(8)
        latestByUserId.move(8)
        newestByOpenId.move(8)
    }

    /// Completes any growth under way (before a bulk rebuild, which reads every entry).
    private mutating func finishGrowth() {
        bySerialNo.finishGrowth()
        latestByUserId.finishGrowth()
        newestByOpenId.finishGrowth()
    }

    private func rebuilt(_ old: HashIndex, capacity: Int, column: Column) -> HashIndex {
        var index = HashIndex(capacity: capacity)
        for entry in old.entries {
            let span = span(records[Int(entry)], column)
            let hash = arena.withUnsafeBufferPointer {
                Self.hash(
                    UnsafeBufferPointer(rebasing: $0[Int(span.offset)..<Int(span.offset + span.length)]))
            }
            index.insert(entry, hash: hash)
        }
        return index
    }

    /// A per-process random seed, so colliding keys cannot be prepared in advance.
    static let seed = UInt64.random(in: .min ... .max)

    /// A seeded multiply-xorshift hash (splitmix64's mixer) over the key's bytes as little-endian
    /// 8-byte words, the last one zero-padded. Replay hashes three keys per line; Swift's SipHash
    /// (`Hasher`) made that a quarter of start-up time.
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var state = seed ^ (UInt64(bytes.count) &* 0x9E37_79B9_7F4A_7C15)
        var offset = 0
        while offset + 8 <= bytes.count {
            state = mix(state ^ word(bytes, from: offset, count: 8))
            offset += 8
        }
        let tail = word(bytes, from: offset, count: bytes.count - offset)
        return Int(truncatingIfNeeded: mix(state ^ tail ^ 0xFF51_AFD7_ED55_8CCD))
    }

    /// `count` (at most 8) bytes from `offset` as a little-endian word.
    @inline(__always)
    private static func word(_ bytes: UnsafeBufferPointer<UInt8>, from offset: Int, count: Int) -> UInt64 {
        var word: UInt64 = 0
        for index in 0..<count { word |= UInt64(bytes[offset + index]) << (8 * UInt64(index)) }
        return word
    }

    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func memcmpEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
    for offset in 0..<count where a[offset] != b[offset] { return false }
    return true
}

/// Open addressing with linear probing over record numbers. Each slot holds the record number and
/// 32 bits of the key's hash, so a probe rarely has to look at a record that is not the one sought
/// (each such look is a cache miss into the records and the arena). Kept at most half full.
///
/// The home slot comes from those same 32 bits, so growing moves slots without reading any record or
/// rehashing any key (a random cache miss per entry moved, several per insert while growing).
struct HashIndex: Sendable {
    /// 0 is empty; otherwise `tag << 32 | (record + 1)`.
    private var slots: [UInt64]
    /// While growing: the slots before the last growth, moved into `slots` a few per insert so no
    /// single insert pays for rehashing the whole table (a pause of tens of milliseconds at 100k
    /// bindings, every caller waiting on the registry's lock). Lookups try `slots`, then these.
    private var previous: [UInt64] = []
    /// Slots of `previous` already moved.
    private var moved = 0
    /// Entries in the index, wherever they sit.
    private(set) var count = 0

    init(capacity: Int = 0) {
        slots = Array(repeating: 0, count: capacity)
    }

    var capacity: Int { slots.count }

    var isGrowing: Bool { moved < previous.count }

    func needsGrowth(adding extra: Int) -> Bool { (count + extra) * 2 > slots.count }

    /// Every entry; only while not growing.
    var entries: [Int32] {
        precondition(!isGrowing)
        return slots.compactMap { $0 == 0 ? nil : Int32(truncatingIfNeeded: $0 & 0xFFFF_FFFF) - 1 }
    }

    @inline(__always)
    private static func tag(_ hash: Int) -> UInt64 { UInt64(truncatingIfNeeded: hash) >> 32 }

    /// The first slot to probe: from the tag, so a stored slot value alone says where it belongs
    /// (capacity never exceeds 2^32: records are numbered by Int32).
    @inline(__always)
    private static func home(tag: UInt64, mask: Int) -> Int { Int(truncatingIfNeeded: tag) & mask }

    /// The value in the slot where a lookup of `hash` starts (0 when empty or no table): loading it
    /// early brings the slot into the cache.
    @inline(__always)
    func home(hash: Int) -> UInt64 {
        guard !slots.isEmpty else { return 0 }
        return slots.withUnsafeBufferPointer { $0[Self.home(tag: Self.tag(hash), mask: $0.count - 1)] }
    }

    func find(hash: Int, matches: (Int32) -> Bool) -> Int32? {
        if let found = Self.find(in: slots, hash: hash, matches: matches) { return found }
        return isGrowing ? Self.find(in: previous, hash: hash, matches: matches) : nil
    }

    private static func find(in slots: [UInt64], hash: Int, matches: (Int32) -> Bool) -> Int32? {
        guard !slots.isEmpty else { return nil }
        let mask = slots.count - 1
        let tag = Self.tag(hash)
        var slot = home(tag: tag, mask: mask)
        return slots.withUnsafeBufferPointer { slots in
            while true {
                let value = slots[slot]
                if value == 0 { return nil }
                if value >> 32 == tag {
                    let entry = Int32(truncatingIfNeeded: value & 0xFFFF_FFFF) - 1
                    if matches(entry) { return entry }
                }
                slot = (slot + 1) & mask
            }
        }
    }

    mutating func insert(_ entry: Int32, hash: Int) {
        Self.place(Self.tag(hash) << 32 | UInt64(UInt32(entry) + 1), in: &slots)
        count += 1
    }

    private static func place(_ value: UInt64, in slots: inout [UInt64]) {
        let mask = slots.count - 1
        var slot = home(tag: value >> 32, mask: mask)
        slots.withUnsafeMutableBufferPointer { slots in
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = value
        }
    }

    /// Points the slot holding `old` at `new` (same key, so same hash and probe sequence), in whichever
    /// table holds it: an entry not yet moved is updated where it is and moved with its new value.
    mutating func replace(_ old: Int32, with new: Int32, hash: Int) {
        let oldValue = Self.tag(hash) << 32 | UInt64(UInt32(old) + 1)
        let newValue = Self.tag(hash) << 32 | UInt64(UInt32(new) + 1)
        if Self.replace(oldValue, with: newValue, in: &slots) { return }
        if isGrowing && Self.replace(oldValue, with: newValue, in: &previous) { return }
        preconditionFailure("replaced entry not in the index")
    }

    private static func replace(_ old: UInt64, with new: UInt64, in slots: inout [UInt64]) -> Bool {
        guard !slots.isEmpty else { return false }
        let mask = slots.count - 1
        var slot = home(tag: old >> 32, mask: mask)
        return slots.withUnsafeMutableBufferPointer { slots in
            while slots[slot] != 0 {
                if slots[slot] == old {
                    slots[slot] = new
                    return true
                }
                slot = (slot + 1) & mask
            }
            return false
        }
    }

    /// Starts growing to `capacity` slots: inserts go to the new table from now on, and `move` carries
    /// the old entries over. Finishes any growth still under way first.
    mutating func beginGrowth(to capacity: Int) {
        finishGrowth()
        previous = slots
        moved = 0
        slots = Array(repeating: 0, count: capacity)
    }

    /// Moves up to `count` slots' worth of old entries into the new table.
    mutating func move(_ count: Int) {
        guard isGrowing else { return }
        let end = min(moved + count, previous.count)
        for index in moved..<end {
            let value = previous[index]
            guard value != 0 else { continue }
            Self.place(value, in: &slots)
        }
        moved = end
        if moved == previous.count {
            previous = []
            moved = 0
        }
    }

    mutating func finishGrowth() {
        move(previous.count)
    }
}
