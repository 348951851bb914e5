//! Starting a driver's further processes as its first one ended up started, without the shell
//! and launchers its command went through.
//!
//! A driver's command runs under `/bin/sh -c`, and often through a launcher: pyenv's `python3`
//! shim is a tree of about twenty bash processes, some 70 ms of CPU a start against 9 ms for the
//! interpreter itself. Every step of such a chain `exec`s, so once the first process has answered
//! `hello`, the pid the runner started is the driver itself, and `/proc` says how to start
//! another one directly: its program (`exe`), its arguments (`cmdline`) and the environment it
//! was started with (`environ`: whatever the launchers added, `LD_PRELOAD` included, is kept).
//!
//! That is the same start only if nothing on the way changed what a new process inherits. So
//! the process's working directory, namespaces, root directory, cgroups, personality,
//! credentials and capabilities, `no_new_privs`, seccomp mode and filters, CPU and memory
//! affinity, umask, hard resource limits, scheduling policy, priority, nice value and OOM score
//! adjustment must all be the starting thread's own; any difference (`cd`, `nsenter`, `ssh`,
//! `sudo`, `chroot`, `taskset`, `prlimit`, `nice`, `setarch`, a sandbox…), anything unreadable,
//! or a program that is no longer on disk, and the driver's processes keep starting through its
//! command. Not compared, because programs set them on themselves: soft resource limits (Node.js
//! raises its open-files limit to the hard one), signal dispositions (CPython and Node.js ignore
//! `SIGPIPE`); nor the I/O priority, inherited descriptors, memory policy or Landlock rules.
//!
//! A command whose every start differs would be frozen at its first start's values, which no
//! check can see, so only a simple command without expansions (no `$`, no backquote; see
//! `shell_command`) is ever started directly, and `SOCKSPEC_NO_RELAUNCH=1` turns it off. A
//! launcher that makes per-start values itself (a fresh temporary directory in its arguments)
//! needs that variable. Whatever the start, every process must answer `hello` exactly as the
//! first did, which the runner checks.

use crate::procfs::{stat_fields_after_name, status_field};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// How to start another process of a driver directly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Relaunch {
    /// The program, an absolute path.
    pub program: String,
    /// Its arguments, the first being its `argv[0]`.
    pub argv: Vec<String>,
    /// The environment variables to set (those the chain added or changed).
    pub set: BTreeMap<String, String>,
    /// The environment variables to remove (those the chain removed).
    pub unset: Vec<String>,
}

/// The environment variable that turns direct starts off (`SOCKSPEC_NO_RELAUNCH=1`).
pub const NO_RELAUNCH_VARIABLE: &str = "SOCKSPEC_NO_RELAUNCH";

/// The `/proc/status` lines that must be the starting thread's own (a line the kernel does not
/// have is absent from both).
const SAME_STATUS: [&str; 14] = [
    "Umask",
    "Uid",
    "Gid",
    "Groups",
    "NoNewPrivs",
    "Seccomp",
    "Seccomp_filters",
    "CapInh",
    "CapPrm",
    "CapEff",
    "CapBnd",
    "CapAmb",
    "Cpus_allowed_list",
    "Mems_allowed_list",
];

/// The namespaces that must be the starting thread's own.
const NAMESPACES: [&str; 8] = ["cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"];

