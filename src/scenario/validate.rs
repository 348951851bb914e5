//! Checks that need the whole scenario: names used before they exist, variables never captured,
//! signals never raised, spec ids the spec does not define, expectations that cannot apply.

use super::deadlock;
use super::model::{Count, Expect, Location, Op, Returns, Scenario, Step};
use super::AddressExpr;
use crate::requirements::Requirements;
use crate::vocab::{did_you_mean, ErrorCode};
use crate::yaml::{Positions, Seg};
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// Every problem found, with its position. `partial` says that some steps could not be read:
/// then the checks that follow sockets, variables and signals between steps are skipped, since
/// they would report only what the missing steps provide.
pub(crate) fn validate(
    scenario: &Scenario,
    positions: &Positions,
    requirements: &Requirements,
    partial: bool,
) -> Vec<(Location, String)> {
    let mut problems = Vec::new();
    // With steps or fields unread, an empty list may only be one that did not parse.
    if scenario.requirements.is_empty() && !partial {
        let at = positions.find_key(&[], "requirements").unwrap_or_default();
        problems.push((
            at,
            "a scenario must cite at least one spec requirement id".to_string(),
        ));
    }
    for (i, id) in scenario.requirements.iter().enumerate() {
        if !requirements.contains(id) {
            let at = positions
                .find(&[Seg::Key("requirements"), Seg::Index(i)])
                .unwrap_or_default();
            problems.push((
                at,
                format!(
                    "`{id}` is not a requirement that spec/ defines{}",
                    did_you_mean(id, requirements.iter().map(|r| r.id.as_str()))
                ),
            ));
        }
    }
    if scenario.actors.is_empty() && !partial {
        let at = positions.find_key(&[], "actors").unwrap_or_default();
        problems.push((at, "a scenario needs at least one actor".to_string()));
    }

    for (key, names) in [
        ("unprivileged", &scenario.unprivileged),
        ("environment", &scenario.environment),
    ] {
        for name in names {
            if !scenario.actors.iter().any(|a| &a.name == name) {
                let at = positions.find_key(&[], key).unwrap_or_default();
                problems.push((
                    at,
                    format!(
                        "`{key}` names `{name}`, which is not an actor of this scenario{}",
                        did_you_mean(name, scenario.actors.iter().map(|a| a.name.as_str()))
                    ),
                ));
            }
        }
    }
    if !scenario.actors.is_empty()
        && scenario
            .actors
            .iter()
            .all(|a| scenario.environment.contains(&a.name))
    {
        let at = positions.find_key(&[], "environment").unwrap_or_default();
        problems.push((
            at,
            "every actor is `environment`: a scenario needs at least one actor under test"
                .to_string(),
        ));
    }

    let actor_names: Vec<&str> = scenario.actors.iter().map(|a| a.name.as_str()).collect();
    problems.extend(super::hosts::validate(
        &scenario.topology,
        &actor_names,
        positions,
    ));
    let has_hosts = !scenario.topology.is_empty();

    // Values flow between actors through captures and signals; collect who provides what.
    let mut captured: BTreeMap<&str, Location> = BTreeMap::new();
    let mut raised: HashSet<&str> = HashSet::new();
    // Captures that hold a count (what a send returned), not an address.
    let mut counts: HashSet<&str> = HashSet::new();
    for actor in &scenario.actors {
        for (index, step) in actor.steps.iter().enumerate() {
            let Some(var) = step.op.captures() else {
                continue;
            };
            if step.op.captures_a_count() {
                counts.insert(var);
            }
            if let Some(first) = captured.insert(var, step.location) {
                problems.push((
                    step.location,
                    format!(
                        "actor {}, step {}: `${var}` is already captured at line {}; captures \
                         are write-once",
                        actor.name,
                        step_number(positions, &actor.name, index, step.location),
                        first.line
                    ),
                ));
            }
        }
    }
    for step in scenario.actors.iter().flat_map(|a| &a.steps) {
        if let Op::Signal(name) = &step.op {
            raised.insert(name);
        }
        if let Some(name) = &step.announce {
            raised.insert(name);
        }
    }

    for actor in &scenario.actors {
        if actor.steps.is_empty() && !partial {
            let at = positions
                .find_key(&[Seg::Key("actors")], &actor.name)
                .unwrap_or_default();
            problems.push((at, format!("actor `{}` has no steps", actor.name)));
        }
        let mut sockets: BTreeSet<&str> = BTreeSet::new();
        for (index, step) in actor.steps.iter().enumerate() {
            let mut problem = |message: String| {
                problems.push((
                    step.location,
                    format!(
                        "actor {}, step {}: {message}",
                        actor.name,
                        step_number(positions, &actor.name, index, step.location)
                    ),
                ))
            };
            let network_change = match &step.op {
                Op::LinkDown(link) | Op::LinkUp(link) => Some((Some(link.as_str()), None)),
                Op::Route(route) => Some((None, Some(route))),
                _ => None,
            };
            if let Some((link, route)) = network_change {
                for message in super::hosts::step_problems(&scenario.topology, link, route) {
                    problem(message);
                }
            }
            if has_hosts {
                for address in step.op.addresses() {
                    if let AddressExpr::ClosedPort(_) = address {
                        problem(format!(
                            "`{address}`: the runner holds closed ports on this machine's \
                             loopback, which a scenario with `hosts` does not reach; bind a \
                             port on a host and leave it unlistened instead"
                        ));
                    }
                }
            }
            if let Some(socket) = step
                .op
                .socket()
                .filter(|s| !partial && !sockets.contains(s))
            {
                problem(format!(
                    "socket `{socket}` is not created before this step in actor `{}` \
                     (sockets are created by `socket`, `socketpair` or `accept` with `as:`){}{}",
                    actor.name,
                    did_you_mean(socket, sockets.iter().copied()),
                    known(&sockets)
                ));
            }
            for address in step.op.addresses() {
                check_address(address, &captured, false, partial, &mut problem);
                check_not_a_count(address, &counts, &mut problem);
                if scenario.fixed_port_why.is_none() {
                    if let Some(port) = fixed_port(address) {
                        problem(format!(
                            "`{address}` names the fixed port {port}: scenarios use port 0 and \
                             capture the port they get; if this one needs a fixed port, say why \
                             in `fixed_port_why:` at the top level"
                        ));
                    }
                }
            }
            // `bind`'s address is the socket's own (a foreign one is a way to get
            // EADDRNOTAVAIL); every other address a call takes is one it reaches.
            if step.op.name() == "bind" {
                for address in step.op.addresses() {
                    if let AddressExpr::ClosedPort(_) = address {
                        problem(format!(
                            "`{address}` is a port the runner holds closed, to connect or send \
                             to; a socket cannot bind it (bind to port 0 for a port of its own)"
                        ));
                    }
                }
            } else {
                for address in step.op.addresses() {
                    if let Some(reason) = off_machine(address, has_hosts) {
                        problem(reason);
                    }
                }
            }
            if let Some(address) = &step.expect.0.address {
                check_address(address, &captured, true, partial, &mut problem);
                check_not_a_count(address, &counts, &mut problem);
            }
            check_counts(&step.expect, &captured, &counts, partial, &mut problem);
            check_expectable(&step.expect, &mut problem);
            for name in step.blocks_until.iter().chain(match &step.op {
                Op::Wait(name) => Some(name),
                _ => None,
            }) {
                if !partial && !raised.contains(name.as_str()) {
                    problem(format!(
                        "signal `{name}` is never raised (by a `signal` step or an `announce`){}",
                        did_you_mean(name, raised.iter().copied())
                    ));
                }
            }
            if let Some(var) = step.op.captures() {
                if step.expect.is_error() {
                    problem(format!(
                        "this step expects an error, so it cannot capture `${var}`"
                    ));
                }
            }
            check_expect(step, &step.expect, &mut problem);
            sockets.extend(step.op.creates());
        }
    }
    if !partial && problems.is_empty() {
        problems.extend(deadlock::find(scenario));
    }
    problems.sort_by_key(|(l, _)| *l);
    problems
}

