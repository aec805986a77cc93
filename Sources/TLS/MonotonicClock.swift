import Glibc

/// Nanoseconds on CLOCK_MONOTONIC, the clock deadlines are expressed in (immune to wall-clock jumps).
func monotonicNanos() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}
