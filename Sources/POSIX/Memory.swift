/// glibc's malloc_trim(3); not exported by Swift's Glibc module (it lives in <malloc.h>).
@_silgen_name("malloc_trim")
private func glibcMallocTrim(_ pad: Int) -> Int32

public enum Memory {
    /// Returns free heap pages to the kernel. Start-up replay allocates and frees large temporary
    /// buffers that glibc would otherwise keep resident for the daemon's lifetime.
    public static func trim() {
        _ = glibcMallocTrim(0)
    }
}
