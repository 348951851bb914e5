//! Deadlocks by construction: actors that wait for one another in a cycle, or for something
//! they themselves provide only later. Found at load time by running the scenario's
//! synchronisation alone (signals, announcements, captures), without any socket.

use super::model::{Location, Op, Scenario, Step};
use std::collections::HashSet;

/// What a step cannot go on without.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Need<'a> {
    /// `wait: NAME`: the signal must be raised before the step starts.
    Signal(&'a str),
    /// `$var` in an address: the variable must be captured before the call; or `size: $var`:
    /// before the outcome is checked.
    Var(&'a str),
    /// `blocks_until: NAME`: the call cannot return before the signal is raised.
    Return(&'a str),
}

impl Need<'_> {
    fn describe(self) -> String {
        match self {
            Need::Signal(s) => format!("waits for signal `{s}`"),
            Need::Var(v) => format!("reads `${v}`"),
            Need::Return(s) => format!("cannot return before signal `{s}` (`blocks_until`)"),
        }
    }

    /// Whether step `step` provides it.
    fn provided_by(self, step: &Step) -> bool {
        match self {
            Need::Signal(s) | Need::Return(s) => {
                matches!(&step.op, Op::Signal(n) if n == s) || step.announce.as_deref() == Some(s)
            }
            Need::Var(v) => step.op.captures() == Some(v),
        }
    }
}

/// The deadlock by construction in `scenario`, if there is one, as a message at the first
/// step of its cycle. Each name is known to be provided somewhere (validation checks that
/// first), so an actor that cannot go on waits for a step that cannot be reached.
pub(crate) fn find(scenario: &Scenario) -> Option<(Location, String)> {
    let actors = &scenario.actors;
    let mut next = vec![0usize; actors.len()];
    let mut started = vec![false; actors.len()];
    let mut raised: HashSet<&str> = HashSet::new();
    let mut captured: HashSet<&str> = HashSet::new();
    // Each pass moves at least one actor on by a start or an end of a step, so the passes are
    // at most twice the steps; each pass is linear in the actors.
    loop {
        let mut moved = false;
        for (a, actor) in actors.iter().enumerate() {
            let Some(step) = actor.steps.get(next[a]) else {
                continue;
            };
            if !started[a] {
                let ready = needs_to_start(step).iter().all(|need| match need {
                    Need::Signal(s) => raised.contains(s),
                    Need::Var(v) => captured.contains(v),
                    Need::Return(_) => true,
                });
                if !ready {
                    continue;
                }
                started[a] = true;
                moved = true;
                if let Some(name) = &step.announce {
                    raised.insert(name);
                }
            }
            if let Some(name) = &step.blocks_until {
                if !raised.contains(name.as_str()) {
                    continue;
                }
            }
            // A captured count is read when the step's outcome is checked, after its call.
            if counts_read(&step.expect)
                .iter()
                .any(|v| !captured.contains(v))
            {
                continue;
            }
            if let Op::Signal(name) = &step.op {
                raised.insert(name);
            }
            if let Some(var) = step.op.captures() {
                captured.insert(var);
            }
            next[a] += 1;
            started[a] = false;
            moved = true;
        }
        if !moved {
            break;
        }
    }
    let first = (0..actors.len()).find(|a| next[*a] < actors[*a].steps.len())?;
    let unmet = |a: usize| -> Need {
        let step = &actors[a].steps[next[a]];
        if started[a] {
            match step.blocks_until.as_deref() {
                Some(name) if !raised.contains(name) => Need::Return(name),
                _ => counts_read(&step.expect)
                    .into_iter()
                    .find(|v| !captured.contains(v))
                    .map_or(Need::Return(""), Need::Var),
            }
        } else {
            needs_to_start(step)
                .into_iter()
                .find(|need| match need {
                    Need::Signal(s) => !raised.contains(s),
                    Need::Var(v) => !captured.contains(v),
                    Need::Return(_) => false,
                })
                .unwrap_or(Need::Signal(""))
        }
    };
    let mut chain = Vec::new();
    let mut seen = vec![false; actors.len()];
    let mut a = first;
    while !seen[a] {
        seen[a] = true;
        let need = unmet(a);
        let provider = actors.iter().enumerate().find_map(|(b, actor)| {
            actor
                .steps
                .iter()
                .position(|s| need.provided_by(s))
                .map(|j| (b, j))
        });
        let mut link = format!(
            "actor {}, step {} {}",
            actors[a].name,
            next[a] + 1,
            need.describe()
        );
        match provider {
            Some((b, j)) if b == a => {
                link.push_str(&format!(
                    ", which it provides itself only later, at step {}",
                    j + 1
                ));
                chain.push(link);
                break;
            }
            Some((b, j)) => {
                link.push_str(&format!(
                    ", provided by actor {}, step {}",
                    actors[b].name,
                    j + 1
                ));
                chain.push(link);
                a = b;
            }
            None => {
                chain.push(link);
                break;
            }
        }
    }
    Some((
        actors[first].steps[next[first]].location,
        format!("deadlock by construction: {}", chain.join(" → ")),
    ))
}

/// What a step needs before its call is made.
fn needs_to_start(step: &Step) -> Vec<Need<'_>> {
    let mut needs: Vec<Need> = step
        .op
        .addresses()
        .into_iter()
        .filter_map(|a| a.var())
        .map(Need::Var)
        .collect();
    if let Op::Wait(name) = &step.op {
        needs.push(Need::Signal(name));
    }
    needs
}

/// The captured counts (`size: $NAME`) an expectation and its alternatives read.
fn counts_read(expect: &super::Expect) -> Vec<&str> {
    let mut names: Vec<&str> = match &expect.0.size {
        Some(super::Count::Captured(name)) => vec![name.as_str()],
        _ => vec![],
    };
    for alternative in &expect.0.one_of {
        names.extend(counts_read(alternative));
    }
    names
}
