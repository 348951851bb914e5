//! The `sockspec` command line.
//!
//! Exit codes: 0 when every scenario passed (or every file is valid), 1 when a scenario failed,
//! errored or timed out, 2 for a usage or input error.

mod driver_check;
mod stopping;

use crate::driver::Verdict;
use crate::expectations::Expectations;
use crate::implementation::Implementation;
use crate::registry;
use crate::report::{
    failures_in_full, junit_xml, markdown_summary, placement_line, progress_line, summary_line,
    tap, Coverage, Summary,
};
use crate::requirements::Requirements;
use crate::runner::{run_planned, RunOptions, ScenarioResult};
use crate::scenario::{Limits, Scenario, DEFAULT_MAX_DATA};
use crate::suite::Suite;
use clap::{Parser, Subcommand, ValueEnum};
use scenarios::{each_scenario, Scenarios};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// `print!` that ends the command quietly when standard output is a closed pipe.
macro_rules! out {
    ($($arg:tt)*) => { stopping::write_out(format_args!($($arg)*)) };
}

/// `println!` that ends the command quietly when standard output is a closed pipe.
macro_rules! outln {
    ($($arg:tt)*) => { stopping::write_out(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `eprintln!` that ignores a closed standard error instead of panicking.
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

// After the macros, which it uses.
mod report;
mod scenarios;

/// Where the suite comes from, for `--help`.
const SUITE_HELP: &str = "\
The suite (fixtures/, spec/, expectations/, drivers/) is built into sockspec, so that it runs \
from any directory. A command uses, in this order: the directory given with --suite DIR; the \
current directory, when it is a checkout (it has fixtures/ and spec/scenario-format.md); the \
built-in copy. `sockspec export DIR` writes the built-in copy out, to read, change and run with \
--suite DIR. PATH arguments, --spec, --drivers and --expectations name files on disk, relative \
to the current directory.";

/// sockspec: a conformance suite for the BSD/Python socket API.
#[derive(Debug, Parser)]
#[command(name = "sockspec", version, about, after_help = SUITE_HELP)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command that reads scenarios shares.
#[derive(Debug, clap::Args)]
pub struct Inputs {
    /// Scenario files or directories on disk (default: the suite's fixtures/).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The suite to use instead of the current directory's checkout or the built-in one: a
    /// directory with fixtures/ and spec/ (and optionally expectations/ and drivers/).
    #[arg(long, value_name = "DIR")]
    pub suite: Option<PathBuf>,
    /// The spec directory whose requirement ids scenarios cite (default: the suite's spec/).
    #[arg(long, value_name = "DIR")]
    pub spec: Option<PathBuf>,
    /// Only scenarios whose id contains TEXT, or with a tag or requirement id equal to TEXT.
    #[arg(long, value_name = "TEXT")]
    pub filter: Option<String>,
    /// The most data one step may send, expect or receive (e.g. 512MiB, 1GiB; default 256MiB):
    /// scenarios asking for more are refused when loaded.
    #[arg(long, value_name = "SIZE", value_parser = data_size)]
    pub max_data: Option<usize>,
}

/// How to run scenarios against an implementation.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Which scenarios.
    #[command(flatten)]
    pub inputs: Inputs,
    /// The implementation to test: `reference`, `std`, `turmoil` (when built with the `turmoil`
    /// feature), a driver named in --drivers, or `exec:COMMAND` for any driver. Repeat as ACTOR=NAME to put one actor on another
    /// implementation (`--impl server=reference --impl client=python`).
    #[arg(
        long = "impl",
        value_name = "NAME|ACTOR=NAME",
        default_value = "reference"
    )]
    pub implementation: Vec<String>,
    /// The named drivers' configuration, their commands run from the current directory
    /// (default: the suite's drivers/drivers.yaml, its commands run from the suite's directory).
    #[arg(long, value_name = "FILE")]
    pub drivers: Option<PathBuf>,
    /// Scenarios run at once (default: 32 on an in-process implementation, whose scenarios
    /// mostly wait; twice the cores on a driver; never fewer than the cores).
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub jobs: Option<usize>,
    /// Every step's and scenario's time limit, overriding the scenarios' own (e.g. 2s, 500ms).
    #[arg(long, value_name = "DURATION", value_parser = positive_duration)]
    pub timeout: Option<Duration>,
    /// The implementation's known deviations (default: the suite's expectations/NAME.yaml, if it
    /// exists).
    #[arg(long, value_name = "FILE")]
    pub expectations: Option<PathBuf>,
    /// Ignore any expectations file: report every deviation as a failure.
    #[arg(long, conflicts_with = "expectations")]
    pub no_expectations: bool,
    /// Run every actor on the implementation under test, the scenarios' `environment` actors
    /// too (by default those run on the reference implementation).
    #[arg(long)]
    pub all_actors: bool,
    /// Run scenarios with `hosts` on real machines: FILE maps each host to a driver command
    /// prefix and the machine's addresses (spec/scenario-format.md §16.1); needs a driver
    /// `--impl`.
    #[arg(long, value_name = "FILE")]
    pub hosts: Option<PathBuf>,
}