/// How to start another process like `pid`, a driver process this thread started with
/// `command` in `dir` (with the variable `token` in its environment, which each process gets its
/// own of), if that is the same as starting it through its command; else why it may not be, or
/// cannot be told.
pub(crate) fn observe(
    pid: u32,
    command: &str,
    dir: &Path,
    token: &str,
) -> Result<Relaunch, String> {
    if command.contains(['$', '`']) || !super::process::is_simple(command) {
        return Err("the command is not a simple one that expands nothing".to_string());
    }
    if std::env::var_os(NO_RELAUNCH_VARIABLE).is_some_and(|v| !v.is_empty() && v != "0") {
        return Err(format!("{NO_RELAUNCH_VARIABLE} is set"));
    }
    let process = format!("/proc/{pid}");
    let thread = "/proc/thread-self";
    let unreadable = |what: &str| format!("{what} cannot be read");
    let link = |path: String| std::fs::read_link(&path).map_err(|_| unreadable(&path));
    let cwd = link(format!("{process}/cwd"))?;
    if cwd
        != dir
            .canonicalize()
            .map_err(|_| unreadable(&dir.display().to_string()))?
    {
        return Err(format!(
            "it runs in {}, not {}",
            cwd.display(),
            dir.display()
        ));
    }
    for what in NAMESPACES
        .iter()
        .map(|namespace| format!("ns/{namespace}"))
        .chain(["root".to_string()])
    {
        if link(format!("{process}/{what}"))? != link(format!("{thread}/{what}"))? {
            return Err(format!("its {what} differs"));
        }
    }
    let read = |path: String| std::fs::read_to_string(&path).map_err(|_| unreadable(&path));
    let (theirs, ours) = (
        read(format!("{process}/status"))?,
        read(format!("{thread}/status"))?,
    );
    for key in SAME_STATUS {
        if status_field(&theirs, key) != status_field(&ours, key) {
            return Err(format!(
                "its {key} is {:?}, the starting thread's {:?}",
                status_field(&theirs, key),
                status_field(&ours, key)
            ));
        }
    }
    for file in ["oom_score_adj", "cgroup", "personality"] {
        if read(format!("{process}/{file}"))? != read(format!("{thread}/{file}"))? {
            return Err(format!("its {file} differs"));
        }
    }
    let limits = |dir: &str| hard_limits(dir).ok_or_else(|| unreadable(&format!("{dir}/limits")));
    if limits(&process)? != limits(thread)? {
        return Err("its hard resource limits differ".to_string());
    }
    let sched = |dir: &str| scheduling(dir).ok_or_else(|| unreadable(&format!("{dir}/stat")));
    let (theirs, ours) = (sched(&process)?, sched(thread)?);
    if theirs != ours {
        return Err(format!(
            "its priority, nice value, real-time priority and policy are {theirs:?}, the \
             starting thread's {ours:?}"
        ));
    }
    let program = link(format!("{process}/exe"))?;
    // A program replaced or removed since it started reads "… (deleted)".
    if !program.is_absolute() || !program.is_file() {
        return Err(format!("its program {} is not on disk", program.display()));
    }
    let strings = |path: String| {
        let bytes = std::fs::read(&path).map_err(|_| unreadable(&path))?;
        nul_separated(&bytes).ok_or_else(|| format!("{path} is not UTF-8"))
    };
    let argv = strings(format!("{process}/cmdline"))?;
    if argv.is_empty() {
        return Err("its command line is empty".to_string());
    }
    let started_with: BTreeMap<String, String> = strings(format!("{process}/environ"))?
        .into_iter()
        .filter_map(|entry| {
            let (name, value) = entry.split_once('=')?;
            Some((name.to_string(), value.to_string()))
        })
        .filter(|(name, _)| name != token)
        .collect();
    let mut ours = BTreeMap::new();
    for (name, value) in std::env::vars_os() {
        let (Ok(name), Ok(value)) = (name.into_string(), value.into_string()) else {
            return Err("the runner's environment is not UTF-8".to_string());
        };
        ours.insert(name, value);
    }
    ours.remove(token);
    let set = started_with
        .iter()
        .filter(|(name, value)| ours.get(*name) != Some(value))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    let unset = ours
        .keys()
        .filter(|name| !started_with.contains_key(*name))
        .cloned()
        .collect();
    Ok(Relaunch {
        program: program
            .to_str()
            .ok_or("its program's path is not UTF-8")?
            .to_string(),
        argv,
        set,
        unset,
    })
}

/// Each resource limit's hard value, from `/proc/…/limits`, whose columns the kernel prints at
/// fixed widths (`%-25s %-20s %-20s %-10s`: name, soft, hard, units).
fn hard_limits(dir: &str) -> Option<Vec<String>> {
    let limits = std::fs::read_to_string(format!("{dir}/limits")).ok()?;
    limits
        .lines()
        .skip(1)
        .map(|line| {
            let name = line.get(..25)?.trim();
            let hard = line.get(47..)?.split_whitespace().next()?;
            Some(format!("{name}={hard}"))
        })
        .collect()
}

/// Priority, nice value, real-time priority and scheduling policy, from `/proc/…/stat`.
fn scheduling(dir: &str) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("{dir}/stat")).ok()?;
    let fields = stat_fields_after_name(&stat)?;
    // stat(5) numbers them from 1: priority 18, nice 19, rt_priority 40, policy 41.
    [18, 19, 40, 41]
        .iter()
        .map(|n| fields.get(n - 3).map(|f| f.to_string()))
        .collect()
}

