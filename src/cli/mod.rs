//! The `sockspec` command line.
//!
//! Exit codes: 0 when every scenario passed (or every file is valid), 1 when a scenario failed,
//! errored or timed out, 2 for a usage or input error.

use crate::registry;
use crate::report::{
    failures_in_full, json_document, progress_line, summary_line, Coverage, Summary,
};
use crate::requirements::Requirements;
use crate::runner::{run_all, RunOptions};
use crate::scenario::{load_all, Scenario};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// sockspec: a conformance suite for the BSD/Python socket API.
#[derive(Debug, Parser)]
#[command(name = "sockspec", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command that reads scenarios shares.
#[derive(Debug, clap::Args)]
pub struct Inputs {
    /// Scenario files or directories (default: fixtures/).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The spec directory whose requirement ids scenarios cite.
    #[arg(long, value_name = "DIR", default_value = "spec")]
    pub spec: PathBuf,
    /// Only scenarios whose id contains TEXT, or with a tag or requirement id equal to TEXT.
    #[arg(long, value_name = "TEXT")]
    pub filter: Option<String>,
}

/// A subcommand.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run scenarios against an implementation.
    Run {
        /// Which scenarios.
        #[command(flatten)]
        inputs: Inputs,
        /// The implementation to test: `reference`, a driver named in --drivers, or
        /// `exec:COMMAND` for any driver.
        #[arg(long = "impl", value_name = "NAME", default_value = "reference")]
        implementation: String,
        /// The named drivers' configuration.
        #[arg(long, value_name = "FILE", default_value = registry::DEFAULT_DRIVERS)]
        drivers: PathBuf,
        /// How to report.
        #[arg(long, value_enum, default_value_t = Format::Pretty)]
        format: Format,
        /// Scenarios run at once (default: the number of cores).
        #[arg(long, value_name = "N")]
        jobs: Option<usize>,
        /// Every step's and scenario's time limit, overriding the scenarios' own (e.g. 2s, 500ms).
        #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
        timeout: Option<Duration>,
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
}

/// Report formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A line per scenario, a summary, failures in full.
    Pretty,
    /// One JSON document (`spec/scenario-format.md` describes it).
    Json,
}

/// Runs the command line; returns the process's exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run {
            inputs,
            implementation,
            drivers,
            format,
            jobs,
            timeout,
        } => run(&inputs, &implementation, &drivers, format, jobs, timeout),
        Command::Check { inputs } => check(&inputs),
        Command::Coverage { inputs, json } => coverage(&inputs, json),
        Command::List { inputs } => list(&inputs),
    }
}

/// An input error: printed, exit 2.
fn input_error(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("sockspec: {message}");
    ExitCode::from(2)
}

/// Loads the scenarios `inputs` names; on any error, prints every one as `path:line:col: message`.
fn load(inputs: &Inputs) -> Result<Vec<Scenario>, ExitCode> {
    load_with_spec(inputs).map(|(scenarios, _)| scenarios)
}

/// [`load`], also returning the spec's requirements.
fn load_with_spec(inputs: &Inputs) -> Result<(Vec<Scenario>, Requirements), ExitCode> {
    let requirements = Requirements::load(&inputs.spec).map_err(|e| {
        input_error(format!(
            "{e}\n(pass --spec DIR to name the directory of the spec's Markdown files)"
        ))
    })?;
    let paths = if inputs.paths.is_empty() {
        vec![PathBuf::from("fixtures")]
    } else {
        inputs.paths.clone()
    };
    let (scenarios, errors) = load_all(&paths, &requirements);
    if !errors.is_empty() {
        for e in &errors {
            eprintln!("{e}");
        }
        eprintln!("sockspec: {} error(s) in scenario files", errors.len());
        return Err(ExitCode::from(2));
    }
    let scenarios: Vec<Scenario> = match &inputs.filter {
        None => scenarios,
        Some(text) => scenarios
            .into_iter()
            .filter(|s| {
                s.id.contains(text.as_str())
                    || s.tags.contains(text)
                    || s.requirements.contains(text)
            })
            .collect(),
    };
    Ok((scenarios, requirements))
}

fn run(
    inputs: &Inputs,
    name: &str,
    drivers: &std::path::Path,
    format: Format,
    jobs: Option<usize>,
    timeout: Option<Duration>,
) -> ExitCode {
    let implementation = match registry::resolve(name, drivers) {
        Ok(implementation) => implementation,
        Err(message) => return input_error(message),
    };
    let scenarios = match load(inputs) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if scenarios.is_empty() {
        return input_error("no scenarios to run (check the paths and --filter)");
    }
    let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let options = RunOptions {
        force_timeout: timeout,
        ..RunOptions::default()
    };
    let mut stdout = std::io::stdout().lock();
    let results = run_all(
        &scenarios,
        implementation.as_ref(),
        &options,
        jobs,
        |result| {
            if format == Format::Pretty {
                let _ = writeln!(stdout, "{}", progress_line(result));
            }
        },
    );
    match format {
        Format::Pretty => {
            let _ = write!(stdout, "{}", failures_in_full(&results));
            let _ = writeln!(
                stdout,
                "\n{}",
                summary_line(implementation.name(), &results)
            );
        }
        Format::Json => {
            let _ = writeln!(stdout, "{}", json_document(implementation.name(), &results));
        }
    }
    if Summary::of(&results).all_passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn check(inputs: &Inputs) -> ExitCode {
    match load(inputs) {
        Ok(scenarios) => {
            println!("{} scenario(s) OK", scenarios.len());
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

fn list(inputs: &Inputs) -> ExitCode {
    match load(inputs) {
        Ok(scenarios) => {
            for s in &scenarios {
                println!("{}\t{}\t{}", s.id, s.title, s.requirements.join(","));
            }
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

fn coverage(inputs: &Inputs, json: bool) -> ExitCode {
    let (scenarios, requirements) = match load_with_spec(inputs) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let coverage = Coverage::of(&requirements, &scenarios);
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&coverage).unwrap_or_default()
        );
    } else {
        print!("{}", coverage.to_text());
    }
    if coverage.is_complete() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
