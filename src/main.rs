//! The `sockspec` binary; see [`sockspec::cli`].

fn main() -> std::process::ExitCode {
    bound_allocator_caches();
    sockspec::cli::main()
}

/// Blocks of this size or more are mapped for themselves and unmapped when freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 1 << 20;

/// Fixes glibc's mmap threshold. By default glibc raises it to the size of each large block
/// freed (up to 32 MiB), after which the 1-8 MiB payloads and receive buffers of later scenarios
/// come from per-thread arenas and stay there once freed: a run of ten copies of the suite then
/// held about 180 MiB against 40 MiB for one copy, though no more data was in flight at once.
/// With the threshold fixed, a large buffer goes back to the system when its scenario ends.
fn bound_allocator_caches() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes a malloc tunable; it is called before any other thread
    // exists. A refusal (0) leaves glibc's default, which is still correct, only larger.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    }
}
