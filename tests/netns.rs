//! Multi-host scenarios end to end: actors and driver processes really run inside their hosts'
//! namespaces; a run, a SIGTERM and even a SIGKILL leave no namespace (and no process) behind;
//! without privileges the scenarios are `unsupported` with the reason and the rest runs.
//!
//! Each test skips, saying so, where this process cannot create network namespaces.

use std::collections::BTreeSet;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{descendants, root};

/// True where namespaces can be made (root); prints why a test skips otherwise.
fn namespaces_work() -> bool {
    match sockspec::netns::Namespace::new() {
        Ok(_) => true,
        Err(e) => {
            eprintln!("skipped: {e}");
            false
        }
    }
}

/// The network namespace of a path such as `/proc/PID/ns/net` (`net:[4026531840]`).
fn link(path: &str) -> Option<String> {
    std::fs::read_link(path)
        .ok()
        .map(|p| p.to_string_lossy().into_owned())
}

/// Every network namespace something on the machine refers to: each process's and each
/// thread's, and every descriptor that is one.
fn namespaces_in_use() -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let pids: Vec<String> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        .collect();
    for pid in pids {
        if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
            for task in tasks.flatten() {
                let path = task.path().join("ns/net");
                found.extend(link(&path.to_string_lossy()));
            }
        }
        if let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) {
            for fd in fds.flatten() {
                if let Some(target) = link(&fd.path().to_string_lossy()) {
                    if target.starts_with("net:[") {
                        found.insert(target);
                    }
                }
            }
        }
    }
    found
}

/// The namespaces of `pid`'s threads and of its descendants' threads, other than this
/// machine's.
fn scenario_namespaces_of(pid: u32) -> BTreeSet<String> {
    let machine = link("/proc/self/ns/net").unwrap();
    let mut found = BTreeSet::new();
    for process in std::iter::once(pid).chain(descendants(pid)) {
        if let Ok(tasks) = std::fs::read_dir(format!("/proc/{process}/task")) {
            for task in tasks.flatten() {
                found.extend(link(&task.path().join("ns/net").to_string_lossy()));
            }
        }
    }
    found.remove(&machine);
    found
}

/// `sockspec run ARGS` from the repository root, its output piped.
fn start(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_sockspec"))
        .arg("run")
        .args(args)
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits (at most 20 s) until `found` gives something; returns it.
fn wait_for<T>(what: &str, found: impl Fn() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(value) = found() {
            return value;
        }
        assert!(Instant::now() < deadline, "{what} never happened");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Waits (at most 10 s) for `child` to end; its exit code and output.
fn finish(mut child: Child) -> (Option<i32>, String) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "sockspec did not end");
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    (status.code(), out)
}

/// None of `namespaces` is referred to by anything any more (so the kernel has freed it):
/// polled briefly, since a killed process's references go as it is reaped.
fn assert_all_gone(namespaces: &BTreeSet<String>) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left: Vec<_> = namespaces_in_use()
            .intersection(namespaces)
            .cloned()
            .collect();
        if left.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "network namespaces of the run are still in use: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

const SILENT: &str =
    "fixtures/net/connect-to-a-silent-host-blocking-times-out-after-the-syn-retries.yaml";

#[test]
fn a_driver_runs_inside_its_host_and_sigterm_leaves_no_namespace_or_process_behind() {
    if !namespaces_work() {
        return;
    }
    let child = start(&["--impl", "python", SILENT]);
    let sockspec = child.id();
    // The CPython driver's process, blocked in connect, is in a namespace of its own.
    let machine = link("/proc/self/ns/net").unwrap();
    let driver = wait_for("a driver process inside a host's namespace", || {
        descendants(sockspec)
            .into_iter()
            .find(|pid| link(&format!("/proc/{pid}/ns/net")).is_some_and(|ns| ns != machine))
    });
    let namespaces = scenario_namespaces_of(sockspec);
    assert!(!namespaces.is_empty());
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(sockspec as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let (code, out) = finish(child);
    assert_eq!(code, Some(143), "{out}");
    assert!(out.contains("INTR    net/"), "{out}");
    assert!(
        !std::path::Path::new(&format!("/proc/{driver}")).exists()
            || std::fs::read_to_string(format!("/proc/{driver}/stat"))
                .is_ok_and(|s| s.contains(") Z")),
        "driver {driver} was left running"
    );
    assert_all_gone(&namespaces);
}

#[test]
fn sigkill_mid_scenario_leaves_no_namespace_behind() {
    if !namespaces_work() {
        return;
    }
    // In process: an actor thread blocked in connect inside its host, nothing to clean up but
    // the kernel's references, which go with the process.
    let mut child = start(&[SILENT]);
    let sockspec = child.id();
    let namespaces = wait_for("an actor thread inside a host's namespace", || {
        let found = scenario_namespaces_of(sockspec);
        // Both hosts exist once an actor runs: two holders, plus the actor in one of them.
        (found.len() >= 2).then_some(found)
    });
    child.kill().unwrap();
    child.wait().unwrap();
    assert_all_gone(&namespaces);
}

#[test]
fn a_run_of_the_net_fixtures_passes_and_leaves_no_namespace_behind() {
    if !namespaces_work() {
        return;
    }
    let before = namespaces_in_use();
    let child = start(&["fixtures/net/"]);
    let sockspec = child.id();
    let mut seen = BTreeSet::new();
    let (code, out) = {
        let mut child = child;
        let deadline = Instant::now() + Duration::from_secs(30);
        while child.try_wait().unwrap().is_none() {
            seen.extend(scenario_namespaces_of(sockspec));
            assert!(Instant::now() < deadline, "the run did not end");
            std::thread::sleep(Duration::from_millis(5));
        }
        finish(child)
    };
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains(" 0 failed, 0 unsupported, 0 errors, 0 timeouts"),
        "{out}"
    );
    assert!(!seen.is_empty(), "no scenario ran in a namespace");
    let created: BTreeSet<String> = seen.difference(&before).cloned().collect();
    assert_all_gone(&created);
}

