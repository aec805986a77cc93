import Correlation
import Foundation
import Ledger

let t0: Int64 = 1_795_708_041_123  // 2026-11-26T15:47:21.123Z

func makeBinding(
    serialNo: String = "s-1", userId: String = "u-42", openId: String = "open-1", merchantId: String = "eb1b",
    businessId: String = "754e0c5d", boundAt: Int64 = t0
) -> Binding {
    Binding(
        serialNo: serialNo, userId: userId, openId: openId, merchantId: merchantId, businessId: businessId,
        boundAt: boundAt)
}

func makeRequest(
    serialNo: String = "s-1", userId: String = "u-42", token: String = "tok",
    expiresAt: Int64 = t0 + 86_400_000
)
    -> PendingRequest
{
    PendingRequest(
        serialNo: serialNo, userId: userId, token: token, callbackUrl: "https://m.example/cb/\(token)",
        createdAt: t0 - 1000, expiresAt: expiresAt)
}

func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

/// The fields of `line` (a ledger line without its newline), as export reads them.
func fields(_ line: String) throws -> LedgerFields {
    var fields = LedgerFields()
    var bytes = Array(line.utf8)
    try bytes.withUnsafeMutableBufferPointer { try fields.decode(UnsafeBufferPointer($0)) }
    return fields
}

extension String {
    func withoutNewline() -> String { hasSuffix("\n") ? String(dropLast()) : self }
}

extension AppendFailure {
    /// The errno of a failed system call; nil for a detached file.
    var errno: Int32? {
        if case .systemCall(let error) = self { return error.errno }
        return nil
    }
}

/// `Store.open`, given up to 5 s for the directory's lock. The suite's other tests start processes
/// meanwhile, and a child between its fork and its exec holds a copy of every descriptor of this
/// process (O_CLOEXEC closes them at the exec), among them a just-closed store's directory and so its
/// lock. Tests that reopen a directory use this; the daemon itself starts no process.
func openStore(
    directory: String, now: Int64, observers: Store.FlushObservers = Store.FlushObservers()
) throws -> (Store, Store.Replayed) {
    let deadline = ContinuousClock.now + .seconds(5)
    while true {
        do {
            return try Store.open(directory: directory, now: now, observers: observers)
        } catch let error as LedgerError
            where error.description.contains("is in use by another openidd process")
        {
            guard ContinuousClock.now < deadline else { throw error }
            Thread.sleep(forTimeInterval: 0.01)
        }
    }
}

extension Store {
    /// Appends `binding` and returns once it is fsynced, as the daemon's callback path waits for it.
    func appendDurably(_ binding: Binding) throws {
        // NSLock rather than Mutex: ThreadSanitizer cannot see Mutex's futex.
        final class Outcome: @unchecked Sendable {
            let lock = NSLock()
            var failure: AppendFailure?
        }
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        append(binding) { error in
            outcome.lock.withLock { outcome.failure = error }
            done.signal()
        }
        guard done.wait(timeout: .now() + 10) == .success else {
            throw LedgerError("the ledger did not sync \(binding.serialNo) within 10 s")
        }
        if let failure = outcome.lock.withLock({ outcome.failure }) { throw failure }
    }
}
