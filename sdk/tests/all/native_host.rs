//! The native host keeps a call's writes only if it succeeds: a contract error, a panic or a
//! query leaves state exactly as it was, including keys the call overwrote or removed.

use serde_json::json;
use vellum_sdk::{
    contract,
    testing::{Host, TestHost},
    Address, Error, Map, Result,
};

/// Keeps numbered cells, and can scribble over them and then fail.
pub struct Scratch;
const CELLS: Map<String, u64> = Map::new("cells");

#[contract]
impl Scratch {
    /// Set `key` to `value`.
    #[execute]
    pub fn set(key: String, value: u64) -> Result<()> {
        CELLS.save(&key, &value);
        Ok(())
    }

    /// Overwrite `a`, remove `b`, add `c`, then fail the way `how` says.
    #[execute]
    pub fn scribble_then_fail(how: String) -> Result<()> {
        CELLS.save(&"a".to_string(), &100);
        CELLS.remove(&"b".to_string());
        CELLS.save(&"c".to_string(), &300);
        CELLS.save(&"a".to_string(), &101);
        match how.as_str() {
            "panic" => panic!("scribbled and panicked"),
            _ => Err(Error::invalid("scribbled and failed")),
        }
    }
}

#[test]
fn failed_calls_leave_state_exactly_as_it_was() {
    let user = Address([1; 32]);
    let mut host = TestHost::<Scratch>::new();
    for (key, value) in [("a", 1), ("b", 2)] {
        assert!(host
            .execute(user, "set", json!({"key": key, "value": value}))
            .is_ok());
    }
    let before = host.state().clone();
    assert_eq!(before.len(), 2);
    for how in ["error", "panic"] {
        let reply = host.execute(user, "scribble_then_fail", json!({"how": how}));
        assert!(!reply.is_ok(), "{how}");
        assert!(reply.events.is_empty());
        assert_eq!(host.state(), &before, "{how} left writes behind");
    }
    // A successful call after the failures sees and keeps only its own write.
    assert!(host
        .execute(user, "set", json!({"key": "c", "value": 3}))
        .is_ok());
    assert_eq!(host.state().len(), 3);
}
