//! The largest values a scenario may ask for. Beyond them a file is refused when it is loaded,
//! with the place and the limit, rather than making sockspec allocate without bound, overflow a
//! clock or spawn threads until the machine gives out.

use super::model::{Location, Op, Scenario, Step};
use super::AddressExpr;
use super::Payload;
use crate::yaml::{Positions, Seg};
use std::time::Duration;

/// The limits a scenario is loaded under. [`Limits::default`] is what `check` and `run` use;
/// `max_data` is the one users raise (for scenarios that move more data per step).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bytes in one step's data: a payload sent or expected, a `recv` or `recvfrom` bufsize, a
    /// `recv_exact` size or bufsize, a `recv_until_eof` bufsize, an expected `size`.
    pub max_data: usize,
    /// Bytes of data in a whole scenario, every step of every actor together (actors run at
    /// once, so their data can be held at once): every payload sent or expected, every receive
    /// `bufsize` and `recv_exact` `size`. [`Limits::with_max_data`] keeps it at
    /// [`SCENARIO_DATA_PER_STEP_LIMIT`] times `max_data`.
    pub max_scenario_data: usize,
    /// Bytes in a scenario file.
    pub max_file: usize,
    /// How deep maps and sequences nest in a scenario file.
    pub max_yaml_depth: usize,
    /// The length `N` of `unix-path-of-length:N`.
    pub max_unix_path: usize,
    /// Actors in a scenario (each is a thread).
    pub max_actors: usize,
    /// Steps in a scenario, all actors together.
    pub max_steps: usize,
    /// Parameters of a parameterised scenario (every corner of their ranges is checked: 2^N).
    pub max_parameters: usize,
    /// `cases:` of a parameterised scenario.
    pub max_cases: u32,
    /// Any duration: `timeout`, `step_timeout`, a step's `timeout`, `min_elapsed`, `settimeout`.
    pub max_duration: Duration,
}

/// 256 MiB: the default of [`Limits::max_data`].
pub const DEFAULT_MAX_DATA: usize = 256 << 20;

/// [`Limits::max_scenario_data`] is this many times [`Limits::max_data`] (so 1 GiB by default).
pub const SCENARIO_DATA_PER_STEP_LIMIT: usize = 4;

impl Limits {
    /// The default limits with `max_data` bytes per step and
    /// [`SCENARIO_DATA_PER_STEP_LIMIT`] times as many per scenario.
    pub fn with_max_data(max_data: usize) -> Limits {
        Limits {
            max_data,
            max_scenario_data: max_data.saturating_mul(SCENARIO_DATA_PER_STEP_LIMIT),
            ..Limits::default()
        }
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_data: DEFAULT_MAX_DATA,
            max_scenario_data: DEFAULT_MAX_DATA * SCENARIO_DATA_PER_STEP_LIMIT,
            max_file: 4 << 20,
            max_yaml_depth: 64,
            max_unix_path: 4096,
            max_actors: 64,
            max_steps: 10_000,
            max_parameters: 8,
            max_cases: 10_000,
            max_duration: Duration::from_secs(3600),
        }
    }
}