/// The number of the step at `location` in `actor`, as the file counts its steps. A step that did
/// not parse is missing from the model, so a later step's `index` there can be smaller.
pub(crate) fn step_number(
    positions: &Positions,
    actor: &str,
    index: usize,
    location: Location,
) -> usize {
    match positions.node(&[Seg::Key("actors"), Seg::Key(actor)]) {
        Some(crate::yaml::Node::Seq(items, _)) => items
            .iter()
            .position(|item| item.location() == location)
            .map_or(index + 1, |i| i + 1),
        _ => index + 1,
    }
}

/// The port of an IP literal address other than 0, if it has one.
fn fixed_port(address: &AddressExpr) -> Option<u16> {
    match address {
        AddressExpr::Literal(crate::vocab::Address::Ip(a)) => Some(a.port()),
        AddressExpr::Literal(crate::vocab::Address::Host { port, .. }) => Some(*port),
        _ => None,
    }
    .filter(|port| *port != 0)
}

/// The sockets known at a step, at most [`KNOWN_SHOWN`] of them: listing thousands in each of
/// thousands of errors would make the messages grow with the square of the file.
fn known(sockets: &BTreeSet<&str>) -> String {
    let shown: Vec<&str> = sockets.iter().copied().take(KNOWN_SHOWN).collect();
    match sockets.len() {
        0 => String::new(),
        n if n <= KNOWN_SHOWN => format!("; known here: {}", shown.join(", ")),
        n => format!("; known here: {}, … ({n} in all)", shown.join(", ")),
    }
}