#[test]
fn without_privileges_host_scenarios_are_unsupported_with_the_reason_and_the_rest_runs() {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sockspec"));
    command
        .args([
            "run",
            "fixtures/net/connect-to-a-listener-on-another-host.yaml",
            "fixtures/tcp/server/bind-port-in-use-by-listener.yaml",
        ])
        .current_dir(root());
    // SAFETY: drop_before_exec makes only async-signal-safe system calls.
    unsafe {
        command.pre_exec(sockspec::implementation::privileges::drop_before_exec);
    }
    let output = command.output().unwrap();
    let out = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{out}");
    assert!(
        out.contains("UNSUPP  net/connect-to-a-listener-on-another-host"),
        "{out}"
    );
    assert!(
        out.contains("multi-host scenarios need root (CAP_SYS_ADMIN and CAP_NET_ADMIN)"),
        "{out}"
    );
    assert!(
        out.contains("2 scenarios against reference: 1 passed, 0 failed, 1 unsupported"),
        "{out}"
    );
}

/// A process parked in a network namespace of its own (`unshare -n sleep`), standing in for a
/// machine; killed when dropped.
struct Machine(Child);

impl Machine {
    fn start() -> Machine {
        Machine(
            Command::new("unshare")
                .args(["-n", "sleep", "60"])
                .spawn()
                .unwrap(),
        )
    }

    /// `ip ARGS` inside the machine's namespace, which must succeed.
    fn ip(&self, args: &str) {
        let status = Command::new("nsenter")
            .args(["-t", &self.0.id().to_string(), "-n", "ip"])
            .args(args.split(' '))
            .status()
            .unwrap();
        assert!(status.success(), "ip {args}");
    }
}

impl Drop for Machine {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn hosts_mapped_to_machines_run_there_and_scenarios_that_change_the_network_are_unsupported() {
    if !namespaces_work() {
        return;
    }
    let (a, b) = (Machine::start(), Machine::start());
    // The namespace exists once `unshare` has become `sleep`.
    let machine = link("/proc/self/ns/net").unwrap();
    for m in [&a, &b] {
        wait_for("the machine's namespace", || {
            link(&format!("/proc/{}/ns/net", m.0.id())).filter(|ns| *ns != machine)
        });
    }
    a.ip("link set lo up");
    b.ip("link set lo up");
    a.ip(&format!(
        "link add wire type veth peer name wire netns {}",
        b.0.id()
    ));
    a.ip("address add 198.18.0.1/24 dev wire");
    b.ip("address add 198.18.0.2/24 dev wire");
    a.ip("address add 2001:db8::1/64 dev wire nodad");
    b.ip("address add 2001:db8::2/64 dev wire nodad");
    a.ip("link set wire up");
    b.ip("link set wire up");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lab.yaml");
    let hosts_file = |v6: [&str; 2]| {
        std::fs::write(
            &file,
            format!(
                "alpha: {{command_prefix: \"nsenter --net=/proc/{}/ns/net\", addresses: [198.18.0.1{}]}}\n\
                 beta: {{command_prefix: \"nsenter --net=/proc/{}/ns/net\", addresses: [198.18.0.2{}]}}\n",
                a.0.id(),
                v6[0],
                b.0.id(),
                v6[1]
            ),
        )
        .unwrap();
    };
    let run = |fixtures: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_sockspec"))
            .args(["run", "--impl", "python", "--hosts"])
            .arg(&file)
            .args(fixtures)
            .current_dir(root())
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    };
    hosts_file([", \"2001:db8::1\"", ", \"2001:db8::2\""]);
    let (code, out) = run(&[
        "fixtures/net/connect-to-a-listener-on-another-host.yaml",
        "fixtures/net/connect-to-a-closed-port-on-another-host-econnrefused.yaml",
        "fixtures/net/connect-through-a-blackhole-route-einval.yaml",
        "fixtures/net/connect-to-a-listener-on-another-host-over-ipv6.yaml",
    ]);
    assert_eq!(code, Some(0), "{out}");
    // 198.18.0.2 exists only in machine b: passing proves the server's driver ran there.
    assert!(
        out.contains("PASS    net/connect-to-a-listener-on-another-host ("),
        "{out}"
    );
    assert!(
        out.contains("PASS    net/connect-to-a-closed-port-on-another-host-econnrefused"),
        "{out}"
    );
    // The duration in parentheses is whatever deciding took (0 ms, or more under load).
    let blackhole = out
        .lines()
        .find(|line| line.starts_with("UNSUPP  net/connect-through-a-blackhole-route-einval ("))
        .unwrap_or_else(|| panic!("no unsupported blackhole scenario in:\n{out}"));
    assert!(
        blackhole.contains(
            "): on machines (--hosts), sockspec changes no network, and this scenario needs an \
             address no host owns"
        ),
        "{out}"
    );
    assert!(
        out.contains("PASS    net/connect-to-a-listener-on-another-host-over-ipv6"),
        "{out}"
    );
    assert!(out.contains("3 passed, 0 failed, 1 unsupported"), "{out}");
    // A hosts file that does not give a machine every address of its host.
    hosts_file(["", ""]);
    let (code, out) = run(&["fixtures/net/connect-to-a-listener-on-another-host-over-ipv6.yaml"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("the machine of host `alpha` lacks the host's address 2001:db8::1"),
        "{out}"
    );
}
