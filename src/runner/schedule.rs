//! Which scenario starts next, and when: longest expected first, `jobs` at once, and no more data
//! in flight than a budget allows, so that a run's memory does not grow with its number of
//! scenarios. A scenario is loaded only when it starts ([`run_planned`]); what the scheduler
//! needs before then is its [`Planned`].

use super::{is_cancelled, run_scenario, RunOptions, ScenarioResult};
use crate::implementation::Implementation;
use crate::scenario::Scenario;
use std::borrow::Cow;
use std::sync::{mpsc, Condvar, Mutex, PoisonError};
use std::time::Duration;

/// The most data (as [`Scenario::data_held`] counts it) the scenarios running at once may hold
/// together: the largest of the suite's own scenarios (an 8 MiB transfer over TCP, sent,
/// received and expected). Longest-first ordering starts the copies of a scenario together, so
/// without a bound a suite with ten scenarios like each of the suite's large transfers (8 and
/// 4 MiB over TCP and Unix streams, an 8 MiB send that times out: 63 MiB in all) held ten times
/// the memory of one. A scenario that alone holds more than this runs while no other scenario
/// with data does. Measured with ten copies of the suite against one (`cargo bench --bench
/// run_speed`, scenarios with data started first): 24 MiB let the run's peak memory grow 1.28 to
/// 1.33 times and its time 7.5 times; 20 MiB, 1.37 and 7.6 times (one copy's peak fell too);
/// 16 MiB, 1.25 and 10 times (ten 450 ms sends of 8 MiB that time out then run nearly one after
/// another). Before data went first, 64 MiB let the memory grow 1.8 times and 32 MiB 1.4 times.
pub const DATA_IN_FLIGHT: usize = 24 << 20;

/// The least data a scenario holds for it to count against [`DATA_IN_FLIGHT`] (and start among
/// the first): 32 scenarios at once that hold less hold less than 32 MiB together, and most
/// scenarios hold a few KiB (a `recv` buffer, a message), which must not take them out of
/// longest-first order.
pub const LARGE_DATA: usize = 1 << 20;

/// What the scheduler knows of a scenario before loading it to run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Planned {
    /// How long it is expected to wait ([`Scenario::expected_wait`]): the longest start first.
    pub expected_wait: Duration,
    /// The data it holds while it runs ([`Scenario::data_held`]) when that is [`LARGE_DATA`]
    /// or more, else 0: what counts against [`DATA_IN_FLIGHT`].
    pub data_held: usize,
    /// Whether the runner starts processes while it runs (a multi-host scenario's `ip` and
    /// `tc`): such scenarios never run beside the others. A process starts as a copy of the
    /// runner, holding every socket open in it until it executes its program, so a socket
    /// another scenario closes meanwhile stays open (a listener still listening, a port still
    /// taken) when that scenario's next step looks.
    pub spawns: bool,
}

impl Planned {
    /// The plan of a loaded scenario.
    pub fn of(scenario: &Scenario) -> Planned {
        Planned {
            expected_wait: scenario.expected_wait(),
            data_held: Some(scenario.data_held())
                .filter(|&data| data >= LARGE_DATA)
                .unwrap_or(0),
            spawns: !scenario.topology.is_empty(),
        }
    }
}

/// The scenarios not yet started, in start order, and the data of those running.
struct Queue {
    waiting: Vec<usize>,
    data_in_flight: usize,
    /// Running scenarios that hold any data (one that holds more than the budget runs only when
    /// this is 0).
    running_with_data: usize,
    /// Running scenarios that start processes ([`Planned::spawns`]), and the others.
    running_spawning: usize,
    running_others: usize,
}

/// The queue workers take scenarios from; a finished scenario's data is given back and wakes the
/// workers waiting for room.
struct Scheduler<'p> {
    plans: &'p [Planned],
    budget: usize,
    queue: Mutex<Queue>,
    room: Condvar,
}

