//! Scenarios: the YAML format's model, its loader and its validation.
//!
//! `spec/scenario-format.md` is the normative description of the format.

mod address_expr;
mod deadlock;
mod fs;
mod limits;
mod load;
mod model;
mod payload;
mod read;
pub mod template;
mod validate;
mod write;

pub use address_expr::{AddressExpr, InvalidAddressExpr};
pub use fs::{
    FileCheck, FileStatus, FileType, FsPath, FsStep, ModeCheck, OutsidePath, Permissions,
};
pub use limits::{Limits, DEFAULT_MAX_DATA, SCENARIO_DATA_PER_STEP_LIMIT};
pub use load::{
    discover, instantiate, load, load_all, load_all_with_limits, load_with_limits, parse,
    parse_with_limits, LoadError, ScenarioPath,
};
pub use model::{
    AcceptArgs, Actor, AddressArgs, Count, CountRange, Expect, ExpectFields, GetsockoptArgs,
    ListenArgs, Location, NameArgs, Op, OptionValue, Parameters, Range, RecvArgs, RecvExactArgs,
    RecvUntilEofArgs, RecvfromArgs, Requires, Returns, Scenario, SendArgs, SendtoArgs,
    SetblockingArgs, SetsockoptArgs, SettimeoutArgs, ShutdownArgs, SocketArgs, SocketRef,
    SocketpairArgs, Step, STEP_KEYS,
};
pub use payload::{hex, Payload, PayloadAllocError};
pub use write::to_yaml;
