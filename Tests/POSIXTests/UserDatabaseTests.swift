import POSIX
import Testing

@Suite struct UserDatabaseTests {
    @Test func namesThatExistOnEveryLinuxSystem() throws {
        #expect(try UserDatabase.uid(ofUser: "root") == 0)
        #expect(try UserDatabase.gid(ofGroup: "root") == 0)
    }

    @Test func unknownNamesAreNil() throws {
        #expect(try UserDatabase.uid(ofUser: "openidd-no-such-user") == nil)
        #expect(try UserDatabase.gid(ofGroup: "openidd-no-such-group") == nil)
        #expect(try UserDatabase.uid(ofUser: "") == nil)
    }
}
