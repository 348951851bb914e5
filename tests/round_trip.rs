//! Scenarios written from the model read back as the same model: every bundled fixture, and the
//! scenarios the differential test writes for random sequences.

mod common;

use common::{content, root};
use proptest::prelude::*;
use sockspec::requirements::Requirements;
use sockspec::scenario::{load_all, parse, to_yaml, Scenario, ScenarioPath};

fn requirements() -> Requirements {
    Requirements::load(&root().join("spec")).expect("the spec loads")
}

fn reread(scenario: &Scenario, requirements: &Requirements) -> Scenario {
    let text = to_yaml(scenario, "written by the round-trip test").expect("it serialises");
    let found = ScenarioPath {
        path: scenario.path.clone(),
        id: scenario.id.clone(),
    };
    parse(&found, &text, requirements)
        .unwrap_or_else(|e| panic!("{} written as\n{text}\ndoes not load: {e:?}", scenario.id))
}

#[test]
fn every_fixture_written_from_its_model_reads_back_as_the_same_model() {
    let requirements = requirements();
    let (scenarios, errors) = load_all(&[root().join("fixtures")], &requirements);
    assert!(errors.is_empty(), "{errors:?}");
    let mut checked = 0;
    for scenario in scenarios.iter().filter(|s| s.parameters.is_none()) {
        let again = reread(scenario, &requirements);
        assert_eq!(content(&again), content(scenario), "{}", scenario.id);
        checked += 1;
    }
    assert!(checked > 150, "only {checked} fixtures were checked");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(common::proptest_cases(32)))]

    /// The differential test's counterexamples are scenarios the loader reads, and reading one
    /// back and writing it again gives the same text.
    #[test]
    fn a_differential_counterexample_reads_back_as_the_same_model(
        intentions in proptest::collection::vec(any::<(u8, u8, u16)>(), 1..24)
    ) {
        let intentions: Vec<_> = intentions
            .into_iter()
            .map(|(kind, socket, arg)| sockspec::differential::Intention { kind, socket, arg })
            .collect();
        let text = sockspec::differential::scenario_of(&intentions)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let requirements = requirements();
        let found = ScenarioPath { path: "counterexample.yaml".into(), id: "counterexample".into() };
        let scenario = parse(&found, &text, &requirements)
            .map_err(|e| TestCaseError::fail(format!("{text}\ndoes not load: {e:?}")))?;
        let again = reread(&scenario, &requirements);
        prop_assert_eq!(content(&again), content(&scenario));
    }
}