/// How to search an implementation for counterexamples (`properties`, `differential`).
#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    /// The implementation to search: `reference`, `std`, `turmoil` (when built with the
    /// `turmoil` feature), a driver named in --drivers, or `exec:COMMAND`.
    #[arg(long = "impl", value_name = "NAME", default_value = "reference")]
    pub implementation: String,
    /// The suite whose named drivers to use (see `sockspec --help`).
    #[arg(long, value_name = "DIR")]
    pub suite: Option<PathBuf>,
    /// The named drivers' configuration, their commands run from the current directory
    /// (default: the suite's drivers/drivers.yaml).
    #[arg(long, value_name = "FILE")]
    pub drivers: Option<PathBuf>,
    /// Cases to draw (per property, for `properties`).
    #[arg(long, value_name = "N", default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub cases: u32,
    /// The seed of the draws, to repeat a search (default: a new one each time).
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Where a counterexample's scenario is written (relative to the current directory).
    #[arg(
        long,
        value_name = "DIR",
        default_value = crate::properties::DEFAULT_REGRESSIONS_DIR
    )]
    pub out: PathBuf,
}

/// A subcommand.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run scenarios against an implementation.
    Run {
        /// What to run.
        #[command(flatten)]
        run: RunArgs,
        /// How to report.
        #[arg(long, value_enum, default_value_t = Format::Pretty)]
        format: Format,
    },
    /// Load and validate scenarios without running them.
    Check {
        /// Which scenarios.
        #[command(flatten)]
        inputs: Inputs,
    },
    /// For each spec requirement, the scenarios that check it; exit 1 if any has none.
    Coverage {
        /// Which scenarios.
        #[command(flatten)]
        inputs: Inputs,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// List scenarios: id, title, requirement ids.
    List {
        /// Which scenarios.
        #[command(flatten)]
        inputs: Inputs,
    },
    /// Run the scenarios against every implementation, save each run, then build the report
    /// from the saved runs: the site (`report`) and a Markdown matrix.
    Matrix {
        /// Which scenarios.
        #[command(flatten)]
        inputs: Inputs,
        /// The implementations (repeatable; default: every built-in and configured driver).
        #[arg(long = "impl", value_name = "NAME")]
        implementations: Vec<String>,
        /// The named drivers' configuration, their commands run from the current directory
        /// (default: the suite's drivers/drivers.yaml).
        #[arg(long, value_name = "FILE")]
        drivers: Option<PathBuf>,
        /// Scenarios run at once (default: as `run` chooses for each implementation).
        #[arg(long, value_name = "N", value_parser = at_least_one)]
        jobs: Option<usize>,
        /// The directory to write: runs/NAME.json, the site (index.html…) and matrix.md.
        #[arg(long, value_name = "DIR", default_value = "target/sockspec-matrix")]
        out: PathBuf,
    },
    /// Build the report site from saved runs (`sockspec run --format json > RUN.json`):
    /// an overview, every scenario, the failures, the differences, the requirements with their
    /// spec text, a page per scenario; and summary.md.
    Report {
        /// The saved runs, one column each, in this order.
        #[arg(value_name = "RUN.json", required_unless_present = "schema")]
        runs: Vec<PathBuf>,
        /// The directory to write (created if missing; files of the report's names are replaced).
        #[arg(long, value_name = "DIR", default_value = "target/sockspec-report")]
        out: PathBuf,
        /// The suite whose spec text and scenario sources the report shows (see `sockspec --help`).
        #[arg(long, value_name = "DIR")]
        suite: Option<PathBuf>,
        /// Print the Markdown summary of the runs to standard output too.
        #[arg(long)]
        markdown: bool,
        /// Print the run format's JSON Schema (what `spec/report.schema.json` holds) and exit.
        #[arg(long, exclusive = true)]
        schema: bool,
    },
    /// Check a driver: the protocol handshake, unknown operations, `bye`, and every operation on
    /// loopback; says what it gets wrong.
    DriverCheck {
        /// The command that starts the driver (run by /bin/sh -c).
        command: String,
    },
    /// Run, then print the implementation's expectations file as this run says it should be
    /// (failures added, passes removed, reasons kept); with --write, write it.
    Expectations {
        /// What to run (any existing expectations are not applied).
        #[command(flatten)]
        run: RunArgs,
        /// Write the file instead of printing it.
        #[arg(long)]
        write: bool,
    },
    /// Print the driver protocol's JSON Schema, generated from the operation table (what
    /// `spec/driver-protocol.schema.json` holds).
    Schema,
    /// Check the properties (streams, datagrams, names, use after close, shutdown
    /// interleavings) on random cases; a failure is shrunk and written as a scenario under
    /// --out. Exits 1 on a counterexample.
    Properties {
        /// What to search, and how.
        #[command(flatten)]
        search: SearchArgs,
    },
    /// Run random sequences of socket calls on the implementation and on the reference and
    /// compare them call by call; a difference is shrunk and written as a scenario under --out.
    /// Exits 1 on a difference.
    Differential {
        /// What to search, and how.
        #[command(flatten)]
        search: SearchArgs,
    },
    /// Write the built-in suite into DIR, to read, change and run with `--suite DIR`.
    ///
    /// Writes fixtures/, spec/, expectations/ and drivers/. DIR is created if missing; one that
    /// already holds anything is refused unless --force is given.
    Export {
        /// Where to write the suite.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// Write into a directory that is not empty: files of the suite's names are replaced,
        /// others are left as they are.
        #[arg(long)]
        force: bool,
    },
}