impl<'p> Scheduler<'p> {
    fn new(plans: &'p [Planned], budget: usize) -> Scheduler<'p> {
        // Scenarios with large data first, the most first: they take turns within the budget,
        // so they start as soon as it allows, beside the others rather than after them (a
        // worker passes over one that does not fit), and the largest, which may have to run
        // alone, does not wait for the smaller ones to end. The others longest expected first,
        // so that the long waits overlap the many short scenarios instead of trailing after
        // them. Ties keep the scenarios' order. Before all of that, the scenarios that start
        // processes, a phase of their own (they are the multi-host ones, waiting the longest).
        let mut waiting: Vec<usize> = (0..plans.len()).collect();
        waiting.sort_by_key(|&i| {
            let plan = plans[i];
            std::cmp::Reverse((plan.spawns, plan.data_held, plan.expected_wait))
        });
        Scheduler {
            plans,
            budget,
            queue: Mutex::new(Queue {
                waiting,
                data_in_flight: 0,
                running_with_data: 0,
                running_spawning: 0,
                running_others: 0,
            }),
            room: Condvar::new(),
        }
    }

    /// The next scenario to start: the first in order whose data fits beside the running ones'.
    /// Waits while none fits (some scenario with data is running then, and wakes it when it
    /// ends); `None` when every scenario has started or the run is cancelled.
    fn take(&self) -> Option<Started<'_, 'p>> {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            // A cancelled run starts nothing more; what never started is not reported.
            if is_cancelled() || queue.waiting.is_empty() {
                return None;
            }
            if let Some(at) = self.next(&queue) {
                let index = queue.waiting.remove(at);
                let plan = self.plans[index];
                if plan.data_held > 0 {
                    queue.data_in_flight = queue.data_in_flight.saturating_add(plan.data_held);
                    queue.running_with_data += 1;
                }
                if plan.spawns {
                    queue.running_spawning += 1;
                } else {
                    queue.running_others += 1;
                }
                return Some(Started {
                    scheduler: self,
                    index,
                });
            }
            queue = self
                .room
                .wait(queue)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

impl Scheduler<'_> {
    /// Where in `queue.waiting` the scenario to start now is: the first in order of the phase
    /// the queue is in (starting processes or not: the first waiting scenario's) whose data fits
    /// beside the running ones'; none while a scenario of the other phase still runs.
    fn next(&self, queue: &Queue) -> Option<usize> {
        let phase = self.plans[*queue.waiting.first()?].spawns;
        let other_phase_running = if phase {
            queue.running_others
        } else {
            queue.running_spawning
        };
        if other_phase_running > 0 {
            return None;
        }
        let fits = |data: usize| {
            data == 0
                || queue.running_with_data == 0
                || queue.data_in_flight.saturating_add(data) <= self.budget
        };
        queue.waiting.iter().position(|&i| {
            let plan = self.plans[i];
            plan.spawns == phase && fits(plan.data_held)
        })
    }
}

/// A scenario taken from the queue; its data is given back when this is dropped (also if the
/// scenario's run panicked).
struct Started<'s, 'p> {
    scheduler: &'s Scheduler<'p>,
    index: usize,
}

impl Drop for Started<'_, '_> {
    fn drop(&mut self) {
        let plan = self.scheduler.plans[self.index];
        let mut queue = self
            .scheduler
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if plan.data_held > 0 {
            queue.data_in_flight = queue.data_in_flight.saturating_sub(plan.data_held);
            queue.running_with_data = queue.running_with_data.saturating_sub(1);
        }
        if plan.spawns {
            queue.running_spawning = queue.running_spawning.saturating_sub(1);
        } else {
            queue.running_others = queue.running_others.saturating_sub(1);
        }
        drop(queue);
        self.scheduler.room.notify_all();
    }
}

/// Runs scenarios on `jobs` threads, longest expected first, calling `on_result` as each
/// finishes (in completion order; it may amend the result, e.g. apply expectations); returns the
/// results in the scenarios' order. After [`super::cancel`], no scenario starts: the results hold
/// only those that ran.
pub fn run_all(
    scenarios: &[Scenario],
    implementation: &dyn Implementation,
    options: &RunOptions,
    jobs: usize,
    on_result: impl FnMut(&mut ScenarioResult),
) -> Vec<ScenarioResult> {
    let plans: Vec<Planned> = scenarios.iter().map(Planned::of).collect();
    run_planned(
        &plans,
        |index| Ok(Cow::Borrowed(&scenarios[index])),
        implementation,
        options,
        jobs,
        on_result,
    )
}

/// [`run_all`] for scenarios that are loaded only when they start: `load(i)` gives the `i`th
/// (of `plans`), or the result to report for it when it cannot be had (its file changed and no
/// longer loads). Each is dropped when it has run, so a run holds only the scenarios running, and
/// no more data in flight than [`DATA_IN_FLIGHT`] (beside one scenario that alone holds more).
pub fn run_planned<'s>(
    plans: &[Planned],
    load: impl Fn(usize) -> Result<Cow<'s, Scenario>, Box<ScenarioResult>> + Sync,
    implementation: &dyn Implementation,
    options: &RunOptions,
    jobs: usize,
    mut on_result: impl FnMut(&mut ScenarioResult),
) -> Vec<ScenarioResult> {
    let (sender, receiver) = mpsc::channel();
    let mut results: Vec<Option<ScenarioResult>> = vec![None; plans.len()];
    let scheduler = Scheduler::new(plans, DATA_IN_FLIGHT);
    let (scheduler, load) = (&scheduler, &load);
    // One worker: takes scenarios until none is left (or the run is cancelled).
    let work = move |sender: mpsc::Sender<(usize, ScenarioResult)>| {
        while let Some(started) = scheduler.take() {
            let result = match load(started.index) {
                Ok(scenario) => run_scenario(&scenario, implementation, options),
                Err(result) => *result,
            };
            // The scenario's data is given back before its result is reported.
            let index = started.index;
            drop(started);
            if sender.send((index, result)).is_err() {
                break;
            }
        }
    };
    std::thread::scope(|scope| {
        let mut started = 0;
        for _ in 0..jobs.clamp(1, plans.len().max(1)) {
            let sender = sender.clone();
            // Fewer workers than asked for when the system has no more threads to give.
            match std::thread::Builder::new()
                .name("scenarios".to_string())
                .spawn_scoped(scope, move || work(sender))
            {
                Ok(_) => started += 1,
                Err(_) => break,
            }
        }
        if started == 0 {
            // Not even one: the scenarios run here, one after another (their results are
            // reported once all have run).
            work(sender.clone());
        }
        drop(sender);
        for (index, mut result) in receiver {
            on_result(&mut result);
            results[index] = Some(result);
        }
    });
    results.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(wait_ms: u64, data: usize) -> Planned {
        Planned {
            expected_wait: Duration::from_millis(wait_ms),
            data_held: data,
            spawns: false,
        }
    }

    fn spawning(wait_ms: u64) -> Planned {
        Planned {
            spawns: true,
            ..plan(wait_ms, 0)
        }
    }

    /// Takes every scenario that can start now, without running any.
    fn startable<'s, 'p>(scheduler: &'s Scheduler<'p>) -> Vec<Started<'s, 'p>> {
        let mut started = Vec::new();
        loop {
            let queue = scheduler.queue.lock().unwrap();
            let next_fits = scheduler.next(&queue).is_some();
            drop(queue);
            if !next_fits {
                return started;
            }
            started.push(scheduler.take().expect("a scenario fits"));
        }
    }

    #[test]
    fn scenarios_start_longest_expected_first_and_ties_keep_their_order() {
        let plans = [plan(0, 0), plan(300, 0), plan(150, 0), plan(300, 0)];
        let scheduler = Scheduler::new(&plans, 100);
        let order: Vec<usize> = startable(&scheduler).iter().map(|s| s.index).collect();
        assert_eq!(order, [1, 3, 2, 0]);
    }

    #[test]
    fn scenarios_with_data_start_first_the_most_data_first_then_the_others_longest_expected_first()
    {
        let plans = [
            plan(400, 0),
            plan(0, 10),
            plan(300, 0),
            plan(50, 10),
            plan(0, 20),
        ];
        let scheduler = Scheduler::new(&plans, 100);
        let order: Vec<usize> = startable(&scheduler).iter().map(|s| s.index).collect();
        assert_eq!(order, [4, 3, 1, 0, 2]);
    }

    #[test]
    fn scenarios_beyond_the_data_budget_wait_while_those_without_data_start() {
        // Three big transfers expected to take longest, then two without data.
        let plans = [
            plan(500, 60),
            plan(500, 60),
            plan(400, 30),
            plan(0, 0),
            plan(0, 0),
        ];
        let scheduler = Scheduler::new(&plans, 100);
        let running = startable(&scheduler);
        let first: Vec<usize> = running.iter().map(|s| s.index).collect();
        // 60 + 30 fit in 100; the second 60 waits, the scenarios without data pass it.
        assert_eq!(first, [0, 2, 3, 4]);
        assert_eq!(scheduler.queue.lock().unwrap().data_in_flight, 90);
    }

    #[test]
    fn a_finished_scenario_gives_its_data_back_and_the_waiting_one_starts() {
        let plans = [plan(500, 60), plan(500, 60)];
        let scheduler = Scheduler::new(&plans, 100);
        let mut running = startable(&scheduler);
        assert_eq!(running.len(), 1);
        drop(running.pop());
        assert_eq!(scheduler.queue.lock().unwrap().data_in_flight, 0);
        let next = startable(&scheduler);
        assert_eq!(next.iter().map(|s| s.index).collect::<Vec<_>>(), [1]);
    }

    #[test]
    fn a_scenario_holding_more_than_the_budget_runs_alone_among_those_with_data() {
        let plans = [plan(500, 250), plan(400, 10), plan(0, 0)];
        let scheduler = Scheduler::new(&plans, 100);
        let running = startable(&scheduler);
        assert_eq!(
            running.iter().map(|s| s.index).collect::<Vec<_>>(),
            [0, 2],
            "the one over the budget starts (nothing else with data runs); the 10 waits"
        );
        drop(running);
        let next = startable(&scheduler);
        assert_eq!(next.iter().map(|s| s.index).collect::<Vec<_>>(), [1]);
    }

    #[test]
    fn a_worker_waiting_for_room_starts_when_the_running_scenario_ends() {
        let plans = [plan(500, 80), plan(500, 80)];
        let scheduler = Scheduler::new(&plans, 100);
        let first = scheduler.take().expect("the first starts");
        let scheduler = &scheduler;
        std::thread::scope(|scope| {
            let (sender, receiver) = mpsc::channel();
            scope.spawn(move || sender.send(scheduler.take().map(|s| s.index)));
            // The waiter cannot start until the first ends; ending it must wake the waiter.
            drop(first);
            let got = receiver.recv_timeout(Duration::from_secs(10));
            if got.is_err() {
                // Woken here so that the test fails instead of hanging.
                scheduler.room.notify_all();
            }
            assert_eq!(
                got.ok().flatten(),
                Some(1),
                "the waiting worker was not woken"
            );
        });
        assert!(scheduler.take().is_none(), "every scenario has started");
    }

    #[test]
    fn scenarios_that_start_processes_run_first_and_never_beside_the_others() {
        let plans = [plan(900, 0), spawning(300), plan(0, 0), spawning(3000)];
        let scheduler = Scheduler::new(&plans, 100);
        let first = startable(&scheduler);
        assert_eq!(first.iter().map(|s| s.index).collect::<Vec<_>>(), [3, 1]);
        let mut first = first.into_iter();
        drop(first.next());
        assert!(
            startable(&scheduler).is_empty(),
            "a scenario that starts processes still runs"
        );
        drop(first.next());
        let next = startable(&scheduler);
        assert_eq!(next.iter().map(|s| s.index).collect::<Vec<_>>(), [0, 2]);
    }
}
