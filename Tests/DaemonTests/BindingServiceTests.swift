import Correlation
import Crypto
import Foundation
import Testing

@testable import Daemon

/// The domain operations called directly: issuing through a real platform client, binding with a path
/// token, every refusal, and what reaches the ledger and the journal.
@Suite struct BindingServiceTests {
    @Test func anIssuedRequestIsJournaledAndPendingUnderItsOwnCallbackUrl() throws {
        let f = try ServiceFixture()
        let request = try f.issue(userId: "u-42")
        #expect(request.callbackUrl == ServiceFixture.publicUrl + "/" + request.token)
        #expect(request.token != request.serialNo)
        #expect(try f.journal().contains(#""serialNo":"\#(request.serialNo)""#))
        #expect(f.service.status(serialNo: request.serialNo, waitSeconds: 0)?.state == .pending)
        #expect(f.service.counts.pending == 1)
    }

    @Test func theRequestsOwnTokenBindsOnceTheLineIsOnDisk() throws {
        let f = try ServiceFixture()
        let request = try f.issue(userId: "u-42")
        let outcome = try f.bind(serialNo: request.serialNo, token: request.token, openId: "oid-1")
        guard case .bound(let binding) = outcome else {
            Issue.record("not bound: \(outcome)")
            return
        }
        #expect(binding.userId == "u-42")
        #expect(binding.openId == "oid-1")
        let lines = try f.ledgerLines()
        #expect(lines.count == 1)
        #expect(lines.first?.contains(#""serialNo":"\#(request.serialNo)""#) == true)
        #expect(f.service.latestBinding(userId: "u-42") == binding)
        #expect(f.service.status(serialNo: request.serialNo, waitSeconds: 0)?.state == .bound)
        // A repeat is acknowledged without a second line; another openId is a conflict.
        #expect(
            try f.bind(serialNo: request.serialNo, token: request.token, openId: "oid-1")
                == .repeated(binding))
        #expect(
            try f.bind(serialNo: request.serialNo, token: request.token, openId: "oid-2")
                == .conflict(existing: binding))
        #expect(try f.ledgerLines().count == 1)
    }

    @Test func aTokenThatIsNotTheRequestsOwnDoesNotBind() throws {
        let f = try ServiceFixture()
        let request = try f.issue(userId: "u-1")
        let other = try f.issue(userId: "u-2")
        for token in [other.token, SecureRandom.token(byteCount: 32), String(request.token.dropLast())] {
            #expect(try f.bind(serialNo: request.serialNo, token: token, openId: "oid-1") == .tokenMismatch)
        }
        #expect(try f.bind(serialNo: other.serialNo, token: request.token, openId: "oid-1") == .tokenMismatch)
        #expect(try f.ledgerLines().isEmpty)
        // Refused callbacks leave the request bindable by the right one.
        #expect(f.service.status(serialNo: request.serialNo, waitSeconds: 0)?.state == .pending)
        guard case .bound = try f.bind(serialNo: request.serialNo, token: request.token, openId: "oid-1")
        else {
            Issue.record("the request's own token no longer binds")
            return
        }
    }

    @Test func anUnknownSerialNoIsRefused() throws {
        let f = try ServiceFixture()
        let request = try f.issue()
        #expect(try f.bind(serialNo: "never-issued", token: request.token, openId: "oid") == .unknownSerialNo)
        #expect(try f.ledgerLines().isEmpty)
    }

    @Test func aRequestPastItsExpiryIsRefused() throws {
        // A time to live of 0 s: the request expires as it is issued.
        let f = try ServiceFixture(ttlSeconds: 0)
        let request = try f.issue()
        #expect(try f.bind(serialNo: request.serialNo, token: request.token, openId: "oid") == .expired)
        #expect(try f.ledgerLines().isEmpty)
    }

    @Test func aCallbackForAnotherUserIsRefused() throws {
        let f = try ServiceFixture()
        let request = try f.issue(userId: "u-42")
        #expect(
            try f.bind(serialNo: request.serialNo, token: request.token, openId: "oid", userId: "u-43")
                == .userIdMismatch)
        #expect(try f.ledgerLines().isEmpty)
    }

    @Test func anUnreachablePlatformGivesNoLinkAndLeavesTheSerialNoFree() throws {
        // Port 9 (discard) on loopback: nothing listens, the connection is refused.
        let f = try ServiceFixture(platformUrl: "http://127.0.0.1:9")
        for _ in 0..<2 {
            guard
                case .failure(.platform(.unreachable)) = f.service.issueAuthLink(userId: "u", serialNo: "s-1")
            else {
                Issue.record("issued, or refused for another reason than the platform")
                return
            }
        }
        #expect(f.service.counts.pending == 0)
        #expect(f.service.counts.lastPlatformError?.contains("could not be reached") == true)
    }

    @Test func aSerialNoInUseIsRefused() throws {
        let f = try ServiceFixture()
        _ = try f.issue(serialNo: "s-1")
        guard case .failure(.serialNoInUse) = f.service.issueAuthLink(userId: "u", serialNo: "s-1") else {
            Issue.record("a second request under serialNo s-1 was not refused")
            return
        }
    }
}
