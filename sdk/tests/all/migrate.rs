//! `#[migrate]`: an upgraded contract converts the state its previous version left.

use serde_json::json;
use vellum_sdk::{
    contract,
    testing::{Host, TestHost},
    Address, Item, Result,
};

/// Version 1 stored a plain counter.
pub struct CounterV1;
const COUNT: Item<u64> = Item::new("count");

#[contract]
impl CounterV1 {
    /// Start at `start`.
    #[instantiate]
    pub fn instantiate(start: u64) -> Result<()> {
        COUNT.save(&start);
        Ok(())
    }
}

/// Version 2 keeps the counter with a label, migrating version 1's value.
pub struct CounterV2;
const LABELLED: Item<(String, u64)> = Item::new("labelled");

#[contract]
impl CounterV2 {
    /// Move the old count under `label`.
    #[migrate]
    pub fn migrate(label: String) -> Result<u64> {
        let count = COUNT.get()?;
        COUNT.remove();
        LABELLED.save(&(label, count));
        Ok(count)
    }

    /// The labelled count.
    #[query]
    pub fn labelled() -> Result<(String, u64)> {
        LABELLED.get()
    }
}

#[test]
fn migrate_runs_against_the_previous_versions_state() {
    let admin = Address([1; 32]);
    let mut v1 = TestHost::<CounterV1>::new();
    assert!(v1.instantiate(admin, json!({"start": 41})).is_ok());
    let mut v2 = TestHost::<CounterV2>::new();
    // An upgrade keeps state: hand version 1's state to version 2.
    for (key, value) in v1.state() {
        v2.seed(key.clone(), value.clone());
    }
    assert_eq!(
        v2.migrate(admin, json!({"label": "visits"})).json(),
        json!(41)
    );
    assert_eq!(
        v2.query("labelled", json!({})).json(),
        json!(["visits", 41])
    );
    assert_eq!(v2.state().len(), 1, "the old key was removed");
    assert!(<CounterV2 as vellum_sdk::Contract>::INTERFACE.contains("\"kind\":\"migrate\""));
}
