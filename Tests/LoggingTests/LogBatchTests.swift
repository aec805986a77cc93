import Foundation
import Logging
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `LogBatch.collect` holds a thread's stderr lines and writes them together, in writes that each hold
/// whole lines and stay atomic on a pipe. Checked through a real pipe, read without blocking.
@Suite struct LogBatchTests {
    final class Pipe {
        let read: Int32
        let write: Int32
        init() throws {
            var fds: [Int32] = [0, 0]
            guard pipe(&fds) == 0 else { throw POSIXError(.EMFILE) }
            read = fds[0]
            write = fds[1]
            _ = fcntl(read, F_SETFL, fcntl(read, F_GETFL) | O_NONBLOCK)
        }
        deinit {
            close(read)
            close(write)
        }
        /// Whatever the pipe holds now.
        func drain() -> String {
            var out: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = chunk.withUnsafeMutableBytes { Glibc.read(read, $0.baseAddress, $0.count) }
                guard count > 0 else { break }
                out += chunk[0..<count]
            }
            return String(decoding: out, as: UTF8.self)
        }
    }

    @Test func outsideABatchEachLineGoesAtOnce() throws {
        let pipe = try Pipe()
        let sink = StandardErrorSink(descriptor: pipe.write)
        sink.write(Array("one".utf8))
        #expect(pipe.drain() == "one\n")
    }

    @Test func insideABatchLinesWaitUntilItEnds() throws {
        let pipe = try Pipe()
        let logger = Logger(level: .info, sink: StandardErrorSink(descriptor: pipe.write))
        var seenInside = "unread"
        LogBatch.collect {
            logger.info("bound", [("n", "1")])
            logger.info("bound", [("n", "2")])
            LogBatch.collect { logger.info("nested") }  // joins the outer batch
            seenInside = pipe.drain()
        }
        #expect(seenInside == "")
        #expect(pipe.drain() == "<6>bound n=1\n<6>bound n=2\n<6>nested\n")
    }

    @Test func aLineMoreSevereThanInfoGoesOutAtOnceAfterTheLinesBeforeIt() throws {
        let pipe = try Pipe()
        let logger = Logger(level: .debug, sink: StandardErrorSink(descriptor: pipe.write))
        var afterInfo = "unread"
        var afterError = "unread"
        var afterNotice = "unread"
        LogBatch.collect {
            logger.info("bound", [("n", "1")])
            logger.debug("detail")
            afterInfo = pipe.drain()
            logger.error("binding not stored", [("error", "No space left on device")])
            afterError = pipe.drain()
            logger.info("bound", [("n", "2")])
            logger.notice("callback for an unknown serialNo")
            afterNotice = pipe.drain()
            logger.info("bound", [("n", "3")])
        }
        #expect(afterInfo == "")
        #expect(
            afterError == "<6>bound n=1\n<7>detail\n<3>binding not stored error=\"No space left on device\"\n"
        )
        #expect(afterNotice == "<6>bound n=2\n<5>callback for an unknown serialNo\n")
        #expect(pipe.drain() == "<6>bound n=3\n")
    }

    @Test func aBigBatchLeavesInWholeLinesOfAtMostOneAtomicWrite() throws {
        let pipe = try Pipe()
        let sink = StandardErrorSink(descriptor: pipe.write)
        let line = Array(("<6>" + String(repeating: "x", count: 196)).utf8)  // 200 bytes with its newline
        var seenInside = ""
        LogBatch.collect {
            for _ in 0..<30 { sink.write(line) }  // 6,000 bytes: more than one atomic write holds
            seenInside = pipe.drain()
        }
        // The first 20 lines (4,000 bytes) went out when the 21st would not fit with them.
        #expect(seenInside.count == 20 * 200)
        #expect(seenInside.hasSuffix("\n"))
        #expect(pipe.drain().count == 10 * 200)
    }

    @Test func aLineLongerThanOneAtomicWriteStillGoesOutWhole() throws {
        let pipe = try Pipe()
        let sink = StandardErrorSink(descriptor: pipe.write)
        let long = "<6>" + String(repeating: "y", count: 10_000)
        LogBatch.collect {
            sink.write(Array("<6>short".utf8))
            sink.write(Array(long.utf8))
        }
        #expect(pipe.drain() == "<6>short\n" + long + "\n")
    }

    /// Lines built straight into the batch's buffer (what `Logger` does) leave in the same writes as
    /// lines handed over whole.
    @Test func linesBuiltInPlaceLeaveInWholeLinesOfAtMostOneAtomicWrite() throws {
        let pipe = try Pipe()
        let sink = StandardErrorSink(descriptor: pipe.write)
        let line = Array(("<6>" + String(repeating: "x", count: 196)).utf8)
        var seenInside = ""
        LogBatch.collect {
            for _ in 0..<30 { sink.write(level: .info) { $0.append(contentsOf: line) } }
            seenInside = pipe.drain()
        }
        #expect(seenInside == String(repeating: String(decoding: line, as: UTF8.self) + "\n", count: 20))
        #expect(pipe.drain() == String(repeating: String(decoding: line, as: UTF8.self) + "\n", count: 10))

        let long = "<6>" + String(repeating: "y", count: 10_000)
        LogBatch.collect {
            sink.write(level: .info) { $0.append(contentsOf: Array("<6>short".utf8)) }
            sink.write(level: .info) { $0.append(contentsOf: Array(long.utf8)) }
            sink.write(level: .info) { $0.append(contentsOf: Array("<6>after".utf8)) }
        }
        #expect(pipe.drain() == "<6>short\n" + long + "\n<6>after\n")

        var afterNotice = ""
        LogBatch.collect {
            Logger(level: .debug, sink: sink).info("routine")
            Logger(level: .debug, sink: sink).notice("now")
            afterNotice = pipe.drain()
            Logger(level: .debug, sink: sink).debug("later")
        }
        #expect(afterNotice == "<6>routine\n<5>now\n")
        #expect(pipe.drain() == "<7>later\n")
    }

    @Test func anotherThreadsLinesAreNotHeld() throws {
        let pipe = try Pipe()
        let sink = StandardErrorSink(descriptor: pipe.write)
        var seenInside = ""
        LogBatch.collect {
            sink.write(Array("<6>mine".utf8))
            let done = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                sink.write(Array("<6>theirs".utf8))
                done.signal()
            }
            done.wait()
            seenInside = pipe.drain()
        }
        #expect(seenInside == "<6>theirs\n")
        #expect(pipe.drain() == "<6>mine\n")
    }
}
