//! Scenarios: the YAML format's model, its loader and its validation.
//!
//! `spec/scenario-format.md` is the normative description of the format.

mod address_expr;
mod call_step;
mod deadlock;
mod fs;
mod hosts;
mod limits;
mod load;
mod model;
pub(crate) mod payload;
mod read;
pub mod template;
mod validate;
mod write;

pub use address_expr::{AddressExpr, InvalidAddressExpr};
pub use call_step::{
    steps, Argument, CallStep, Captured, Names, Outcome, Parts, Resolve, SampleContext, Timeout,
};
pub use fs::{
    FileCheck, FileStatus, FileType, FsPath, FsStep, ModeCheck, OutsidePath, Permissions,
};
pub use hosts::{
    is_scenario_network_address, Host, Interface, MacAddress, Neighbour, Prefix, Rate, Route,
    RouteStep, RouteType, SysctlValue, Topology, MAX_HOSTS, SCENARIO_NETWORK_RANGES,
};
pub use limits::{Limits, DEFAULT_MAX_DATA, SCENARIO_DATA_PER_STEP_LIMIT};
pub use load::{
    discover, instantiate, load, load_all, load_all_with_limits, load_with_limits, parse,
    parse_with_limits, LoadError, ScenarioPath,
};
pub use model::{
    Actor, Count, CountRange, DurationText, Expect, ExpectFields, Location, Op, OptionValue,
    Parameters, Range, RecvExactArgs, RecvUntilEofArgs, Requires, Returns, Scenario,
    SetblockingArgs, Step, STEP_KEYS,
};
pub use payload::{hex, Payload, PayloadAllocError};
pub use write::to_yaml;

#[cfg(test)]
mod documented {
    /// spec/scenario-format.md §5 documents every step a scenario may make.
    #[test]
    fn section_5_names_every_step() {
        let format = include_str!("../../spec/scenario-format.md");
        let section = format
            .split("## 5. Operations")
            .nth(1)
            .and_then(|rest| rest.split("\n## 6").next())
            .expect("scenario-format.md has a section 5");
        for name in super::Op::names() {
            assert!(
                section.contains(&format!("`{name}:")) || section.contains(&format!("`{name}`")),
                "spec/scenario-format.md §5 never names the step `{name}`"
            );
        }
    }
}
