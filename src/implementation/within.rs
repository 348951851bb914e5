//! [`within`]: a time limit on a body of calls, kept by one timer thread for the whole process.
//!
//! A thread started for each limit (and joined after it) cost about a tenth of the stream
//! property's throughput on two cores, for limits that almost never pass. So one timer thread
//! keeps every limit's deadline; only a limit that passes gets a thread of its own, to make its
//! interrupts, so that an implementation whose `interrupt` blocks stalls nothing but its own
//! limit.
//!
//! The timer thread is started by the first `within` of the process, and its expiry threads by
//! it: they share that first caller's per-thread state (a network namespace it entered,
//! capabilities it dropped). An interrupt acts on a socket or process that already exists
//! (`shutdown(2)`, a signal), which that state does not change.

use super::{Handle, Session};
use std::collections::{BTreeMap, HashSet};
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// Runs `body` on this thread; if it has not returned within `limit`, asks each session to
/// [`interrupt`](Session::interrupt) its socket, so that a blocked call returns. Returns the body's
/// result and whether the limit passed first. (The runner's watchdog does the same per step,
/// with a deadline for each actor.) Returns only once the interrupts, if made, have returned.
pub fn within<T>(
    limit: Duration,
    interrupt: &[(&dyn Session, Handle)],
    body: impl FnOnce() -> T,
) -> (T, bool) {
    let expired = AtomicBool::new(false);
    let result = {
        let _limit = Limit::start(limit, || {
            expired.store(true, Ordering::SeqCst);
            for (session, handle) in interrupt {
                session.interrupt(*handle);
            }
        });
        body()
        // Dropping `_limit` cancels it, or waits for its interrupts to return.
    };
    (result, expired.load(Ordering::SeqCst))
}

/// What a limit does when it passes, its lifetime erased (see [`Limit::start`]).
type OnExpiry = Box<dyn FnOnce() + Send + 'static>;

#[derive(Default)]
struct Limits {
    /// Waiting limits by deadline (and a number, so that equal deadlines are distinct).
    waiting: BTreeMap<(Instant, u64), OnExpiry>,
    /// Limits that passed and whose `on_expiry` is running.
    running: HashSet<u64>,
    next: u64,
    /// When the timer thread wakes next by itself (`None`: not before it is notified). A limit
    /// that passes no earlier needs no notification: most limits end long before they pass, so
    /// starting one usually wakes nothing.
    wakes_at: Option<Instant>,
}

struct Timer {
    limits: Mutex<Limits>,
    changed: Condvar,
}

fn lock(timer: &Timer) -> MutexGuard<'_, Limits> {
    timer.limits.lock().unwrap_or_else(|e| e.into_inner())
}

/// The process's timer, started on first use.
fn timer() -> &'static Timer {
    static TIMER: OnceLock<&'static Timer> = OnceLock::new();
    TIMER.get_or_init(|| {
        let timer: &'static Timer = Box::leak(Box::new(Timer {
            limits: Mutex::new(Limits::default()),
            changed: Condvar::new(),
        }));
        std::thread::Builder::new()
            .name("sockspec-limits".into())
            .spawn(move || keep_time(timer))
            .expect("sockspec cannot start its timer thread");
        timer
    })
}

/// The timer thread: starts each passed limit's `on_expiry` on a thread of its own.
fn keep_time(timer: &'static Timer) {
    loop {
        let due = {
            let mut limits = lock(timer);
            loop {
                let now = Instant::now();
                let mut due = Vec::new();
                while let Some(entry) = limits.waiting.first_entry() {
                    if entry.key().0 > now {
                        break;
                    }
                    let ((_, id), on_expiry) = entry.remove_entry();
                    limits.running.insert(id);
                    due.push((id, on_expiry));
                }
                if !due.is_empty() {
                    break due;
                }
                limits.wakes_at = limits.waiting.first_key_value().map(|((at, _), _)| *at);
                limits = match limits.wakes_at {
                    Some(at) => {
                        timer
                            .changed
                            .wait_timeout(limits, at.saturating_duration_since(now))
                            .unwrap_or_else(|e| e.into_inner())
                            .0
                    }
                    None => timer
                        .changed
                        .wait(limits)
                        .unwrap_or_else(|e| e.into_inner()),
                };
            }
        };
        // Started without the lock: starting a thread takes time every other limit would wait.
        for (id, on_expiry) in due {
            // Given to the thread through a slot, so that it is still here if no thread starts.
            let slot = std::sync::Arc::new(Mutex::new(Some(on_expiry)));
            let given = std::sync::Arc::clone(&slot);
            let started = std::thread::Builder::new()
                .name("sockspec-limit".into())
                .spawn(move || expire(timer, id, &given));
            if let Err(e) = started {
                // Without a thread of its own, the limit's interrupts are made here rather than
                // never (other limits wait meanwhile); a panic in them must not end the timer.
                eprintln!(
                    "sockspec: no thread for a passed limit ({e}): interrupting on the timer's"
                );
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    expire(timer, id, &slot)
                }));
            }
        }
    }
}

