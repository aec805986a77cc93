/// Entry positions ordered by expiry time, soonest first (a binary min-heap): the registry expires the
/// requests that are due without looking at the others.
struct ExpiryHeap: Sendable {
    struct Item: Sendable {
        let expiresAt: Int64
        let position: Int32
    }

    private var items: [Item] = []

    init() {}

    init(_ items: [Item]) {
        self.items = items
        for index in stride(from: items.count / 2 - 1, through: 0, by: -1) { siftDown(index) }
    }

    var count: Int { items.count }

    /// The item that expires first.
    var first: Item? { items.first }

    mutating func push(_ item: Item) {
        items.append(item)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child].expiresAt < items[parent].expiresAt else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func removeFirst() {
        guard !items.isEmpty else { return }
        items.swapAt(0, items.count - 1)
        items.removeLast()
        siftDown(0)
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < items.count else { return }
            var smallest = left
            if left + 1 < items.count && items[left + 1].expiresAt < items[left].expiresAt {
                smallest = left + 1
            }
            guard items[smallest].expiresAt < items[parent].expiresAt else { return }
            items.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
