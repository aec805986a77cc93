import Foundation
import POSIX
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct ProcessStatusTests {
    static let sample = """
        Name:\tcurl
        Umask:\t0022
        State:\tS (sleeping)
        Pid:\t4242
        Uid:\t1000\t1001\t1001\t1001
        Gid:\t100\t100\t100\t100
        FDSize:\t64
        Groups:\t27 100 999 
        NStgid:\t4242

        """

    @Test func parsesTheEffectiveUidAndTheGroups() throws {
        let status = try #require(ProcessStatus(parsing: Self.sample))
        #expect(status.effectiveUid == 1001)
        #expect(status.groups == [27, 100, 999])
    }

    @Test func anEmptyGroupsLineIsNoGroups() throws {
        let text = Self.sample.replacingOccurrences(of: "Groups:\t27 100 999 ", with: "Groups:\t")
        #expect(try #require(ProcessStatus(parsing: text)).groups == [])
    }

    @Test(arguments: [
        ("Groups:\t27 100 999 ", ""), ("Uid:\t1000\t1001\t1001\t1001", ""),
        ("Groups:\t27 100 999 ", "Groups:\t27 x"), ("Uid:\t1000\t1001\t1001\t1001", "Uid:\t1000"),
        ("Uid:\t1000\t1001\t1001\t1001", "Uid:\t1000\t-1\t1\t1"),
    ])
    func missingOrMalformedLinesAreNil(line: String, replacement: String) {
        #expect(ProcessStatus(parsing: Self.sample.replacingOccurrences(of: line, with: replacement)) == nil)
    }

    @Test func readsThisProcess() throws {
        let status = try #require(ProcessStatus.read(pid: getpid()))
        #expect(status.effectiveUid == geteuid())
        #expect(Set(status.groups) == Set(PeerCredentialsTests.ownGroups()))
    }

    @Test func aProcessThatIsGoneIsNil() {
        #expect(ProcessStatus.read(pid: 5_000_000) == nil)
        #expect(ProcessStatus.read(pid: 0) == nil)
    }
}
