//! `sockspec report` (the site from saved runs) and `sockspec matrix` (run every implementation,
//! save each run, then report).

use super::scenarios::Scenarios;
use super::stopping;
use super::{drivers, execute, input_error, requirements, suite, Inputs, Prepared};
use crate::report::{markdown_summary, summary_line, Matrix, Run, Site};
use crate::runner::{RunOptions, ScenarioResult};
use crate::suite::Suite;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// The saved form of a run of `prepared`: with the implementation's version where it says one
/// (a driver's `hello`), else sockspec's for the built-in implementations.
pub(super) fn saved_run(prepared: &Prepared, results: Vec<ScenarioResult>) -> Run {
    let implementation = prepared.implementation.as_ref();
    let version = implementation.version().or_else(|| {
        matches!(implementation.name(), "reference" | "std")
            .then(|| format!("sockspec {}", env!("CARGO_PKG_VERSION")))
    });
    Run::new(implementation.name(), version, results)
}

/// Reads the runs, then writes the site (and summary.md) into `out`.
pub(super) fn report(
    paths: &[PathBuf],
    out: &Path,
    suite_dir: Option<&Path>,
    markdown: bool,
) -> Result<ExitCode, ExitCode> {
    let suite = suite(suite_dir)?;
    let mut runs = Vec::with_capacity(paths.len());
    let mut errors = Vec::new();
    for path in paths {
        match Run::read(path) {
            Ok(run) => runs.push(run),
            Err(e) => errors.push(e),
        }
    }
    // Every bad file at once, before anything is written.
    if !errors.is_empty() {
        for e in &errors {
            errln!("sockspec: {e}");
        }
        return Err(ExitCode::from(2));
    }
    write_report(runs, out, &suite, markdown)?;
    Ok(ExitCode::SUCCESS)
}

/// The site and summary.md of `runs`, in `out`, with the spec and sources of `suite`.
fn write_report(runs: Vec<Run>, out: &Path, suite: &Suite, markdown: bool) -> Result<(), ExitCode> {
    let requirements = suite.requirements().map_err(input_error)?;
    let summary = markdown_summary(&runs);
    let site = Site::new(runs, &requirements, |path| read_suite_file(suite, path));
    let written = site.write(out).map_err(input_error)?;
    let summary_path = out.join("summary.md");
    std::fs::write(&summary_path, &summary)
        .map_err(|e| input_error(format!("{}: {e}", summary_path.display())))?;
    if markdown {
        out!("{summary}");
    }
    errln!(
        "sockspec: wrote the report ({} files) to {}; open {}",
        written + 1,
        out.display(),
        out.join("index.html").display()
    );
    Ok(())
}

/// A file of the suite: `path` names it below the suite's directory (`fixtures/…`), or, for a
/// spec file, as the suite's requirements name it (`DIR/spec/…`). Never a file outside the
/// suite, nor one of the current directory unless it is the suite.
fn read_suite_file(suite: &Suite, path: &Path) -> Option<String> {
    let relative = match suite {
        Suite::Dir(dir) => path.strip_prefix(dir).unwrap_or(path),
        Suite::Embedded => path,
    };
    if !relative
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)))
    {
        return None;
    }
    match suite {
        Suite::Dir(dir) => std::fs::read_to_string(dir.join(relative)).ok(),
        Suite::Embedded => crate::suite::embedded()
            .into_iter()
            .find(|(name, _)| name == relative)
            .map(|(_, bytes)| String::from_utf8_lossy(bytes).into_owned()),
    }
}

/// Runs every implementation named (default: all), saves each run as `out/runs/NAME.json`, then
/// reports them: the site and summary.md in `out`, and `out/matrix.md`.
pub(super) fn matrix(
    inputs: &Inputs,
    names: &[String],
    drivers_file: Option<&Path>,
    jobs: Option<usize>,
    out: &Path,
) -> Result<ExitCode, ExitCode> {
    let suite = suite(inputs.suite.as_deref())?;
    let requirements = requirements(inputs, &suite)?;
    let scenarios = Arc::new(Scenarios::read(inputs, &suite, requirements.clone())?);
    let drivers = drivers(drivers_file, &suite);
    let names = if names.is_empty() {
        drivers.names()
    } else {
        names.to_vec()
    };
    let mut runs = Vec::new();
    for name in &names {
        if crate::runner::is_cancelled() {
            break;
        }
        let implementation = drivers.resolve(name).map_err(input_error)?;
        let jobs = jobs.unwrap_or_else(|| crate::runner::default_jobs(implementation.as_ref()));
        let expectations = suite.expectations(name).map_err(input_error)?;
        let prepared = Prepared {
            suite: suite.clone(),
            implementation,
            scenarios: Arc::clone(&scenarios),
            options: RunOptions::default(),
            jobs,
        };
        let bar = progress_bar(scenarios.entries.len() as u64, name);
        let results = execute(&prepared, &expectations, |_| bar.inc(1));
        bar.finish_and_clear();
        errln!("{}", summary_line(name, &results));
        runs.push(saved_run(&prepared, results));
    }
    if crate::runner::is_cancelled() {
        // A partial report must not replace a complete one.
        errln!("sockspec: stopped; the report was not written");
        return Ok(ExitCode::from(1));
    }
    let runs_dir = out.join("runs");
    std::fs::create_dir_all(&runs_dir)
        .map_err(|e| input_error(format!("{}: {e}", runs_dir.display())))?;
    for run in &runs {
        let path = runs_dir.join(format!("{}.json", file_name(&run.implementation)));
        std::fs::write(&path, run.to_json())
            .map_err(|e| input_error(format!("{}: {e}", path.display())))?;
    }
    let matrix = Matrix::new(
        runs.iter()
            .map(|r| (r.implementation.clone(), r.results.clone()))
            .collect(),
        &requirements,
    );
    let md = out.join("matrix.md");
    std::fs::write(&md, matrix.markdown())
        .map_err(|e| input_error(format!("{}: {e}", md.display())))?;
    write_report(runs, out, &suite, false)?;
    errln!(
        "sockspec: wrote {} and the runs under {}",
        md.display(),
        runs_dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// An implementation's name as a file name (`exec:./my driver` → `exec_._my_driver`).
fn file_name(implementation: &str) -> String {
    implementation
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A progress bar on standard error when it is a terminal; hidden otherwise (CI logs).
fn progress_bar(length: u64, implementation: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(length);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{prefix:>10} [{bar:40}] {pos}/{len} {elapsed}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(implementation.to_string());
    bar
}
