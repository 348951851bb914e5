//! A driver's process tree: how to find every process a driver started, kill them all, and reap
//! the ones that become ours.
//!
//! Killing the driver's process group is not enough: a descendant that called `setsid()` has left
//! the group, and a daemon (forked twice) has been reparented away from the driver. What they keep
//! is their environment, so each driver is started with a [`Token`] of its own in
//! [`TOKEN_VARIABLE`], and ending a driver kills every process whose `/proc/PID/environ` carries
//! it. A process that clears its environment is out of reach of the scan; with
//! [`become_subreaper`] it is at least reparented to sockspec, which then reaps it.

use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag};
use nix::unistd::Pid;
use std::collections::HashSet;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The environment variable that carries a driver's token (unique to each driver process) to
/// it and to everything it starts.
pub const TOKEN_VARIABLE: &str = "SOCKSPEC_DRIVER_TOKEN";

/// How long ending a driver's tree may take: killing (repeated while processes still carry the
/// token, since one may be forking) and reaping what was killed.
const KILL_LIMIT: Duration = Duration::from_secs(1);

/// How many scans in a row must find no process of a tree before it is taken to be dead: one
/// empty scan may have missed a process in the middle of `execve` (or just forked).
const QUIET_SCANS: u32 = 3;

/// Set by [`become_subreaper`]: orphans of drivers are then sockspec's children.
static SUBREAPER: AtomicBool = AtomicBool::new(false);

/// The pids of the drivers sockspec started and has not reaped yet. Their exit statuses belong to
/// their [`std::process::Child`] handles; the orphan reaper leaves them alone. Held across a
/// spawn, so that the reaper never sees a driver before it is registered.
static DRIVERS: Mutex<Vec<u32>> = Mutex::new(Vec::new());

pub(crate) fn drivers() -> MutexGuard<'static, Vec<u32>> {
    DRIVERS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Makes this process a child subreaper (Linux's `PR_SET_CHILD_SUBREAPER`, see `prctl(2)`): a
/// process a driver started and then abandoned (a daemon, or the children of a killed driver) is
/// reparented to sockspec instead of `init`, and sockspec reaps it when a driver ends.
///
/// Call it once, early, from a program's `main`. The program then promises that every child
/// process it starts is a driver (started through this module): the reaper waits for zombie
/// children it does not know, which would take another child's exit status from its handle.
pub fn become_subreaper() -> std::io::Result<()> {
    // SAFETY: prctl with PR_SET_CHILD_SUBREAPER reads only its integer arguments.
    let result = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1 as libc::c_ulong, 0, 0, 0) };
    if result != 0 {
        return Err(std::io::Error::last_os_error());
    }
    SUBREAPER.store(true, Ordering::SeqCst);
    Ok(())
}