/// Report formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A line per scenario, a summary, failures in full.
    Pretty,
    /// One JSON document, the run that `sockspec report` reads (`spec/report-format.md`).
    Json,
    /// JUnit XML, for CI systems.
    Junit,
    /// The Test Anything Protocol, version 14.
    Tap,
    /// Counts, then every failure with its message, in Markdown: for a pull-request comment or
    /// a CI job summary.
    Markdown,
}

/// The most `--max-data` may be (a scenario may then move four times that in all).
const MAX_MAX_DATA: usize = 4 << 30;

/// `--max-data`: bytes, or a number with `KiB`, `MiB` or `GiB`; at least 1 KiB.
fn data_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, ""),
    };
    let shift = match unit.trim() {
        "" | "B" => 0,
        "KiB" => 10,
        "MiB" => 20,
        "GiB" => 30,
        other => return Err(format!("unknown unit `{other}` (use B, KiB, MiB or GiB)")),
    };
    let size = number
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(1usize << shift))
        .ok_or_else(|| format!("`{text}` is not a size that fits in memory"))?;
    if size < 1024 {
        return Err("must be at least 1KiB".to_string());
    }
    if size > MAX_MAX_DATA {
        return Err("must be at most 4GiB".to_string());
    }
    Ok(size)
}

/// `--jobs`: a count of at least one.
fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_string()),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("not a count: {e}")),
    }
}