/// Every value of `scenario` beyond `limits`, with its position.
pub(crate) fn check(
    scenario: &Scenario,
    positions: &Positions,
    limits: &Limits,
) -> Vec<(Location, String)> {
    let mut problems = Vec::new();
    let duration = |what: &str, d: Option<Duration>| {
        d.filter(|d| *d > limits.max_duration).map(|d| {
            format!(
                "{what} {} is longer than the limit of {}",
                humantime::format_duration(d),
                humantime::format_duration(limits.max_duration)
            )
        })
    };
    let top = [
        ("timeout", scenario.timeout),
        ("step_timeout", scenario.step_timeout),
    ];
    for (key, d) in top {
        if let Some(message) = duration(&format!("`{key}`"), d) {
            let at = positions.find(&[Seg::Key(key)]).unwrap_or_default();
            problems.push((at, message));
        }
    }
    // The data of every step so far (sizes beyond the per-step limit are reported as such and
    // not counted again), and whether the scenario's budget was passed.
    let mut total: usize = 0;
    let mut over_budget = false;
    for actor in &scenario.actors {
        for (index, step) in actor.steps.iter().enumerate() {
            let mut problem = |message: String| {
                problems.push((
                    step.location,
                    format!(
                        "actor {}, step {}: {message}",
                        actor.name,
                        super::validate::step_number(positions, &actor.name, index, step.location)
                    ),
                ))
            };
            let (call_durations, c_ints) = match &step.op {
                Op::Call(call) => {
                    let parts = call.parts();
                    (parts.durations, parts.c_ints)
                }
                _ => (Vec::new(), Vec::new()),
            };
            let op = format!("`{}`", step.op.name());
            let durations = [
                ("`timeout`", step.timeout),
                ("`min_elapsed`", step.min_elapsed),
            ]
            .into_iter()
            .chain(call_durations.into_iter().map(|d| (op.as_str(), Some(d))));
            for (what, d) in durations {
                if let Some(message) = duration(what, d) {
                    problem(message);
                }
            }
            // The system takes these as a C int; a larger value would be cut or overflow.
            for value in c_ints {
                if i32::try_from(value).is_err() {
                    problem(format!(
                        "{op} value {value} does not fit in a C int ({} to {})",
                        i32::MIN,
                        i32::MAX
                    ));
                }
            }
            for (what, size) in sizes(step) {
                if size > limits.max_data {
                    problem(format!(
                        "{what} {size} is more than the limit of {} bytes per step ({}; raise it with --max-data)",
                        limits.max_data,
                        bytes(limits.max_data)
                    ));
                }
            }
            total = held(step)
                .into_iter()
                .filter(|size| *size <= limits.max_data)
                .fold(total, usize::saturating_add);
            if total > limits.max_scenario_data && !over_budget {
                over_budget = true;
                problem(format!(
                    "with this step the scenario's data comes to {total} bytes, more than the \
                     limit of {} bytes per scenario ({}, all steps of all actors together; \
                     raise it with --max-data)",
                    limits.max_scenario_data,
                    bytes(limits.max_scenario_data)
                ));
            }
            for address in step
                .op
                .addresses()
                .into_iter()
                .chain(&step.expect.0.address)
            {
                if let AddressExpr::UnixPathOfLength(n) = address {
                    if *n > limits.max_unix_path {
                        problem(format!(
                            "`unix-path-of-length:{n}` is longer than the limit of {} bytes",
                            limits.max_unix_path
                        ));
                    }
                }
            }
        }
    }
    problems
}

impl Scenario {
    /// The bytes of data this scenario makes the runner hold, all steps of all actors together,
    /// as counted against [`Limits::max_scenario_data`] (payloads sent and expected, receive
    /// buffers). An upper estimate of the memory its data takes while it runs (expected data is
    /// compared without being made), for the runner's memory budget.
    pub fn data_held(&self) -> usize {
        self.actors
            .iter()
            .flat_map(|actor| &actor.steps)
            .flat_map(held)
            .fold(0, usize::saturating_add)
    }
}

/// The sizes a step asks for, each with what it is.
fn sizes(step: &Step) -> Vec<(&'static str, usize)> {
    let mut sizes = Vec::new();
    if let Some(data) = step.op.payload() {
        sizes.push(("`data`", data.len()));
    }
    if let Op::RecvExact(a) = &step.op {
        sizes.push(("`size`", a.size));
    }
    if let Some(bufsize) = step.op.bufsize() {
        sizes.push(("`bufsize`", bufsize));
    }
    let mut expect = |e: &super::ExpectFields| {
        if let Some(data) = &e.data {
            sizes.push(("expected `data`", Payload::len(data)));
        }
        for size in [
            e.size.as_ref().and_then(super::Count::fixed),
            e.min_size,
            e.max_size,
            e.returns.map(|r| r.largest_named()),
        ]
        .into_iter()
        .flatten()
        {
            sizes.push(("an expected size", size));
        }
    };
    expect(&step.expect.0);
    for alternative in &step.expect.0.one_of {
        expect(&alternative.0);
    }
    sizes
}

/// The bytes a step makes the runner hold, as counted against [`Limits::max_scenario_data`]: the
/// payload it sends, the buffer it receives into (`bufsize`, or `recv_exact`'s `size`), and each
/// payload it expects.
fn held(step: &Step) -> Vec<usize> {
    let received = match &step.op {
        // recv_exact collects `size` bytes, whatever each call's bufsize.
        Op::RecvExact(a) => Some(a.size),
        _ => step.op.bufsize(),
    };
    let mut held: Vec<usize> = step
        .op
        .payload()
        .map(Payload::len)
        .into_iter()
        .chain(received)
        .collect();
    held.extend(
        std::iter::once(&step.expect.0)
            .chain(step.expect.0.one_of.iter().map(|e| &e.0))
            .filter_map(|e| e.data.as_ref().map(Payload::len)),
    );
    held
}

/// `256 MiB`, `1 KiB`, `17 bytes`.
pub(crate) fn bytes(n: usize) -> String {
    match n {
        n if n >= 1 << 30 && n % (1 << 30) == 0 => format!("{} GiB", n >> 30),
        n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
        n => format!("{n} bytes"),
    }
}
