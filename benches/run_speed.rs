//! The main command's speed at every scale: `cargo bench --bench run_speed` (release build, run
//! from the repository root).
//!
//! Three figures, each from real processes:
//!
//! 1. **Scenarios per second** of `sockspec run` at its defaults (the reference implementation,
//!    the checkout's suite), the best and the median of [`RUNS`] runs, with each run's CPU time
//!    and peak memory.
//! 2. **One conformance test's process**: the `conformance` test binary of the test profile
//!    (`target/debug/deps/conformance-*`, built by `cargo test`) running one test with
//!    `--exact`, as `cargo nextest run` starts it: `tcp/server/accept-blocks-until-a-client-connects`
//!    on the reference, std, CPython and Node.js (when installed), with `NEXTEST_RUN_ID` set as
//!    nextest sets it, so that a driver's `hello` is remembered for the run; the drivers also as
//!    the first test of a run (whose driver does its handshake through its command, behind
//!    pyenv's shim here). Skipped, saying so, when the test binary has not been built.
//! 3. **Scaling**: the suite copied 10 times into a temporary directory (each copy under
//!    `fixtures/copyN/`), run with `--suite`, against one copy made the same way: the ratio of
//!    the times (the target is at most 10.5) and of the peak memory (flat: the memory of a run
//!    does not grow with the scenarios already finished).
//!
//! Peak memory is each child's own maximum resident set (`wait4`'s `ru_maxrss`), so one run's
//! figure does not hide another's.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs of each command measured.
const RUNS: usize = 5;

/// Copies of the suite in the scaling run.
const COPIES: usize = 10;

/// What one finished child took.
struct Measured {
    wall: Duration,
    cpu: Duration,
    max_rss_kib: i64,
    exit: i32,
    stdout: String,
}

/// Runs `program args` from `dir` to its end, measuring it with `wait4`.
fn measure(program: &Path, args: &[&OsStr], dir: &Path) -> Measured {
    measure_with_env(program, args, dir, &[])
}

/// [`measure`], with the environment variables `env` set.
// The child is reaped by `wait4` (which std's `wait` cannot replace: it gives no rusage).
#[allow(clippy::zombie_processes)]
fn measure_with_env(program: &Path, args: &[&OsStr], dir: &Path, env: &[(&str, &str)]) -> Measured {
    let started = Instant::now();
    let mut command = Command::new(program);
    command.envs(env.iter().copied());
    let child = command
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{} does not start: {e}", program.display()));
    let pid = child.id() as libc::pid_t;
    // Read stdout to its end before reaping, so a full pipe cannot stall the child.
    let mut stdout = String::new();
    if let Some(mut out) = child.stdout {
        use std::io::Read;
        out.read_to_string(&mut stdout).expect("stdout is text");
    }
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our child, not yet reaped (std's Child never waited for it); both
    // pointers are to live locals.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "wait4: {}", std::io::Error::last_os_error());
    let wall = started.elapsed();
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    Measured {
        wall,
        cpu: time(usage.ru_utime) + time(usage.ru_stime),
        max_rss_kib: usage.ru_maxrss,
        exit: if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            -1
        },
        stdout,
    }
}

/// The number of scenarios a run's summary line reports (`333 scenarios against …`).
fn scenarios_in(report: &str) -> usize {
    report
        .lines()
        .rev()
        .find_map(|l| l.split_once(" scenarios against "))
        .and_then(|(n, _)| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no summary line in:\n{report}"))
}

/// `RUNS` runs of `sockspec run ARGS` from `dir`, every one of which must pass; sorted by wall
/// time.
fn runs(sockspec: &Path, args: &[&OsStr], dir: &Path) -> Vec<Measured> {
    let mut all: Vec<Measured> = (0..RUNS)
        .map(|_| {
            let run = measure(sockspec, args, dir);
            assert_eq!(run.exit, 0, "the run failed:\n{}", run.stdout);
            run
        })
        .collect();
    all.sort_by_key(|m| m.wall);
    all
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_string())
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument picks figures by name.
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wanted = |name: &str| filter.is_empty() || filter.iter().any(|f| name.contains(f));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sockspec = Path::new(env!("CARGO_BIN_EXE_sockspec"));
    println!(
        "machine: {} cores; load average before: {}",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        load_average()
    );
    if wanted("scenarios_per_second") {
        scenarios_per_second(sockspec, root);
    }
    if wanted("one_test_process") {
        one_test_process(root);
    }
    if wanted("scaling") {
        scaling(sockspec, root);
    }
    println!("load average after: {}", load_average());
}

fn scenarios_per_second(sockspec: &Path, root: &Path) {
    let all = runs(sockspec, &[OsStr::new("run")], root);
    let count = scenarios_in(&all[0].stdout);
    let rate = |m: &Measured| count as f64 / m.wall.as_secs_f64();
    let median = &all[RUNS / 2];
    println!(
        "scenarios_per_second: sockspec run (defaults, {count} scenarios): best {:.0}/s ({:.2} s), median {:.0}/s ({:.2} s), {:.2} s CPU, max RSS {} MiB",
        rate(&all[0]),
        all[0].wall.as_secs_f64(),
        rate(median),
        median.wall.as_secs_f64(),
        median.cpu.as_secs_f64(),
        all.iter().map(|m| m.max_rss_kib).max().unwrap_or(0) / 1024,
    );
}