/// `--timeout`: a duration above zero and at most the scenario format's longest time limit.
fn positive_duration(text: &str) -> Result<Duration, String> {
    let longest = Limits::default().max_duration;
    let duration = humantime::parse_duration(text).map_err(|e| format!("not a duration: {e}"))?;
    if duration.is_zero() {
        return Err("must be longer than zero (e.g. 500ms, 2s)".to_string());
    }
    if duration > longest {
        return Err(format!(
            "must be at most {}",
            humantime::format_duration(longest)
        ));
    }
    Ok(duration)
}

/// Runs the command line; returns the process's exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // Descendants of drivers that escape (setsid, daemonising) are re-parented to sockspec, not
    // to init, so that they can be found, killed and reaped. sockspec starts no other children.
    let _ = crate::driver::become_subreaper();
    if matches!(
        cli.command,
        Command::Run { .. }
            | Command::Expectations { .. }
            | Command::Matrix { .. }
            | Command::DriverCheck { .. }
            | Command::Properties { .. }
            | Command::Differential { .. }
    ) {
        stopping::handle_signals();
    }
    let outcome = match cli.command {
        Command::Run { run: args, format } => run(&args, format),
        Command::Check { inputs } => check(&inputs),
        Command::Coverage { inputs, json } => coverage(&inputs, json),
        Command::List { inputs } => list(&inputs),
        Command::Expectations { run: args, write } => expectations(&args, write),
        Command::DriverCheck { command } => driver_check(&command),
        Command::Properties { search } => properties(&search),
        Command::Differential { search } => differential(&search),
        Command::Schema => {
            out!("{}", crate::driver::schema::protocol_schema_text());
            Ok(ExitCode::SUCCESS)
        }
        Command::Export { dir, force } => export(&dir, force),
        Command::Matrix {
            inputs,
            implementations,
            drivers,
            jobs,
            out,
        } => report::matrix(&inputs, &implementations, drivers.as_deref(), jobs, &out),
        Command::Report {
            runs,
            out,
            suite,
            markdown,
            schema,
        } => {
            if schema {
                out!("{}", crate::report::run_schema_text());
                Ok(ExitCode::SUCCESS)
            } else {
                report::report(&runs, &out, suite.as_deref(), markdown)
            }
        }
    };
    let code = outcome.unwrap_or_else(|code| code);
    crate::suite::remove_materialised();
    match stopping::signalled_exit_code() {
        Some(signalled) => ExitCode::from(signalled),
        None => code,
    }
}

/// An input error: printed, exit 2.
fn input_error(message: impl std::fmt::Display) -> ExitCode {
    errln!("sockspec: {message}");
    ExitCode::from(2)
}

/// The suite a command uses: `--suite DIR`, the current directory's checkout, or the built-in one.
fn suite(chosen: Option<&Path>) -> Result<Suite, ExitCode> {
    Suite::locate(chosen).map_err(input_error)
}

/// The spec's requirements: `--spec DIR`, else the suite's.
fn requirements(inputs: &Inputs, suite: &Suite) -> Result<Requirements, ExitCode> {
    let hint = "(pass --spec DIR to name the directory of the spec's Markdown files)";
    let Some(dir) = &inputs.spec else {
        return suite.requirements().map_err(|e| match e {
            crate::suite::SuiteError::Spec(e) => input_error(format!("{e}\n{hint}")),
            e => input_error(e),
        });
    };
    let requirements = Requirements::load(dir).map_err(|e| input_error(format!("{e}\n{hint}")))?;
    if requirements.is_empty() {
        return Err(input_error(crate::suite::SuiteError::EmptySpec {
            path: dir.clone(),
        }));
    }
    Ok(requirements)
}