/// How many known sockets an error lists.
const KNOWN_SHOWN: usize = 10;

fn check_address(
    address: &AddressExpr,
    captured: &BTreeMap<&str, Location>,
    in_expectation: bool,
    partial: bool,
    problem: &mut impl FnMut(String),
) {
    if let Some(var) = address
        .var()
        .filter(|v| !partial && !captured.contains_key(v))
    {
        problem(format!(
            "`${var}` is used but never captured (capture it with `capture:`, `peer:` or `sender:`){}",
            did_you_mean(var, captured.keys().copied())
        ));
    }
    if !in_expectation && matches!(address, AddressExpr::AnyPort(_)) {
        problem(format!(
            "`{address}`: a `*` port matches addresses in `expect`; a call needs a real address"
        ));
    }
}

/// An address must not name a captured count.
fn check_not_a_count(
    address: &AddressExpr,
    counts: &HashSet<&str>,
    problem: &mut impl FnMut(String),
) {
    if let Some(var) = address.var().filter(|v| counts.contains(v)) {
        problem(format!(
            "`${var}` is a count (what a `send` returned), not an address"
        ));
    }
}

/// Every `size: $NAME` in `expect` (and its alternatives) names a captured count.
fn check_counts(
    expect: &Expect,
    captured: &BTreeMap<&str, Location>,
    counts: &HashSet<&str>,
    partial: bool,
    problem: &mut impl FnMut(String),
) {
    if let Some(Count::Captured(var)) = &expect.0.size {
        if !captured.contains_key(var.as_str()) {
            if !partial {
                problem(format!(
                    "`${var}` is used but never captured (a `send` or `sendto` captures its count with `capture:`){}",
                    did_you_mean(var, counts.iter().copied())
                ));
            }
        } else if !counts.contains(var.as_str()) {
            problem(format!(
                "`${var}` is an address, not a count (`size` takes a count a `send` captured)"
            ));
        }
    }
    for alternative in &expect.0.one_of {
        check_counts(alternative, captured, counts, partial, problem);
    }
}