/// Kills, at once, every process that any driver of this sockspec process started (every process
/// whose token names this process), for a program that must exit now (a second Ctrl-C). Drivers
/// ended this way are not reaped; the program is about to exit.
pub fn kill_all_drivers() {
    let prefix = format!("{TOKEN_VARIABLE}={}-", std::process::id()).into_bytes();
    let mut quiet = 0;
    for _ in 0..100 {
        let found: Vec<i32> = pids()
            .into_iter()
            .filter(|pid| environment_has(*pid, |e| e.starts_with(&prefix)))
            .collect();
        for pid in &found {
            let _ = kill(Pid::from_raw(*pid), Signal::SIGKILL);
        }
        quiet = if found.is_empty() { quiet + 1 } else { 0 };
        if quiet >= QUIET_SCANS {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// A value unique to one driver process and everything it starts (unique across sockspec
/// processes too: it includes sockspec's pid and a random part).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Token(String);

impl Token {
    pub fn new() -> Token {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let random = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        Token(format!(
            "{}-{}-{random:016x}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ))
    }

    pub fn value(&self) -> &str {
        &self.0
    }

    /// The `NAME=VALUE` entry that marks an environment as this driver's.
    fn entry(&self) -> Vec<u8> {
        format!("{TOKEN_VARIABLE}={}", self.0).into_bytes()
    }
}

/// Every pid in `/proc`.
fn pids() -> Vec<i32> {
    let Ok(proc) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    proc.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .collect()
}

/// Whether the environment of `pid` has an entry for which `matches` holds.
fn environment_has(pid: i32, matches: impl Fn(&[u8]) -> bool) -> bool {
    std::fs::read(format!("/proc/{pid}/environ"))
        .is_ok_and(|env| env.split(|b| *b == 0).any(matches))
}

/// The live processes of a driver's tree: those whose environment carries `token`, and the
/// children of `parents`. (A process in the middle of `execve` shows an empty environment for a
/// moment; its parent still names it.)
fn members(token: &Token, parents: &HashSet<i32>) -> Vec<i32> {
    let entry = token.entry();
    let me = std::process::id() as i32;
    pids()
        .into_iter()
        .filter(|pid| *pid != me)
        .filter(|pid| match state_and_parent(*pid) {
            None | Some(('Z' | 'X', _)) => false,
            Some((_, parent)) => {
                parents.contains(&parent) || environment_has(*pid, |e| e == entry.as_slice())
            }
        })
        .collect()
}

/// The state letter and parent of a process, from `/proc/PID/stat`; `None` once it is gone.
fn state_and_parent(pid: i32) -> Option<(char, i32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields = crate::procfs::stat_fields_after_name(&stat)?;
    let state = fields.first()?.chars().next()?;
    let parent = fields.get(1)?.parse().ok()?;
    Some((state, parent))
}

/// Kills every process of one driver: the process group `group` (which the driver leads) and
/// every process carrying `token`, repeatedly until none is left; then reaps those that are
/// sockspec's children (other than `driver` itself, whose [`std::process::Child`] reaps it).
/// Takes at most about [`KILL_LIMIT`].
///
/// `group` MUST still be reserved: the driver is not reaped yet (its zombie holds the id).
pub(crate) fn kill_tree(group: Option<i32>, token: &Token, driver: i32) {
    let deadline = Instant::now() + KILL_LIMIT;
    let mut tree: HashSet<i32> = HashSet::from([driver]);
    // The driver's children are its tree's only while its pid is its own (not reaped).
    let mut parents: HashSet<i32> = group.map(|_| driver).into_iter().collect();
    let mut quiet = 0;
    while quiet < QUIET_SCANS && Instant::now() < deadline {
        if let Some(group) = group {
            let _ = kill(Pid::from_raw(-group), Signal::SIGKILL);
        }
        let found = members(token, &parents);
        for pid in &found {
            let _ = kill(Pid::from_raw(*pid), Signal::SIGKILL);
        }
        quiet = if found.is_empty() { quiet + 1 } else { 0 };
        tree.extend(&found);
        parents.extend(&found);
        // Let SIGKILL land; a dying process's environment disappears with its memory.
        std::thread::sleep(Duration::from_millis(1));
    }
    reap(&tree, driver, deadline);
    reap_orphans();
}

/// Waits (until `deadline`) until every killed process of `tree` is gone or a zombie that is not
/// ours to reap, reaping those that are sockspec's children.
fn reap(tree: &HashSet<i32>, driver: i32, deadline: Instant) {
    let me = std::process::id() as i32;
    let mut pending: Vec<i32> = tree.iter().copied().filter(|p| *p != driver).collect();
    while !pending.is_empty() {
        pending.retain(|pid| match state_and_parent(*pid) {
            None | Some(('X', _)) => false,
            Some(('Z', parent)) if parent == me => {
                let _ = waitpid(Pid::from_raw(*pid), Some(WaitPidFlag::WNOHANG));
                false
            }
            // Its parent, not in the tree, will reap it; a parent in the tree is dying, and the
            // zombie will be reparented (to sockspec or to init).
            Some(('Z', parent)) => tree.contains(&parent),
            Some(_) => true,
        });
        if Instant::now() >= deadline {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// As a subreaper, kills and reaps the children sockspec inherited (orphans of drivers: a
/// subreaper's only children are its drivers and what they abandoned, so this finds even a
/// descendant that cleared its environment and left the process group); never a driver, whose
/// [`std::process::Child`] handle will reap it.
fn reap_orphans() {
    if !SUBREAPER.load(Ordering::SeqCst) {
        return;
    }
    let drivers = drivers();
    let me = std::process::id() as i32;
    let mut killed = Vec::new();
    for pid in pids() {
        if drivers.contains(&(pid as u32)) {
            continue;
        }
        match state_and_parent(pid) {
            Some(('Z', parent)) if parent == me => {
                let _ = waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG));
            }
            Some((_, parent)) if parent == me => {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
                killed.push(pid);
            }
            _ => {}
        }
    }
    drop(drivers);
    // SIGKILL lands at once, unless the process is in an uninterruptible sleep: bounded.
    let deadline = Instant::now() + Duration::from_millis(100);
    while !killed.is_empty() && Instant::now() < deadline {
        killed.retain(|pid| {
            !matches!(
                waitpid(Pid::from_raw(*pid), Some(WaitPidFlag::WNOHANG)),
                Ok(nix::sys::wait::WaitStatus::Exited(..)
                    | nix::sys::wait::WaitStatus::Signaled(..))
                    | Err(_)
            )
        });
        if !killed.is_empty() {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// An open pidfd for `pid` (`pidfd_open(2)`): readable once the process has exited. `None` where
/// the kernel has none (before Linux 5.3); the driver's exit is then noticed when its pipes close.
pub(crate) fn pidfd(pid: u32) -> Option<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd < 0 {
        return None;
    }
    // SAFETY: the descriptor was just created and is owned by nothing else.
    Some(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd as i32) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique() {
        assert_ne!(Token::new(), Token::new());
    }

    /// The live processes carrying `token`.
    fn carrying(token: &Token) -> Vec<i32> {
        members(token, &HashSet::new())
    }

    #[test]
    fn a_process_that_left_the_group_is_found_by_its_token_and_killed() {
        let token = Token::new();
        let mut child = std::process::Command::new("setsid")
            .args(["sleep", "30"])
            .env(TOKEN_VARIABLE, token.value())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while carrying(&token).is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        kill_tree(None, &token, child.id() as i32);
        let _ = child.wait();
        assert!(carrying(&token).is_empty());
    }

    #[test]
    fn stat_is_parsed_past_the_command_name() {
        let (state, parent) = state_and_parent(std::process::id() as i32).unwrap();
        assert!("RSD".contains(state));
        assert!(parent > 0);
    }
}