/// Loads the scenarios `inputs` names, and the spec's requirements; on any error, prints every
/// one as `path:line:col: message`.
fn load_with_spec(
    inputs: &Inputs,
    suite: &Suite,
) -> Result<(Vec<Scenario>, Requirements), ExitCode> {
    let requirements = requirements(inputs, suite)?;
    let mut scenarios = Vec::new();
    each_scenario(inputs, suite, &requirements, |_, scenario| {
        scenarios.push(scenario)
    })?;
    Ok((scenarios, requirements))
}

/// What a run needs, resolved from its arguments.
struct Prepared {
    suite: Suite,
    implementation: Arc<dyn Implementation>,
    /// Validated, each loaded again when it runs.
    scenarios: Arc<Scenarios>,
    options: RunOptions,
    jobs: usize,
}

/// The named drivers: `--drivers FILE` (commands run from the current directory), else the
/// suite's (commands run from the suite's directory).
fn drivers(file: Option<&Path>, suite: &Suite) -> registry::Drivers {
    match file {
        Some(file) => registry::Drivers::file(file),
        None => suite.drivers(),
    }
}

fn prepare(args: &RunArgs) -> Result<Prepared, ExitCode> {
    let suite = suite(args.inputs.suite.as_deref())?;
    let drivers = drivers(args.drivers.as_deref(), &suite);
    let implementation = resolve_assignment(&args.implementation, &drivers)?;
    let requirements = requirements(&args.inputs, &suite)?;
    let scenarios = Scenarios::read(&args.inputs, &suite, requirements)?;
    if scenarios.entries.is_empty() {
        return Err(input_error(
            "no scenarios to run (check the paths and --filter)",
        ));
    }
    let jobs = args
        .jobs
        .unwrap_or_else(|| crate::runner::default_jobs(implementation.as_ref()));
    let machines = match &args.hosts {
        None => None,
        Some(file) => Some(Arc::new(machines(file, &args.implementation, &drivers)?)),
    };
    let options = RunOptions {
        force_timeout: args.timeout,
        max_received: args.inputs.max_data.unwrap_or(DEFAULT_MAX_DATA),
        environment_on_reference: !args.all_actors,
        machines,
        ..RunOptions::default()
    };
    Ok(Prepared {
        suite,
        implementation,
        scenarios: Arc::new(scenarios),
        options,
        jobs,
    })
}

/// `--hosts FILE`: each host's machine, its driver (the one bare `--impl`) started through the
/// machine's command prefix.
fn machines(
    file: &Path,
    implementation: &[String],
    drivers: &registry::Drivers,
) -> Result<crate::runner::Machines, ExitCode> {
    let name =
        match implementation {
            [one] if !one.contains('=') || one.starts_with("exec:") => one.as_str(),
            _ => return Err(input_error(
                "--hosts runs every actor of a host on one driver: name it with one --impl NAME \
                 (a driver: `python`, `exec:COMMAND`…)",
            )),
        };
    let entries = crate::runner::load_hosts_file(file).map_err(input_error)?;
    crate::runner::Machines::start(entries, |prefix| drivers.resolve_on(name, prefix))
        .map_err(input_error)
}

