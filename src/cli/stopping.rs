//! How the command line stops early: on SIGINT or SIGTERM, and when its standard output is closed.
//!
//! The first SIGINT or SIGTERM [cancels](crate::runner::cancel) the run: no scenario starts any
//! more, running ones end at once (their drivers killed, and the idle warm ones with them) and are
//! reported `interrupted`, every temporary directory is removed, the summary is printed, and the
//! process exits with 128 plus the signal's number (130, 143). A second SIGINT exits at once, still killing the drivers and
//! removing the temporary directories (the built-in suite's, written out for drivers, too). A closed standard output (`sockspec list | head -1`) ends
//! the command quietly, the same way.

use signal_hook::consts::{SIGINT, SIGTERM};
use std::io::Write;
use std::sync::atomic::{AtomicI32, Ordering};

/// The first stopping signal received, or 0.
static RECEIVED: AtomicI32 = AtomicI32::new(0);

/// Starts the thread that turns SIGINT and SIGTERM into a cancelled run. Without it (if the
/// handlers cannot be installed) the signals keep their default action.
pub(super) fn handle_signals() {
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
        return;
    };
    let _ = std::thread::Builder::new()
        .name("signals".to_string())
        .spawn(move || {
            for signal in signals.forever() {
                if RECEIVED
                    .compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst)
                    .is_ok()
                {
                    let _ = writeln!(
                        std::io::stderr().lock(),
                        "sockspec: {}: stopping; running scenarios are ended and reported{}",
                        name(signal),
                        if signal == SIGINT {
                            " (press Ctrl-C again to stop at once)"
                        } else {
                            ""
                        }
                    );
                    crate::runner::cancel();
                    // Drivers still in their handshake belong to no running scenario yet.
                    crate::driver::kill_all_drivers();
                } else if signal == SIGINT {
                    exit_now(128 + SIGINT);
                }
            }
        });
}

fn name(signal: i32) -> &'static str {
    match signal {
        SIGINT => "SIGINT",
        SIGTERM => "SIGTERM",
        _ => "signal",
    }
}

/// The exit code a stopping signal asks for (128 + its number), if one was received.
pub(super) fn signalled_exit_code() -> Option<u8> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        signal => u8::try_from(128 + signal).ok(),
    }
}

/// Ends the process at once: kills every running driver, removes every temporary directory.
fn exit_now(code: i32) -> ! {
    // Every process of every driver, those still starting included, at once.
    crate::driver::kill_all_drivers();
    crate::runner::remove_temporary_directories();
    crate::suite::remove_materialised();
    std::process::exit(code)
}

/// Writes to standard output. If the reader has gone (a closed pipe), the command ends quietly,
/// as a Unix filter does, with the shell's code for SIGPIPE (141); any other error is ignored.
pub(super) fn write_out(args: std::fmt::Arguments) {
    let mut stdout = std::io::stdout().lock();
    let written = stdout.write_fmt(args).and_then(|()| stdout.flush());
    if let Err(e) = written {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            exit_now(141);
        }
    }
}
