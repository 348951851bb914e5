//! File-system steps (`fs:`): preconditions and checks for Unix-socket paths, which the runner
//! itself performs inside the scenario's temporary directory, the same for every implementation.

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// A path inside the scenario's temporary directory: relative, `/`-separated, with no empty,
/// `.` or `..` component, so it can never name anything outside the directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FsPath(pub String);

impl FsPath {
    /// What a path may be, for error messages.
    pub const RULE: &'static str = "write a relative path such as `dir/server.sock`, with no \
                                    `..`, `.`, empty or absolute part";

    /// Checks `text`; the error says why it could escape the directory.
    pub fn parse(text: &str) -> Result<FsPath, OutsidePath> {
        if Self::is_inside(text) {
            Ok(FsPath(text.to_string()))
        } else {
            Err(OutsidePath(text.to_string()))
        }
    }

    /// True when `text` names something inside the directory, whatever the directory holds.
    pub fn is_inside(text: &str) -> bool {
        !(text.is_empty()
            || text.starts_with('/')
            || text.contains('\0')
            || text
                .split('/')
                .any(|c| c.is_empty() || c == "." || c == ".."))
    }
}

/// Text that is not a path inside the scenario's temporary directory.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a path inside the scenario's temporary directory: {rule}", rule = FsPath::RULE)]
pub struct OutsidePath(pub String);

impl fmt::Display for FsPath {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for FsPath {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for FsPath {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        FsPath::parse(&String::deserialize(deserializer)?).map_err(de::Error::custom)
    }
}

/// Permission bits, written in octal (`0o500`); at most `0o777`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Permissions(pub u32);

impl fmt::Display for Permissions {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "0o{:03o}", self.0)
    }
}

impl Serialize for Permissions {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u32(self.0)
    }
}

impl<'de> Deserialize<'de> for Permissions {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let n = u64::deserialize(deserializer)?;
        match u32::try_from(n) {
            Ok(bits) if bits <= 0o777 => Ok(Permissions(bits)),
            _ => Err(de::Error::custom(format!(
                "permission bits are at most 0o777 (write them in octal, e.g. `0o500`); got {n} \
                 (0o{n:o})"
            ))),
        }
    }
}

/// The kind of file at a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileType {
    /// A socket file (what `bind` makes).
    Socket,
    /// A regular file.
    Regular,
    /// A directory.
    Directory,
    /// A symbolic link (not followed).
    Symlink,
    /// Anything else (a FIFO, a device).
    Other,
}

impl fmt::Display for FileType {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(match self {
            FileType::Socket => "socket",
            FileType::Regular => "regular",
            FileType::Directory => "directory",
            FileType::Symlink => "symlink",
            FileType::Other => "other",
        })
    }
}

/// Expected permission bits of a file: these, or `umask` (0o777 with the runner's umask cleared,
/// what a new socket file gets).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModeCheck {
    /// Exactly these bits.
    Bits(Permissions),
    /// `0o777 & !umask`.
    FromUmask,
}

impl Serialize for ModeCheck {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ModeCheck::Bits(bits) => bits.serialize(serializer),
            ModeCheck::FromUmask => serializer.serialize_str("umask"),
        }
    }
}

impl<'de> Deserialize<'de> for ModeCheck {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Text {
            Bits(u64),
            Word(String),
        }
        match Text::deserialize(deserializer)? {
            Text::Word(w) if w == "umask" => Ok(ModeCheck::FromUmask),
            Text::Word(w) => Err(de::Error::custom(format!(
                "`{w}` is not a mode: write permission bits in octal (`0o755`) or `umask` \
                 (0o777 without the umask's bits)"
            ))),
            Text::Bits(n) => {
                Permissions::deserialize(de::value::U64Deserializer::<D::Error>::new(n))
                    .map(ModeCheck::Bits)
            }
        }
    }
}

/// `expect: {file: {type, mode}}`: what `fs: {stat}` must find.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FileCheck {
    /// The file's type.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<FileType>,
    /// Its permission bits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<ModeCheck>,
}

/// What `fs: {stat}` found: the type and permission bits of the file (not following a symlink).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileStatus {
    /// The type.
    pub kind: FileType,
    /// The permission bits.
    pub mode: Permissions,
}

impl fmt::Display for FileStatus {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let noun = match self.kind {
            FileType::Socket => "socket file",
            FileType::Regular => "regular file",
            FileType::Directory => "directory",
            FileType::Symlink => "symbolic link",
            FileType::Other => "file of another type",
        };
        write!(f, "{noun}, mode {}", self.mode)
    }
}

/// One file-system step.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "FsFields", into = "FsFields")]
pub enum FsStep {
    /// `fs: {mkdir: PATH, mode}`: make a directory with exactly these bits (default 0o700).
    Mkdir(FsPath, Permissions),
    /// `fs: {create: PATH, mode}`: make an empty regular file (default 0o600).
    Create(FsPath, Permissions),
    /// `fs: {symlink: PATH, target: T}`: make a symbolic link to T (relative to its directory;
    /// T need not exist).
    Symlink(FsPath, FsPath),
    /// `fs: {chmod: PATH, mode}`: set a file's permission bits.
    Chmod(FsPath, Permissions),
    /// `fs: {unlink: PATH}`: `os.unlink` (a file, socket or link; not a directory).
    Unlink(FsPath),
    /// `fs: {stat: PATH}`: the file's type and bits (`os.lstat`), for `expect: {file: …}`.
    Stat(FsPath),
}