/// The strings of a NUL-terminated `/proc` file (empty ones kept: an empty argument is one),
/// if all are UTF-8.
fn nul_separated(bytes: &[u8]) -> Option<Vec<String>> {
    let Some(body) = bytes.strip_suffix(&[0]) else {
        return bytes.is_empty().then(Vec::new);
    };
    body.split(|b| *b == 0)
        .map(|part| String::from_utf8(part.to_vec()).ok())
        .collect()
}

impl Relaunch {
    /// True when it can be used: an absolute program that is a file, and an `argv[0]` (a record
    /// read back from a file is checked so).
    pub fn is_usable(&self) -> bool {
        Path::new(&self.program).is_absolute()
            && Path::new(&self.program).is_file()
            && !self.argv.is_empty()
    }

    /// The program, ready to be started (the caller sets the pipes, the token and the rest).
    pub fn command(&self) -> std::process::Command {
        use std::os::unix::process::CommandExt;
        let mut command = std::process::Command::new(Path::new(&self.program));
        if let Some((first, rest)) = self.argv.split_first() {
            command.arg0(first).args(rest);
        }
        command.envs(&self.set);
        for name in &self.unset {
            command.env_remove(name);
        }
        command
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn started(command: &mut std::process::Command) -> std::process::Child {
        command
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap()
    }

    /// Waits, bounded, until the child has exec'd into `program`: its `exe` link says so, and its
    /// command line is there (the kernel sets `exe` before the arguments, in the middle of the
    /// exec; a driver has answered `hello` by the time the runner looks).
    fn wait_for_exec(pid: u32, program: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while std::fs::read_link(format!("/proc/{pid}/exe"))
            .map_or(true, |exe| !exe.to_string_lossy().ends_with(program))
            || std::fs::read(format!("/proc/{pid}/cmdline")).map_or(true, |c| c.is_empty())
        {
            assert!(
                std::time::Instant::now() < deadline,
                "no exec into {program}"
            );
            std::thread::yield_now();
        }
    }

    #[test]
    fn a_process_started_through_a_shell_and_env_is_started_again_directly_with_its_variables() {
        let mut child = started(
            std::process::Command::new("/bin/sh")
                .arg("-c")
                .arg("exec env SOCKSPEC_RELAUNCH_TEST=kept TOKEN_X=1 cat")
                .env("TOKEN_X", "1"),
        );
        wait_for_exec(child.id(), "/cat");
        let here = std::env::current_dir().unwrap();
        let relaunch = observe(child.id(), "env X=kept cat", &here, "TOKEN_X").unwrap();
        assert!(relaunch.program.ends_with("/cat"), "{relaunch:?}");
        assert_eq!(relaunch.argv, ["cat"]);
        assert_eq!(
            relaunch
                .set
                .get("SOCKSPEC_RELAUNCH_TEST")
                .map(String::as_str),
            Some("kept")
        );
        assert!(!relaunch.set.contains_key("TOKEN_X"), "{relaunch:?}");
        let _ = child.kill();
        let _ = child.wait();
    }

    #[test]
    fn empty_arguments_are_kept() {
        assert_eq!(
            nul_separated(b"drv\0--prefix\0\0-x\0").unwrap(),
            ["drv", "--prefix", "", "-x"]
        );
        assert_eq!(nul_separated(b"").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn a_process_started_in_another_directory_is_not_started_again_directly() {
        let dir = tempfile::tempdir().unwrap();
        let mut child = started(std::process::Command::new("cat").current_dir(dir.path()));
        wait_for_exec(child.id(), "/cat");
        let here = std::env::current_dir().unwrap();
        let elsewhere = observe(child.id(), "cat", &here, "NO_TOKEN").unwrap_err();
        assert!(elsewhere.starts_with("it runs in "), "{elsewhere}");
        observe(child.id(), "cat", dir.path(), "NO_TOKEN").unwrap();
        let _ = child.kill();
        let _ = child.wait();
    }

    #[test]
    fn a_process_whose_launcher_changed_what_it_inherits_is_not_started_again_directly() {
        // `nice` changes the nice value a new process would inherit.
        let mut child = started(std::process::Command::new("nice").args(["-n", "5", "cat"]));
        wait_for_exec(child.id(), "/cat");
        let here = std::env::current_dir().unwrap();
        let niced = observe(child.id(), "nice -n 5 cat", &here, "NO_TOKEN").unwrap_err();
        assert!(niced.contains("nice value"), "{niced}");
        // Nor a command whose arguments expand at each start.
        let expands = observe(child.id(), "cat --state $(mktemp -d)", &here, "NO_TOKEN");
        assert!(expands.unwrap_err().contains("expands nothing"));
        let _ = child.kill();
        let _ = child.wait();
    }
}