/// Runs the `on_expiry` in `slot` of limit `id`, then marks it ended (also if it panics).
fn expire(timer: &'static Timer, id: u64, slot: &Mutex<Option<OnExpiry>>) {
    struct Ended(&'static Timer, u64);
    impl Drop for Ended {
        fn drop(&mut self) {
            lock(self.0).running.remove(&self.1);
            self.0.changed.notify_all();
        }
    }
    let _ended = Ended(timer, id);
    let on_expiry = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(on_expiry) = on_expiry {
        on_expiry();
    }
}

/// A limit kept by the timer, ended when dropped: cancelled if it has not passed, otherwise
/// waited for until its `on_expiry` has returned. Private to [`within`], which never leaks one.
struct Limit<'a> {
    /// `None` for a limit too far away to pass (`Instant` cannot hold its deadline).
    key: Option<(Instant, u64)>,
    _borrows: PhantomData<&'a ()>,
}

impl<'a> Limit<'a> {
    fn start(limit: Duration, on_expiry: impl FnOnce() + Send + 'a) -> Limit<'a> {
        let Some(deadline) = Instant::now().checked_add(limit) else {
            return Limit {
                key: None,
                _borrows: PhantomData,
            };
        };
        let on_expiry: Box<dyn FnOnce() + Send + 'a> = Box::new(on_expiry);
        // SAFETY: only the lifetime is changed. `on_expiry` borrows for 'a, and the `Limit<'a>`
        // returned ends before 'a does: its drop (which `within` always reaches, also when the
        // body unwinds, and never skips by leaking it) either takes `on_expiry` back out of the
        // timer unrun, or waits until the thread running it has returned from it.
        let on_expiry: OnExpiry = unsafe { std::mem::transmute(on_expiry) };
        let timer = timer();
        let mut limits = lock(timer);
        let key = (deadline, limits.next);
        limits.next += 1;
        let sooner = limits.wakes_at.is_none_or(|at| key.0 < at);
        if sooner {
            limits.wakes_at = Some(key.0);
        }
        limits.waiting.insert(key, on_expiry);
        drop(limits);
        if sooner {
            timer.changed.notify_all();
        }
        Limit {
            key: Some(key),
            _borrows: PhantomData,
        }
    }
}

impl Drop for Limit<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key else {
            return;
        };
        let timer = timer();
        let mut limits = lock(timer);
        if limits.waiting.remove(&key).is_some() {
            return;
        }
        while limits.running.contains(&key.1) {
            limits = timer
                .changed
                .wait(limits)
                .unwrap_or_else(|e| e.into_inner());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::implementation::{Implementation, Plain};
    use crate::reference::Reference;
    use crate::vocab::{Family, RecvFlags, SocketType};

    /// A reference session and a Unix stream socketpair in it.
    fn a_pair() -> (Box<dyn Session>, Handle, Handle) {
        let session = Reference.open_session().unwrap();
        let (a, b) = Plain(session.as_ref())
            .socketpair(Family::Unix, SocketType::Stream)
            .unwrap();
        (session, a, b)
    }

    #[test]
    fn a_body_that_returns_in_time_is_not_interrupted() {
        let (session, a, _b) = a_pair();
        let (value, expired) = within(Duration::from_secs(5), &[(session.as_ref(), a)], || 7);
        assert_eq!((value, expired), (7, false));
    }

    /// Waits (at most 10 s, however loaded the machine) until `flag` is set.
    fn wait_for(flag: &AtomicBool) {
        let started = Instant::now();
        while !flag.load(Ordering::SeqCst) {
            assert!(started.elapsed() < Duration::from_secs(10), "never set");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// `within` on a recv that only an interrupt ends: true once the limit has passed.
    fn a_blocked_recv_is_interrupted() -> bool {
        let (session, a, _b) = a_pair();
        let (received, expired) =
            within(Duration::from_millis(20), &[(session.as_ref(), a)], || {
                Plain(session.as_ref()).recv(a, 1, RecvFlags::default())
            });
        received.is_ok() && expired
    }

    #[test]
    fn a_limit_that_passed_is_waited_for_until_its_interrupts_return() {
        // What the lifetime erasure in `Limit::start` rests on.
        let (began, returned) = (AtomicBool::new(false), AtomicBool::new(false));
        {
            let _limit = Limit::start(Duration::from_millis(10), || {
                began.store(true, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(150));
                returned.store(true, Ordering::SeqCst);
            });
            wait_for(&began);
        }
        assert!(returned.load(Ordering::SeqCst));
    }

    #[test]
    fn a_body_that_panics_cancels_its_limit_and_later_limits_still_pass() {
        let panicked = std::panic::catch_unwind(|| {
            within(Duration::from_millis(20), &[], || -> () {
                panic!("the body")
            })
        });
        assert!(panicked.is_err());
        assert!(a_blocked_recv_is_interrupted());
    }

    #[test]
    fn an_interrupt_that_panics_ends_its_limit_and_the_timer_goes_on() {
        let began = AtomicBool::new(false);
        {
            let _limit = Limit::start(Duration::from_millis(10), || {
                began.store(true, Ordering::SeqCst);
                panic!("an interrupt")
            });
            wait_for(&began);
        }
        assert!(a_blocked_recv_is_interrupted());
    }

    #[test]
    fn a_limit_too_far_to_pass_never_passes() {
        assert_eq!(within(Duration::MAX, &[], || 1), (1, false));
    }

    #[test]
    fn a_recv_blocked_past_the_limit_is_interrupted_and_returns() {
        let (session, a, _b) = a_pair();
        let started = Instant::now();
        let (received, expired) =
            within(Duration::from_millis(100), &[(session.as_ref(), a)], || {
                Plain(session.as_ref()).recv(a, 16, RecvFlags::default())
            });
        assert!(expired);
        assert!(started.elapsed() >= Duration::from_millis(100));
        // shutdown(2) woke the recv: end of stream, no bytes.
        assert_eq!(received.unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn many_limits_at_once_each_interrupt_only_their_own_call() {
        let session = Reference.open_session().unwrap();
        let session = session.as_ref();
        std::thread::scope(|scope| {
            let blocked: Vec<_> = (0..8)
                .map(|_| {
                    scope.spawn(|| {
                        let (a, _b) = Plain(session)
                            .socketpair(Family::Unix, SocketType::Stream)
                            .unwrap();
                        within(Duration::from_millis(50), &[(session, a)], || {
                            Plain(session).recv(a, 1, RecvFlags::default())
                        })
                    })
                })
                .collect();
            let quick: Vec<_> = (0..8)
                .map(|i| {
                    scope.spawn(move || {
                        let (a, b) = Plain(session)
                            .socketpair(Family::Unix, SocketType::Stream)
                            .unwrap();
                        Plain(session).send(b, b"x").unwrap();
                        within(Duration::from_secs(5), &[(session, a)], || {
                            (i, Plain(session).recv(a, 1, RecvFlags::default()))
                        })
                    })
                })
                .collect();
            for handle in blocked {
                let (received, expired) = handle.join().unwrap();
                assert!(expired);
                assert_eq!(received.unwrap(), Vec::<u8>::new());
            }
            for handle in quick {
                let ((_, received), expired) = handle.join().unwrap();
                assert!(!expired);
                assert_eq!(received.unwrap(), b"x".to_vec());
            }
        });
    }
}
