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
        if find(serialNo, hash: serialHash, in: bySerialNo, column: .serialNo) != nil { return false }
        let index = Int32(records.count)
        let userHash = Self.hash(userId)
        let openHash = Self.hash(openId)
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

    private func lookup(_ key: String, in index: HashIndex, column: Column) -> Int32? {
        var key = key
        return key.withUTF8 { find($0, hash: Self.hash($0), in: index, column: column) }
    }

    private mutating func growIfNeeded() {
        guard bySerialNo.needsGrowth(adding: 1) else { return }
        let capacity = max(16, bySerialNo.capacity * 2)
        bySerialNo = rebuilt(bySerialNo, capacity: capacity, column: .serialNo)
        latestByUserId = rebuilt(latestByUserId, capacity: capacity, column: .userId)
        newestByOpenId = rebuilt(newestByOpenId, capacity: capacity, column: .openId)
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

    /// Swift's per-process seeded SipHash: keys chosen by callers cannot be made to collide on purpose.
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var hasher = Hasher()
        hasher.combine(bytes: UnsafeRawBufferPointer(bytes))
        return hasher.finalize()
    }
}

private func memcmpEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
    for offset in 0..<count where a[offset] != b[offset] { return false }
    return true
}

/// Open addressing with linear probing over record numbers; the table compares keys through a closure,
/// so it stores 4 bytes a slot. Kept at most half full.
struct HashIndex: Sendable {
    private var slots: [Int32]
    private(set) var count = 0

    init(capacity: Int = 0) {
        slots = Array(repeating: -1, count: capacity)
    }

    var capacity: Int { slots.count }

    func needsGrowth(adding extra: Int) -> Bool { (count + extra) * 2 > slots.count }

    var entries: [Int32] { slots.filter { $0 >= 0 } }

    func find(hash: Int, matches: (Int32) -> Bool) -> Int32? {
        guard !slots.isEmpty else { return nil }
        let mask = slots.count - 1
        var slot = hash & mask
        while true {
            let entry = slots[slot]
            if entry < 0 { return nil }
            if matches(entry) { return entry }
            slot = (slot + 1) & mask
        }
    }

    mutating func insert(_ entry: Int32, hash: Int) {
        let mask = slots.count - 1
        var slot = hash & mask
        while slots[slot] >= 0 { slot = (slot + 1) & mask }
        slots[slot] = entry
        count += 1
    }

    /// Points the slot holding `old` at `new` (same key, so same probe sequence).
    mutating func replace(_ old: Int32, with new: Int32, hash: Int) {
        let mask = slots.count - 1
        var slot = hash & mask
        while slots[slot] != old { slot = (slot + 1) & mask }
        slots[slot] = new
    }
}