/// `--impl` values: at most one bare NAME (the default, else `reference`) and any ACTOR=NAME.
fn resolve_assignment(
    values: &[String],
    drivers: &registry::Drivers,
) -> Result<Arc<dyn Implementation>, ExitCode> {
    let mut default: Option<&str> = None;
    let mut by_actor = std::collections::BTreeMap::new();
    for value in values {
        // `exec:` commands may contain `=`; only a plain word before `=` names an actor.
        match value.split_once('=') {
            Some((actor, name))
                if !value.starts_with("exec:")
                    && !actor.is_empty()
                    && actor.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') =>
            {
                by_actor.insert(actor.to_string(), drivers.resolve(name).map_err(input_error)?);
            }
            _ if default.is_some() => {
                return Err(input_error(format!(
                    "two default implementations (`{}` and `{value}`); assign others to actors as ACTOR=NAME",
                    default.unwrap_or_default()
                )))
            }
            _ => default = Some(value),
        }
    }
    let default = drivers
        .resolve(default.unwrap_or("reference"))
        .map_err(input_error)?;
    if by_actor.is_empty() {
        return Ok(default);
    }
    // A simulation's sockets cannot reach the others' (nor theirs it): no scenario could run.
    if let Some(own) = std::iter::once(&default)
        .chain(by_actor.values())
        .find(|i| i.own_network())
    {
        return Err(input_error(format!(
            "`{}` runs on a simulated network of its own, which other implementations' sockets \
             cannot reach: it cannot share a scenario with them",
            own.name()
        )));
    }
    Ok(Arc::new(crate::implementation::Mixed::new(
        default, by_actor,
    )))
}

/// The expectations a run applies: the named file, the implementation's default one, or none.
fn expectations_for(
    args: &RunArgs,
    suite: &Suite,
    implementation: &str,
) -> Result<Expectations, ExitCode> {
    if args.no_expectations {
        return Ok(Expectations {
            implementation: implementation.to_string(),
            ..Expectations::default()
        });
    }
    if let Some(path) = &args.expectations {
        if !path.is_file() {
            return Err(input_error(format!(
                "--expectations {}: no such file",
                path.display()
            )));
        }
    }
    let (path, expectations) = match &args.expectations {
        Some(path) => (
            path.clone(),
            Expectations::load(path, implementation).map_err(input_error)?,
        ),
        None => (
            suite.expectations_path(implementation),
            suite.expectations(implementation).map_err(input_error)?,
        ),
    };
    for (id, entry) in &expectations.expectations {
        if entry.reason.trim_start().starts_with("TODO") {
            errln!(
                "sockspec: warning: {}: the expectation of `{id}` still has no reason ({})",
                path.display(),
                entry.reason
            );
        }
    }
    Ok(expectations)
}

/// Runs the prepared scenarios, skipping those `expectations` says to, applying it to the rest;
/// `on_result` sees each result as it is final.
fn execute(
    prepared: &Prepared,
    expectations: &Expectations,
    mut on_result: impl FnMut(&ScenarioResult),
) -> Vec<ScenarioResult> {
    let name = prepared.implementation.name();
    let (skipped, to_run): (Vec<_>, Vec<_>) = prepared
        .scenarios
        .entries
        .iter()
        .partition(|e| expectations.skip(e.id()).is_some());
    let mut results: Vec<ScenarioResult> = skipped
        .into_iter()
        .map(|e| {
            let mut r = e.not_run(name);
            r.expectation = expectations.skip(e.id()).map(|e| e.reason.clone());
            on_result(&r);
            r
        })
        .collect();
    let plans: Vec<_> = to_run.iter().map(|e| e.plan).collect();
    let scenarios = prepared.scenarios.as_ref();
    results.extend(run_planned(
        &plans,
        |index| {
            scenarios
                .load(to_run[index], name)
                .map(std::borrow::Cow::Owned)
        },
        prepared.implementation.as_ref(),
        &prepared.options,
        prepared.jobs,
        |r| {
            expectations.apply(r);
            on_result(r);
        },
    ));
    results.sort_by(|a, b| a.scenario.cmp(&b.scenario));
    results
}

/// For each implementation, how many of the scenarios that ran had actors on it.
fn placement(
    prepared: &Prepared,
    results: &[ScenarioResult],
) -> std::collections::BTreeMap<String, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for entry in &prepared.scenarios.entries {
        let ran = results.iter().any(|r| {
            r.scenario == entry.id()
                && !matches!(
                    r.status,
                    crate::runner::Status::Unsupported | crate::runner::Status::Skip
                )
        });
        if !ran {
            continue;
        }
        for implementation in entry.placed_on(prepared.implementation.as_ref(), &prepared.options) {
            *counts.entry(implementation).or_insert(0) += 1;
        }
    }
    counts
}

