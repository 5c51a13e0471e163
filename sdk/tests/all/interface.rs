//! The interface `#[contract]` records: `#[query(members)]` marks a query nodes answer only to
//! callers proving a member's key, and only that query.

use vellum_sdk::{contract, Address, Result};

/// A ledger of who holds what.
pub struct Holdings;

#[contract]
impl Holdings {
    /// Nothing to set up.
    #[instantiate]
    pub fn instantiate() -> Result<()> {
        Ok(())
    }

    /// What the caller holds: members only.
    #[query(members)]
    pub fn mine() -> Result<u64> {
        Ok(0)
    }

    /// What anyone holds: public.
    #[query]
    pub fn of(holder: Address) -> Result<Address> {
        Ok(holder)
    }
}

#[test]
fn a_members_only_query_is_marked_in_the_interface_and_no_other_method_is() {
    let interface: serde_json::Value =
        serde_json::from_str(<Holdings as vellum_sdk::Contract>::INTERFACE).expect("JSON");
    let methods = interface["methods"].as_array().expect("methods");
    let access = |name: &str| {
        methods
            .iter()
            .find(|m| m["name"] == name)
            .map(|m| m["access"].clone())
            .expect("the method")
    };
    assert_eq!(access("mine"), "members");
    assert_eq!(access("of"), serde_json::Value::Null);
    assert_eq!(access("instantiate"), serde_json::Value::Null);
}