fn check_expect(step: &Step, expect: &Expect, problem: &mut impl FnMut(String)) {
    let e = &expect.0;
    let returns = step.op.returns();
    let op = step.op.name();
    if !e.one_of.is_empty() {
        let others = e.error.is_some()
            || e.returns.is_some()
            || e.data.is_some()
            || e.size.is_some()
            || e.min_size.is_some()
            || e.max_size.is_some()
            || e.eof.is_some()
            || e.address.is_some()
            || e.value.is_some()
            || e.file.is_some()
            || new_checks(e);
        if others {
            problem("`one_of` lists whole outcomes; put no other checks beside it".to_string());
        }
        if e.why.as_deref().is_none_or(|why| why.trim().is_empty()) {
            problem(
                "`one_of` needs `why`: say which systems do what (spec/scenario-format.md §7.2)"
                    .to_string(),
            );
        }
        for alternative in &e.one_of {
            check_expect(step, alternative, problem);
        }
        return;
    }
    let data_checks = e.data.is_some()
        || e.size.is_some()
        || e.min_size.is_some()
        || e.max_size.is_some()
        || e.eof.is_some();
    if e.error.is_some()
        && (data_checks
            || e.returns.is_some()
            || e.address.is_some()
            || e.value.is_some()
            || e.file.is_some()
            || new_checks(e))
    {
        problem("an expected error cannot also check a returned value".to_string());
    }
    if e.returns.is_some() && !returns.has_count() {
        problem(format!(
            "`returns` checks a byte count, which `{op}` does not return (send, sendto, recv_into and recvfrom_into do)"
        ));
    }
    if data_checks && !returns.has_data() {
        problem(format!(
            "data checks (`data`, `size`, `eof`…) apply to receives, not to `{op}`"
        ));
    }
    if e.address.is_some() && !returns.has_address() {
        problem(format!(
            "`address` checks a returned address, which `{op}` does not return"
        ));
    }
    if (e.value.is_some() || e.min_value.is_some()) && returns != Returns::Value {
        problem(format!(
            "`value` and `min_value` check the result of getsockopt, getblocking or fileno, not `{op}`'s"
        ));
    }
    if e.file.is_some() && returns != Returns::File {
        problem(format!(
            "`file` checks what `fs: {{stat: PATH}}` finds, not `{op}`'s result"
        ));
    }
    if e.msg_flags.is_some() && returns != Returns::Message {
        problem(format!(
            "`msg_flags` checks recvmsg's flags, which `{op}` does not return"
        ));
    }
    if e.timeout.is_some() && returns != Returns::Timeout {
        problem(format!(
            "`timeout` (in `expect`) checks gettimeout's result, not `{op}`'s"
        ));
    }
    if (e.events.is_some() || e.events_include.is_some() || e.events_exclude.is_some())
        && returns != Returns::Events
    {
        problem(format!(
            "`events`, `events_include` and `events_exclude` check poll's result, not `{op}`'s"
        ));
    }
}

/// The checks of an expectation that only the newer operations' results have.
fn new_checks(e: &crate::scenario::ExpectFields) -> bool {
    e.min_value.is_some()
        || e.msg_flags.is_some()
        || e.timeout.is_some()
        || e.events.is_some()
        || e.events_include.is_some()
        || e.events_exclude.is_some()
}

/// Why a destination could reach beyond this machine, if it could. Scenarios send only to
/// loopback (or the unspecified address, which Linux treats as loopback), to `localhost`, and to
/// `.invalid` names that never resolve (RFC 6761); a scenario with `hosts` also to the ranges
/// its hosts' addresses come from, which exist only inside its own namespaces (an address no
/// host owns there is an absent host, never one elsewhere).
fn off_machine(address: &AddressExpr, has_hosts: bool) -> Option<String> {
    let local_ip = |ip: std::net::IpAddr| {
        (has_hosts && super::hosts::is_scenario_network_address(ip))
            || ip.is_loopback()
            || ip.is_unspecified()
            || matches!(ip, std::net::IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()))
    };
    let local_name = |host: &str| {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        match host.parse::<std::net::IpAddr>() {
            Ok(ip) => local_ip(ip),
            Err(_) => {
                host == "localhost" || host.ends_with(".localhost") || host.ends_with(".invalid")
            }
        }
    };
    let ok = match address {
        AddressExpr::Literal(crate::vocab::Address::Ip(a)) => local_ip(a.ip()),
        AddressExpr::Literal(crate::vocab::Address::Host { host, .. }) => local_name(host),
        AddressExpr::HostPortOf { host, .. } => local_name(host),
        _ => true,
    };
    (!ok).then(|| {
        format!(
            "`{address}` is not on this machine: scenarios connect and send only to loopback \
             (127.0.0.0/8, ::1), `localhost`, `.invalid` names, or, with `hosts`, addresses \
             of the scenario's network ({})",
            super::hosts::SCENARIO_NETWORK_RANGES
        )
    })
}

/// An outcome that says something about the implementation rather than about sockets
/// (`unsupported`, `broken`, a `library` error of its own) is never what a step expects.
fn check_expectable(expect: &Expect, problem: &mut impl FnMut(String)) {
    for alternative in std::iter::once(expect).chain(&expect.0.one_of) {
        if let Some(code @ (ErrorCode::Unsupported | ErrorCode::Broken | ErrorCode::Library)) =
            alternative.0.error
        {
            problem(format!(
                "`error: {}` cannot be expected: it is what an implementation reports about \
                 itself, not a socket call's outcome; expect an errno name, an EAI_ name, \
                 `timeout` or `rejected`",
                code.name()
            ));
        }
    }
}
