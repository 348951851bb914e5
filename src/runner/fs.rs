//! File-system steps (`fs:`), which the runner performs itself in the scenario's temporary
//! directory: the same for every implementation, like `signal` and `wait`.

use super::check::{Outcome, Value};
use super::env::Env;
use crate::scenario::{FileStatus, FileType, FsStep, Permissions};
use crate::vocab::SockError;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Performs `step` on the calling thread (with its privileges: an `unprivileged` actor's
/// steps are checked like an ordinary user's). `stat` returns [`Value::File`].
pub(crate) fn perform(step: &FsStep, env: &Env) -> Outcome {
    let path = env.unix_path(&step.path().0);
    let set_mode = |bits: Permissions| {
        // Exactly these bits, whatever the umask took away at creation.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(bits.0))
    };
    let done = match step {
        FsStep::Mkdir(_, mode) => std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&path)
            .and_then(|()| set_mode(*mode)),
        FsStep::Create(_, mode) => std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .and_then(|_| set_mode(*mode)),
        FsStep::Symlink(_, target) => std::os::unix::fs::symlink(&target.0, &path),
        FsStep::Chmod(_, mode) => set_mode(*mode),
        FsStep::Unlink(_) => std::fs::remove_file(&path),
        FsStep::Stat(_) => {
            return std::fs::symlink_metadata(&path)
                .map(|m| Value::File(status_of(&m)))
                .map_err(error)
        }
    };
    done.map(|()| Value::Nothing).map_err(error)
}

fn status_of(m: &std::fs::Metadata) -> FileStatus {
    let t = m.file_type();
    let kind = if t.is_socket() {
        FileType::Socket
    } else if t.is_symlink() {
        FileType::Symlink
    } else if t.is_dir() {
        FileType::Directory
    } else if t.is_file() {
        FileType::Regular
    } else {
        FileType::Other
    };
    FileStatus {
        kind,
        mode: Permissions(m.permissions().mode() & 0o777),
    }
}

fn error(e: std::io::Error) -> SockError {
    match e.raw_os_error() {
        Some(errno) => SockError::errno(nix::errno::Errno::from_raw(errno)),
        None => SockError {
            code: crate::vocab::ErrorCode::Broken,
            message: format!("sockspec's file-system step failed: {e}"),
        },
    }
}

/// The permission bits a new socket file gets: 0o777 without the process's umask, which the
/// runner reads from `/proc/self/status` (calling umask(2) to read it would change it for a
/// moment, for every thread). Drivers inherit the umask.
pub(crate) fn socket_file_mode() -> Result<Permissions, String> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|e| format!("cannot read /proc/self/status for the umask: {e}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("Umask:"))
        .and_then(|umask| u32::from_str_radix(umask.trim(), 8).ok())
        .map(|umask| Permissions(0o777 & !umask))
        .ok_or_else(|| "/proc/self/status gives no umask".to_string())
}

/// Gives every directory under `dir` (not following links) back its owner's read, write and
/// search permission, so that the tree can be removed after a scenario took them away.
pub(crate) fn restore_permissions(dir: &Path) {
    // A loop, not recursion: a scenario may nest directories deeply.
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&dir) else {
            continue;
        };
        let mode = meta.permissions().mode();
        if !meta.is_dir() {
            continue;
        }
        if mode & 0o700 != 0o700 {
            let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode | 0o700));
        }
        if let Ok(entries) = std::fs::read_dir(&dir) {
            pending.extend(
                entries
                    .flatten()
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                    .map(|e| e.path()),
            );
        }
    }
}
