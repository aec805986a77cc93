import Config
import POSIX
import Testing

@Suite struct IPCAccessPolicyTests {
    static func peer(uid: UInt32, gid: UInt32, groups: [UInt32]? = []) -> PeerCredentials {
        PeerCredentials(pid: 4242, uid: uid, gid: gid, groups: groups)
    }

    @Test func withoutListsEveryPeerIsAllowed() {
        let open = IPCAccessPolicy()
        #expect(open.isOpen)
        #expect(open.allows(Self.peer(uid: 65534, gid: 65534)))
        #expect(open.allows(Self.peer(uid: 0, gid: 0, groups: nil)))
    }

    @Test func aListedUserIsAllowedWhateverItsGroups() {
        let policy = IPCAccessPolicy(users: [33])
        #expect(!policy.isOpen)
        #expect(policy.allows(Self.peer(uid: 33, gid: 33)))
        #expect(policy.allows(Self.peer(uid: 33, gid: 7, groups: nil)))
        #expect(!policy.allows(Self.peer(uid: 34, gid: 33)))
    }

    @Test func aListedPrimaryGroupIsAllowed() {
        let policy = IPCAccessPolicy(groups: [999])
        #expect(policy.allows(Self.peer(uid: 1000, gid: 999)))
        #expect(!policy.allows(Self.peer(uid: 1000, gid: 1000)))
    }

    @Test func aListedSupplementaryGroupIsAllowed() {
        let policy = IPCAccessPolicy(groups: [999])
        #expect(policy.allows(Self.peer(uid: 1000, gid: 1000, groups: [27, 999])))
        #expect(!policy.allows(Self.peer(uid: 1000, gid: 1000, groups: [27, 998])))
    }

    @Test func unknownSupplementaryGroupsLeaveOnlyThePrimaryGroup() {
        let policy = IPCAccessPolicy(groups: [999])
        #expect(!policy.allows(Self.peer(uid: 1000, gid: 1000, groups: nil)))
        #expect(policy.allows(Self.peer(uid: 1000, gid: 999, groups: nil)))
    }

    @Test func aPeerWithoutCredentialsIsRefusedUnlessThePolicyIsOpen() {
        #expect(IPCAccessPolicy().allows(nil))
        #expect(!IPCAccessPolicy(users: [0]).allows(nil))
        #expect(!IPCAccessPolicy(groups: [0]).allows(nil))
    }

    @Test func rootIsAllowedOnlyIfListed() {
        #expect(!IPCAccessPolicy(users: [33]).allows(Self.peer(uid: 0, gid: 0, groups: [0])))
        #expect(!IPCAccessPolicy(groups: [999]).allows(Self.peer(uid: 0, gid: 0, groups: [0, 1])))
        #expect(IPCAccessPolicy(users: [33, 0]).allows(Self.peer(uid: 0, gid: 0)))
        #expect(IPCAccessPolicy(groups: [0]).allows(Self.peer(uid: 0, gid: 0)))
    }

    @Test func aGroupIdIsNotAUserId() {
        // uid 999 and gid 999 are unrelated: a user list never matches a gid, nor a group list a uid.
        #expect(!IPCAccessPolicy(users: [999]).allows(Self.peer(uid: 1000, gid: 999, groups: [999])))
        #expect(!IPCAccessPolicy(groups: [1000]).allows(Self.peer(uid: 1000, gid: 100, groups: [100])))
    }
}
