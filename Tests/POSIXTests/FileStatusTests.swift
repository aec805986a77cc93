import Foundation
import Testing

@testable import POSIX

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct FileStatusTests {
    @Test func aDirectoryLockedThroughOneDescriptorIsRefusedThroughAnotherAndNamesItsHolder() throws {
        let path = NSTemporaryDirectory() + "openidd-posix-tests-" + UUID().uuidString
        try FileSystem.makeDirectory(path)
        defer { rmdir(path) }
        let first = try FileDescriptor.open(path, O_RDONLY | O_DIRECTORY)
        let second = try FileDescriptor.open(path, O_RDONLY | O_DIRECTORY)
        defer { second.close() }
        #expect(try first.lockExclusively())
        #expect(try !second.lockExclusively())
        #expect(FileLocks.holder(of: try second.status()) == getpid())
        first.close()
        // A process that other tests spawn at this moment holds a copy of `first` between its fork and
        // its exec (where O_CLOEXEC closes it), and with it the lock: give such a child up to 5 s.
        var relocked = try second.lockExclusively()
        for _ in 0..<500 where !relocked {
            usleep(10_000)
            relocked = try second.lockExclusively()
        }
        #expect(relocked, "the lock is free once its descriptor is closed")
    }

    @Test func holderIsReadFromProcLocksLines() {
        // Major 0x103, minor 0x2f, as stat(2) encodes a device number.
        let file = FileStatus(device: (0x103 << 8) | 0x2f, inode: 1234)
        let text = """
            1: POSIX  ADVISORY  WRITE 99 103:2f:1234 0 EOF
            2: FLOCK  ADVISORY  WRITE 4242 103:2f:1234 0 EOF
            2: -> FLOCK  ADVISORY  WRITE 77 103:2f:1234 0 EOF
            3: FLOCK  ADVISORY  WRITE 5 103:2f:12345 0 EOF
            """
        #expect(FileLocks.holder(of: file, in: text) == 4242)
        #expect(FileLocks.holder(of: file, in: "3: FLOCK  ADVISORY  WRITE 5 103:2f:12345 0 EOF") == nil)
        #expect(FileLocks.holder(of: file, in: "") == nil)
    }

    @Test func linkStatusSeesTheLinkItselfAndNothingWhereNothingIs() throws {
        let path = NSTemporaryDirectory() + "openidd-posix-tests-" + UUID().uuidString
        #expect(try FileSystem.linkStatus(path) == nil)
        #expect(symlink("/dev/null", path) == 0)
        defer { unlink(path) }
        let link = try #require(try FileSystem.linkStatus(path))
        let target = try FileDescriptor.open("/dev/null", O_RDONLY)
        defer { target.close() }
        #expect(link != (try target.status()))
    }
}
