//! Giving memory back between polls: a service that is idle most of the time should not keep the
//! high-water mark of its last poll resident.

/// Returns the allocator's free memory to the operating system where the allocator allows it
/// (glibc keeps freed blocks in its arenas until asked); elsewhere it does nothing.
pub fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists; any padding value is valid.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Caps glibc's malloc arenas at two: by default every thread that allocates may get its own
/// arena (up to eight per core), each keeping freed memory resident; a daemon whose parsing
/// threads come and go pays for that in RSS. Call once at start, before threads exist.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; M_ARENA_MAX accepts any positive count.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}
