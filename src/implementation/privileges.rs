//! Running without privileges: Linux capabilities dropped, for actors a scenario marks
//! `unprivileged` (a `bind` to a port below 1024 then fails with `EACCES`, as an ordinary user's).
//!
//! Capabilities belong to each thread, so an in-process implementation whose calls run on the
//! calling thread is made unprivileged by [`drop_for_this_thread`]; a driver process by
//! [`drop_before_exec`], in the child between fork and exec.

/// `_LINUX_CAPABILITY_VERSION_3`: 64-bit capability sets, as two 32-bit words.
const CAPABILITY_VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// Empties the calling thread's effective, permitted and inheritable capability sets (capset(2));
/// the thread cannot get them back. The thread keeps its user id: it is root without root's
/// powers, so file permissions are checked as for an ordinary owner.
pub fn drop_for_this_thread() -> std::io::Result<()> {
    let header = CapHeader {
        version: CAPABILITY_VERSION_3,
        pid: 0,
    };
    let data = [CapData {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    }; 2];
    // SAFETY: capset reads one header and two data words, which these are; the raw syscall
    // (not a libc wrapper that would change every thread) affects only the calling thread.
    let result = unsafe { libc::syscall(libc::SYS_capset, &header, data.as_ptr()) };
    if result == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// For a child between fork and exec: locks root out of capabilities across exec (the secure
/// bits `SECBIT_NOROOT`, `SECBIT_NO_SETUID_FIXUP` and `SECBIT_KEEP_CAPS`, each locked), empties
/// the bounding and ambient sets, then drops every capability. Only async-signal-safe calls.
pub fn drop_before_exec() -> std::io::Result<()> {
    // SECBIT_NOROOT | _LOCKED | SECBIT_NO_SETUID_FIXUP | _LOCKED | SECBIT_KEEP_CAPS_LOCKED.
    const SECURE_BITS: libc::c_ulong = 0b10_1111;
    // SAFETY: prctl with integer arguments only.
    unsafe {
        // Without CAP_SETPCAP these fail; the process then has no capabilities to lose, which
        // the caller checks after exec (see `has_no_capabilities`).
        libc::prctl(libc::PR_SET_SECUREBITS, SECURE_BITS, 0, 0, 0);
        for capability in 0..64 {
            libc::prctl(libc::PR_CAPBSET_DROP, capability as libc::c_ulong, 0, 0, 0);
        }
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
            0,
            0,
            0,
        );
    }
    drop_for_this_thread()
}

/// True when process `pid` has no effective capability (its `CapEff` in /proc is zero).
pub fn has_no_capabilities(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            crate::procfs::status_field(&status, "CapEff")
                .map(|caps| caps.chars().all(|c| c == '0'))
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_without_capabilities_cannot_bind_a_reserved_port() {
        let reserved = std::net::SocketAddr::from(([127, 0, 0, 1], 1));
        let outcome = std::thread::spawn(move || {
            drop_for_this_thread().unwrap();
            std::net::TcpListener::bind(reserved).map(|_| ())
        })
        .join()
        .unwrap();
        assert_eq!(
            outcome.unwrap_err().kind(),
            std::io::ErrorKind::PermissionDenied
        );
    }
}