fn run(args: &RunArgs, format: Format) -> Result<ExitCode, ExitCode> {
    let prepared = prepare(args)?;
    let name = prepared.implementation.name().to_string();
    let expectations = expectations_for(args, &prepared.suite, &name)?;
    let ids: Vec<&str> = prepared.scenarios.entries.iter().map(|e| e.id()).collect();
    // Only a run of every scenario can tell that an entry names none.
    if args.inputs.paths.is_empty() && args.inputs.filter.is_none() {
        let unknown = expectations.unknown(&ids);
        if !unknown.is_empty() {
            return Err(input_error(format!(
                "the expectations of `{name}` name {}, which {} not a scenario (remove the entries, or fix the ids)",
                unknown.iter().map(|u| format!("`{u}`")).collect::<Vec<_>>().join(", "),
                if unknown.len() == 1 { "is" } else { "are" }
            )));
        }
    }
    let results = execute(&prepared, &expectations, |result| {
        if format == Format::Pretty {
            outln!("{}", progress_line(result));
        }
    });
    match format {
        Format::Pretty => {
            out!(
                "{}\n{}\n",
                failures_in_full(&results),
                summary_line(&name, &results)
            );
            if let Some(line) = placement_line(&placement(&prepared, &results)) {
                outln!("{line}");
            }
        }
        Format::Json => out!(
            "{}",
            report::saved_run(&prepared, results.clone()).to_json()
        ),
        Format::Junit => out!("{}", junit_xml(&name, &results)),
        Format::Tap => out!("{}", tap(&name, &results)),
        Format::Markdown => out!(
            "{}",
            markdown_summary(&[report::saved_run(&prepared, results.clone())])
        ),
    };
    Ok(if Summary::of(&results).all_passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn expectations(args: &RunArgs, write: bool) -> Result<ExitCode, ExitCode> {
    let prepared = prepare(args)?;
    let name = prepared.implementation.name().to_string();
    let (path, mut file) = match (&args.expectations, &prepared.suite) {
        (Some(path), _) => (
            path.clone(),
            Expectations::load(path, &name).map_err(input_error)?,
        ),
        (None, Suite::Embedded) if write => {
            return Err(input_error(
                "--write: the built-in suite cannot be written; pass --expectations FILE, or \
                 --suite DIR with a suite that `sockspec export DIR` wrote",
            ))
        }
        (None, suite) => (
            suite.expectations_path(&name),
            suite.expectations(&name).map_err(input_error)?,
        ),
    };
    let none = Expectations {
        implementation: name.clone(),
        ..Expectations::default()
    };
    let results = execute(&prepared, &none, |r| errln!("{}", progress_line(r)));
    file.update(&results);
    if write {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| input_error(format!("{}: {e}", dir.display())))?;
        }
        std::fs::write(&path, file.to_yaml())
            .map_err(|e| input_error(format!("{}: {e}", path.display())))?;
        errln!(
            "sockspec: wrote {} ({} entries)",
            path.display(),
            file.expectations.len()
        );
    } else {
        out!("{}", file.to_yaml());
    }
    Ok(ExitCode::SUCCESS)
}

fn check(inputs: &Inputs) -> Result<ExitCode, ExitCode> {
    let mut count = 0;
    each_of(inputs, |_| count += 1)?;
    outln!("{count} scenario(s) OK");
    Ok(ExitCode::SUCCESS)
}

