#if canImport(Glibc)
    import Glibc
#endif

/// glibc's malloc_trim(3); not exported by Swift's Glibc module (it lives in <malloc.h>).
@_silgen_name("malloc_trim")
private func glibcMallocTrim(_ pad: Int) -> Int32

public enum Memory {
    /// Returns free heap pages to the kernel. Start-up replay allocates and frees large temporary
    /// buffers that glibc would otherwise keep resident for the daemon's lifetime.
    public static func trim() {
        guard heapIsGlibcs else { return }
        _ = glibcMallocTrim(0)
    }

    /// Under AddressSanitizer or ThreadSanitizer (the CI's test runs) the sanitizer's allocator serves
    /// malloc, and malloc_trim would walk glibc arenas that were never set up (a SEGV in mtrim).
    private static let heapIsGlibcs = dlsym(nil, "__asan_init") == nil && dlsym(nil, "__tsan_init") == nil
}