impl FsStep {
    /// The path the step acts on.
    pub fn path(&self) -> &FsPath {
        match self {
            FsStep::Mkdir(p, _)
            | FsStep::Create(p, _)
            | FsStep::Symlink(p, _)
            | FsStep::Chmod(p, _)
            | FsStep::Unlink(p)
            | FsStep::Stat(p) => p,
        }
    }
}

impl fmt::Display for FsStep {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            FsStep::Mkdir(p, m) => write!(f, "mkdir {p} (mode {m})"),
            FsStep::Create(p, m) => write!(f, "create {p} (mode {m})"),
            FsStep::Symlink(p, t) => write!(f, "symlink {p} -> {t}"),
            FsStep::Chmod(p, m) => write!(f, "chmod {p} to {m}"),
            FsStep::Unlink(p) => write!(f, "unlink {p}"),
            FsStep::Stat(p) => write!(f, "stat {p}"),
        }
    }
}

/// The keys of `fs:` as written.
#[derive(Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct FsFields {
    #[serde(skip_serializing_if = "Option::is_none")]
    mkdir: Option<FsPath>,
    #[serde(skip_serializing_if = "Option::is_none")]
    create: Option<FsPath>,
    #[serde(skip_serializing_if = "Option::is_none")]
    symlink: Option<FsPath>,
    #[serde(skip_serializing_if = "Option::is_none")]
    chmod: Option<FsPath>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unlink: Option<FsPath>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stat: Option<FsPath>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<FsPath>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mode: Option<Permissions>,
}

impl From<FsStep> for FsFields {
    fn from(step: FsStep) -> FsFields {
        let none = FsFields::default();
        match step {
            FsStep::Mkdir(p, mode) => FsFields {
                mkdir: Some(p),
                mode: Some(mode),
                ..none
            },
            FsStep::Create(p, mode) => FsFields {
                create: Some(p),
                mode: Some(mode),
                ..none
            },
            FsStep::Symlink(p, target) => FsFields {
                symlink: Some(p),
                target: Some(target),
                ..none
            },
            FsStep::Chmod(p, mode) => FsFields {
                chmod: Some(p),
                mode: Some(mode),
                ..none
            },
            FsStep::Unlink(p) => FsFields {
                unlink: Some(p),
                ..none
            },
            FsStep::Stat(p) => FsFields {
                stat: Some(p),
                ..none
            },
        }
    }
}

impl TryFrom<FsFields> for FsStep {
    type Error = String;

    fn try_from(f: FsFields) -> Result<FsStep, String> {
        let actions = [
            f.mkdir.is_some(),
            f.create.is_some(),
            f.symlink.is_some(),
            f.chmod.is_some(),
            f.unlink.is_some(),
            f.stat.is_some(),
        ];
        if actions.iter().filter(|a| **a).count() != 1 {
            return Err(
                "`fs` takes exactly one of `mkdir`, `create`, `symlink`, `chmod`, \
                        `unlink`, `stat` (with its path)"
                    .to_string(),
            );
        }
        if f.target.is_some() && f.symlink.is_none() {
            return Err("`target` applies only to `symlink`".to_string());
        }
        if f.mode.is_some() && f.mkdir.is_none() && f.create.is_none() && f.chmod.is_none() {
            return Err("`mode` applies only to `mkdir`, `create` and `chmod`".to_string());
        }
        Ok(if let Some(p) = f.mkdir {
            FsStep::Mkdir(p, f.mode.unwrap_or(Permissions(0o700)))
        } else if let Some(p) = f.create {
            FsStep::Create(p, f.mode.unwrap_or(Permissions(0o600)))
        } else if let Some(p) = f.symlink {
            let target = f
                .target
                .ok_or("`symlink` needs `target`: where the link points (it need not exist)")?;
            FsStep::Symlink(p, target)
        } else if let Some(p) = f.chmod {
            FsStep::Chmod(p, f.mode.ok_or("`chmod` needs `mode`, e.g. `0o500`")?)
        } else if let Some(p) = f.unlink {
            FsStep::Unlink(p)
        } else {
            FsStep::Stat(f.stat.expect("one action is given"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(yaml: &str) -> Result<FsStep, String> {
        crate::yaml::from_str::<FsStep>(yaml).map_err(|e| e.message)
    }

    #[test]
    fn steps_read_with_their_defaults() {
        assert_eq!(
            step("{mkdir: d}"),
            Ok(FsStep::Mkdir(FsPath("d".into()), Permissions(0o700)))
        );
        assert_eq!(
            step("{create: d/f, mode: 0o644}"),
            Ok(FsStep::Create(FsPath("d/f".into()), Permissions(0o644)))
        );
        assert_eq!(
            step("{symlink: l, target: nowhere}"),
            Ok(FsStep::Symlink(
                FsPath("l".into()),
                FsPath("nowhere".into())
            ))
        );
        assert_eq!(step("{stat: s}"), Ok(FsStep::Stat(FsPath("s".into()))));
    }

    #[test]
    fn paths_that_could_leave_the_directory_are_refused() {
        for bad in ["/etc", "..", "a/../..", "a//b", "./a", "a/", ""] {
            assert!(FsPath::parse(bad).is_err(), "{bad:?}");
        }
        assert!(step("{symlink: l, target: ../x}").is_err());
    }
}