/// The newest `conformance` test binary of the test profile, if `cargo test` built one.
fn conformance_binary(root: &Path) -> Option<PathBuf> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    std::fs::read_dir(target.join("debug/deps"))
        .ok()?
        .flatten()
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with("conformance-") && !name.contains('.')
        })
        .max_by_key(|e| e.metadata().and_then(|m| m.modified()).ok())
        .map(|e| e.path())
}

fn one_test_process(root: &Path) {
    let Some(binary) = conformance_binary(root) else {
        println!("one_test_process: skipped (no target/debug/deps/conformance-*: run `cargo test --test conformance --no-run` first)");
        return;
    };
    // As nextest starts them: `NEXTEST_RUN_ID` set, so that a driver's `hello` is remembered
    // for the run. "first of a run" is a run id of its own for every measured process (the
    // driver's handshake process, through its command); otherwise one warm-up process of the
    // run learns it, uncounted.
    let node = Command::new("node").arg("--version").output().is_ok();
    let mut cases = vec![
        ("reference", false),
        ("std", false),
        ("python", false),
        ("python", true),
    ];
    if node {
        cases.extend([("node", false), ("node", true)]);
    }
    let bench_run = format!("run_speed-{}", std::process::id());
    for (implementation, first) in cases {
        let name = format!("{implementation}::tcp::server::accept_blocks_until_a_client_connects");
        let args = [OsStr::new("--exact"), OsStr::new(&name)];
        let once = |run: &str| {
            let measured = measure_with_env(&binary, &args, root, &[("NEXTEST_RUN_ID", run)]);
            assert_eq!(measured.exit, 0, "{name} failed:\n{}", measured.stdout);
            assert!(measured.stdout.contains("1 passed"), "{}", measured.stdout);
            measured
        };
        if !first {
            once(&bench_run);
        }
        let mut all: Vec<Measured> = (0..RUNS)
            .map(|i| match first {
                true => once(&format!("{bench_run}-first-{i}")),
                false => once(&bench_run),
            })
            .collect();
        all.sort_by_key(|m| m.wall);
        let how = if first {
            ", the first test of a run"
        } else {
            ""
        };
        println!(
            "one_test_process: {name} (test profile, --exact{how}): best {:.0} ms, median {:.0} ms, median CPU {:.0} ms, max RSS {} MiB",
            all[0].wall.as_secs_f64() * 1e3,
            all[RUNS / 2].wall.as_secs_f64() * 1e3,
            {
                let mut cpu: Vec<Duration> = all.iter().map(|m| m.cpu).collect();
                cpu.sort();
                cpu[RUNS / 2].as_secs_f64() * 1e3
            },
            all.iter().map(|m| m.max_rss_kib).max().unwrap_or(0) / 1024,
        );
    }
}

/// A suite in a temporary directory: the checkout's spec, and its fixtures `copies` times, each
/// copy under `fixtures/copyN/`.
fn copied_suite(root: &Path, copies: usize) -> tempfile::TempDir {
    fn copy_tree(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).expect("a directory");
        for entry in std::fs::read_dir(from)
            .expect("a readable directory")
            .flatten()
        {
            let path = entry.path();
            if path.is_dir() {
                copy_tree(&path, &to.join(entry.file_name()));
            } else {
                std::fs::copy(&path, to.join(entry.file_name())).expect("a copy");
            }
        }
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    copy_tree(&root.join("spec"), &dir.path().join("spec"));
    for n in 0..copies {
        copy_tree(
            &root.join("fixtures"),
            &dir.path().join(format!("fixtures/copy{n}")),
        );
    }
    dir
}

fn scaling(sockspec: &Path, root: &Path) {
    let one = copied_suite(root, 1);
    let ten = copied_suite(root, COPIES);
    let run = |suite: &Path| {
        let args = [OsStr::new("run"), OsStr::new("--suite"), suite.as_os_str()];
        runs(sockspec, &args, root)
    };
    let small = run(one.path());
    let large = run(ten.path());
    let (a, b) = (&small[RUNS / 2], &large[RUNS / 2]);
    let (n, m) = (scenarios_in(&a.stdout), scenarios_in(&b.stdout));
    let rss = |all: &[Measured]| all.iter().map(|m| m.max_rss_kib).max().unwrap_or(0);
    println!(
        "scaling: {n} scenarios in {:.2} s ({:.0}/s, max RSS {} MiB); {m} scenarios ({COPIES} copies) in {:.2} s ({:.0}/s, max RSS {} MiB): time x{:.2} (target at most x10.5), memory x{:.2}",
        a.wall.as_secs_f64(),
        n as f64 / a.wall.as_secs_f64(),
        rss(&small) / 1024,
        b.wall.as_secs_f64(),
        m as f64 / b.wall.as_secs_f64(),
        rss(&large) / 1024,
        b.wall.as_secs_f64() / a.wall.as_secs_f64(),
        rss(&large) as f64 / rss(&small) as f64,
    );
}