fn list(inputs: &Inputs) -> Result<ExitCode, ExitCode> {
    // Printed once every file is known to be valid.
    let mut lines = Vec::new();
    each_of(inputs, |s| {
        lines.push(format!(
            "{}\t{}\t{}",
            s.id,
            s.title,
            s.requirements.join(",")
        ))
    })?;
    for line in lines {
        outln!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Every scenario `inputs` names, one at a time (none is kept): see [`each_scenario`].
fn each_of(inputs: &Inputs, mut each: impl FnMut(Scenario)) -> Result<(), ExitCode> {
    let suite = suite(inputs.suite.as_deref())?;
    let requirements = requirements(inputs, &suite)?;
    each_scenario(inputs, &suite, &requirements, |_, scenario| each(scenario))
}

fn coverage(inputs: &Inputs, json: bool) -> Result<ExitCode, ExitCode> {
    let suite = suite(inputs.suite.as_deref())?;
    let (scenarios, requirements) = load_with_spec(inputs, &suite)?;
    let coverage = Coverage::of(&requirements, &scenarios);
    if json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&coverage).unwrap_or_default()
        );
    } else {
        out!("{}", coverage.to_text());
    }
    Ok(if coverage.is_complete() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The implementation and the search settings `args` give.
fn searching(
    args: &SearchArgs,
) -> Result<(Arc<dyn Implementation>, crate::properties::search::Search), ExitCode> {
    let suite = suite(args.suite.as_deref())?;
    let implementation = drivers(args.drivers.as_deref(), &suite)
        .resolve(&args.implementation)
        .map_err(input_error)?;
    let search = crate::properties::search::Search {
        seed: args.seed,
        ..crate::properties::search::Search::new(args.cases, args.out.clone())
    };
    Ok((implementation, search))
}

fn properties(args: &SearchArgs) -> Result<ExitCode, ExitCode> {
    let (implementation, search) = searching(args)?;
    let outcomes =
        crate::properties::search::check_every_property(implementation.as_ref(), &search, 1 << 20);
    let mut failed = 0;
    for (property, outcome) in &outcomes {
        match outcome {
            Ok(()) => outln!("ok    {property}"),
            Err(message) => {
                failed += 1;
                outln!(
                    "FAIL  {property}\n      {}",
                    message.replace('\n', "\n      ")
                );
            }
        }
    }
    outln!(
        "\n{} properties on {} ({} cases each): {} held, {failed} failed",
        outcomes.len(),
        implementation.name(),
        args.cases,
        outcomes.len() - failed
    );
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn differential(args: &SearchArgs) -> Result<ExitCode, ExitCode> {
    let (implementation, search) = searching(args)?;
    let profile = crate::differential::Profile::of(&implementation.capabilities());
    match crate::differential::search(implementation.as_ref(), profile, &search) {
        Ok(agreed) => {
            outln!(
                "{} agrees with the reference on {} sequences ({agreed} calls)",
                implementation.name(),
                args.cases
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(message) => {
            outln!("{message}");
            Ok(ExitCode::from(1))
        }
    }
}

fn driver_check(command: &str) -> Result<ExitCode, ExitCode> {
    let findings = driver_check::check_driver(command);
    for f in &findings {
        match &f.verdict {
            Verdict::Passed => outln!("ok    {}", f.check),
            Verdict::Failed(problem) => outln!(
                "FAIL  {}\n      {}",
                f.check,
                problem.replace('\n', "\n      ")
            ),
            Verdict::Skipped(why) => outln!("skip  {}\n      {why}", f.check),
        }
    }
    let failed = findings.iter().filter(|f| f.failed()).count();
    let skipped = findings
        .iter()
        .filter(|f| matches!(f.verdict, Verdict::Skipped(_)))
        .count();
    outln!(
        "\n{} checks: {} passed, {failed} failed, {skipped} skipped",
        findings.len(),
        findings.len() - failed - skipped
    );
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn export(dir: &Path, force: bool) -> Result<ExitCode, ExitCode> {
    let written = crate::suite::export(dir, force).map_err(input_error)?;
    errln!(
        "sockspec: wrote the built-in suite ({written} files) to {}; run it with `sockspec run --suite {}`",
        dir.display(),
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}
