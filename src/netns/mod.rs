//! Linux network namespaces held by this process alone, and iproute2 run inside them.
//!
//! A [`Namespace`] is made by a thread of its own that calls `unshare(CLONE_NEWNET)` and then
//! parks: the namespace lives as long as that thread, its file descriptor, or anything inside
//! it (a socket, a process) does, and no longer. Nothing is mounted under `/run/netns` (as
//! `ip netns add` would), so a process that is killed outright leaves no namespace behind: the
//! kernel frees each one, with its links, when its last reference goes.
//!
//! `setns` changes only the calling thread's namespace, so a thread [enters](Namespace::enter) a
//! namespace to make its sockets there, and a process started by that thread (`fork` copies
//! the calling thread's namespaces) runs there too: commands are run from such a thread, never
//! entered between `fork` and `exec` (see `runner::hosts` for why). The parked thread's id names the namespace
//! to the kernel where a process id is wanted (`ip link … netns ID`): the kernel looks a thread
//! id up like a process id and takes that thread's namespace.

use std::cell::Cell;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::process::Output;
use std::sync::mpsc;
use std::thread::JoinHandle;

/// Why a namespace could not be made, entered or configured.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetnsError {
    /// This process may not create network namespaces (not root, no `CAP_SYS_ADMIN`).
    #[error(
        "cannot create a network namespace ({0}): multi-host scenarios need root (CAP_SYS_ADMIN \
         and CAP_NET_ADMIN)"
    )]
    NotPermitted(#[source] io::Error),
    /// iproute2's `ip` or `tc` is not installed.
    #[error(
        "`{0}` (iproute2) is not installed: multi-host scenarios build their networks with it"
    )]
    MissingTool(String),
    /// A system call failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// A command run inside a namespace failed.
    #[error("`{command}` failed: {output}")]
    Command {
        /// The command and, for a batch, the line that failed.
        command: String,
        /// What it printed.
        output: String,
    },
}

thread_local! {
    /// Whether this thread has entered a namespace of a scenario.
    static ENTERED: Cell<bool> = const { Cell::new(false) };
}

/// True when the calling thread has [entered](Namespace::enter) a scenario's namespace (so
/// that, say, a pool of processes started elsewhere must not serve it).
pub fn entered() -> bool {
    ENTERED.with(Cell::get)
}

/// A network namespace of its own, alive until dropped (and until the last socket or process
/// inside it is gone).
pub struct Namespace {
    fd: OwnedFd,
    tid: i32,
    /// Dropped to let the holding thread end.
    release: Option<mpsc::Sender<()>>,
    holder: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Namespace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Namespace").field("tid", &self.tid).finish()
    }
}

impl Namespace {
    /// A new, empty network namespace (its loopback down, as the kernel makes it).
    pub fn new() -> Result<Namespace, NetnsError> {
        let (made, made_rx) = mpsc::channel::<Result<(OwnedFd, i32), NetnsError>>();
        let (release, released) = mpsc::channel::<()>();
        let holder = std::thread::Builder::new()
            .name("netns holder".to_string())
            .spawn(move || {
                let result = unshare_here();
                let ok = result.is_ok();
                let _ = made.send(result);
                if ok {
                    // Parked until the namespace is released: its id names the namespace.
                    let _ = released.recv();
                }
            })
            .map_err(|source| NetnsError::Io {
                what: "cannot start a thread to hold a network namespace".to_string(),
                source,
            })?;
        let made = made_rx.recv().unwrap_or_else(|_| {
            Err(NetnsError::Io {
                what: "the namespace's thread ended early".to_string(),
                source: io::Error::other("no answer"),
            })
        });
        match made {
            Ok((fd, tid)) => Ok(Namespace {
                fd,
                tid,
                release: Some(release),
                holder: Some(holder),
            }),
            Err(e) => {
                let _ = holder.join();
                Err(e)
            }
        }
    }

    /// The id of the thread that holds it, which names it where a process id is wanted.
    pub fn id(&self) -> i32 {
        self.tid
    }

    /// Moves the calling thread into this namespace: the sockets it creates from now on, and
    /// the processes it starts, are there.
    pub fn enter(&self) -> Result<(), NetnsError> {
        // SAFETY: setns on a namespace descriptor this value owns; it changes only this thread.
        if unsafe { libc::setns(self.fd.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
            return Err(NetnsError::Io {
                what: "cannot enter the host's network namespace (setns)".to_string(),
                source: io::Error::last_os_error(),
            });
        }
        ENTERED.with(|e| e.set(true));
        Ok(())
    }

    /// Runs `work` on a short-lived thread inside the namespace (for what is per-namespace
    /// through the calling thread, such as the files of `/proc/sys/net`).
    pub fn within<T: Send>(
        &self,
        work: impl FnOnce() -> Result<T, NetnsError> + Send,
    ) -> Result<T, NetnsError> {
        std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("netns work".to_string())
                .spawn_scoped(scope, || {
                    self.enter()?;
                    work()
                })
                .map_err(|source| NetnsError::Io {
                    what: "cannot start a thread in the namespace".to_string(),
                    source,
                })?
                .join()
                .unwrap_or_else(|_| {
                    Err(NetnsError::Io {
                        what: "the namespace's work panicked".to_string(),
                        source: io::Error::other("panic"),
                    })
                })
        })
    }

    /// Sets the sysctl `name` (dotted, below `net.`) of this namespace to `value`.
    pub fn set_sysctl(&self, name: &str, value: &str) -> Result<(), NetnsError> {
        let path = format!("/proc/sys/{}", name.replace('.', "/"));
        self.within(|| {
            std::fs::write(&path, value).map_err(|source| NetnsError::Io {
                what: if source.kind() == io::ErrorKind::NotFound {
                    format!(
                        "sysctl `{name}` is not a setting of a network namespace here (no {path})"
                    )
                } else {
                    format!("cannot set sysctl `{name}` to `{value}`")
                },
                source,
            })
        })
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        self.release.take();
        if let Some(holder) = self.holder.take() {
            let _ = holder.join();
        }
    }
}

/// What a command run to its end printed, as the error of a failure (`Ok` if it succeeded);
/// `shown` is the command as the error names it. A command that could not start because the
/// program is missing is [`NetnsError::MissingTool`].
pub fn check_output(
    program: &str,
    shown: &str,
    output: io::Result<Output>,
) -> Result<(), NetnsError> {
    let output = output.map_err(|source| {
        if source.kind() == io::ErrorKind::NotFound {
            NetnsError::MissingTool(program.to_string())
        } else {
            NetnsError::Io {
                what: format!("cannot run `{shown}`"),
                source,
            }
        }
    })?;
    if output.status.success() {
        return Ok(());
    }
    let mut printed = String::from_utf8_lossy(&output.stderr).trim().to_string();
    if printed.is_empty() {
        printed = String::from_utf8_lossy(&output.stdout).trim().to_string();
    }
    Err(NetnsError::Command {
        command: shown.to_string(),
        output: format!("{printed} ({})", output.status),
    })
}

/// On the calling thread: a new network namespace, a descriptor of it, and this thread's id.
fn unshare_here() -> Result<(OwnedFd, i32), NetnsError> {
    // SAFETY: unshare changes only the calling thread's namespace (CLONE_NEWNET).
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        let error = io::Error::last_os_error();
        return Err(match error.raw_os_error() {
            Some(libc::EPERM) | Some(libc::EACCES) => NetnsError::NotPermitted(error),
            _ => NetnsError::Io {
                what: "cannot create a network namespace (unshare)".to_string(),
                source: error,
            },
        });
    }
    let file =
        std::fs::File::open("/proc/thread-self/ns/net").map_err(|source| NetnsError::Io {
            what: "cannot open the new network namespace".to_string(),
            source,
        })?;
    // SAFETY: gettid has no preconditions.
    let tid = unsafe { libc::gettid() };
    Ok((OwnedFd::from(file), tid))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// Skips (returning `None`) where namespaces cannot be made, saying why.
    fn namespace() -> Option<Namespace> {
        match Namespace::new() {
            Ok(ns) => Some(ns),
            Err(NetnsError::NotPermitted(e)) => {
                eprintln!("skipped: no network namespaces here ({e})");
                None
            }
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn a_socket_made_after_enter_lives_in_the_namespace_not_the_machine() {
        let Some(ns) = namespace() else { return };
        let machine = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = machine.local_addr().unwrap().port();
        std::thread::scope(|scope| {
            scope.spawn(|| {
                ns.enter().unwrap();
                assert!(entered());
                // The namespace's loopback is another one: the machine's listener is not there.
                let reached = std::net::TcpStream::connect(("127.0.0.1", port));
                assert!(
                    reached.is_err(),
                    "reached the machine's listener from inside"
                );
            });
        });
        assert!(!entered(), "only the thread that entered is inside");
        // The machine's own thread still reaches it.
        assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
    }

    #[test]
    fn commands_run_inside_the_namespace_and_report_failures() {
        let Some(ns) = namespace() else { return };
        let run = |args: &[&str]| {
            let output = ns.within(|| Ok(Command::new("ip").args(args).output()))?;
            check_output("ip", "ip", output)
        };
        if let Err(NetnsError::MissingTool(tool)) = run(&["link", "set", "lo", "up"]) {
            eprintln!("skipped: {tool} is missing");
            return;
        }
        let failed = run(&["link", "set", "nosuchlink", "up"]);
        assert!(
            matches!(failed, Err(NetnsError::Command { .. })),
            "{failed:?}"
        );
    }

    #[test]
    fn sysctls_are_the_namespace_s_own() {
        let Some(ns) = namespace() else { return };
        ns.set_sysctl("net.ipv4.tcp_syn_retries", "1").unwrap();
        let inside = ns
            .within(|| Ok(std::fs::read_to_string("/proc/sys/net/ipv4/tcp_syn_retries").unwrap()))
            .unwrap();
        assert_eq!(inside.trim(), "1");
        let outside = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_syn_retries").unwrap();
        assert_ne!(
            outside.trim(),
            "1",
            "the machine's own setting is untouched"
        );
        assert!(ns.set_sysctl("net.nosuch.thing", "1").is_err());
    }
}
