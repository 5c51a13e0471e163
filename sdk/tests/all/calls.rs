//! Contracts calling contracts on the native host, with the runtime's rules: the callee sees the
//! calling contract as its caller, its writes and events join the caller's only if it succeeds,
//! the caller handles a failure or passes it on (undoing everything), re-entry is refused unless
//! the contract opts in, calls nest at most 8 deep, and a panic reads as it does in wasm.

use serde_json::{json, Value};
use vellum_sdk::{
    call::{self, CallError},
    contract, env,
    testing::{Failure, Host, Mode, TestHost, CONTRACT_ADDRESS},
    Address, Error, Map, Result,
};

const BANK: Address = Address([0xba; 32]);
const ECHO: Address = Address([0xec; 32]);

/// Balances, by holder; a transfer moves the caller's.
pub struct Bank;
const BALANCES: Map<Address, u64> = Map::new("balances");

#[contract]
impl Bank {
    /// Give `to` `amount`.
    #[execute]
    pub fn mint(to: Address, amount: u64) -> Result<()> {
        let balance = BALANCES.load(&to)?.unwrap_or(0);
        BALANCES.save(&to, &(balance + amount));
        Ok(())
    }

    /// Move `amount` from the caller to `to`.
    #[execute]
    pub fn transfer(to: Address, amount: u64) -> Result<u64> {
        let from = env::caller();
        let balance = BALANCES.load(&from)?.unwrap_or(0);
        if balance < amount {
            return Err(Error::invalid("insufficient balance"));
        }
        BALANCES.save(&from, &(balance - amount));
        let credit = BALANCES.load(&to)?.unwrap_or(0);
        BALANCES.save(&to, &(credit + amount));
        env::emit("transferred", &(from, to, amount));
        Ok(balance - amount)
    }

    /// The balance of `of`.
    #[query]
    pub fn balance(of: Address) -> Result<u64> {
        Ok(BALANCES.load(&of)?.unwrap_or(0))
    }

    /// Panic.
    #[execute]
    pub fn explode() -> Result<()> {
        panic!("boom")
    }
}

/// Pays from its own balance at the bank.
pub struct Shop;
const SOLD: Map<String, u64> = Map::new("sold");

#[contract]
impl Shop {
    /// Pay `to` `amount`; record the sale first, and keep it even if the payment fails.
    #[execute]
    pub fn try_pay(to: Address, amount: u64) -> Result<String> {
        SOLD.save(
            &"attempts".into(),
            &(SOLD.load(&"attempts".into())?.unwrap_or(0) + 1),
        );
        env::emit("paying", &amount);
        Ok(
            match call::execute::<u64>(BANK, "transfer", &json!({"to": to, "amount": amount})) {
                Ok(left) => format!("paid; {left} left"),
                Err(error) => format!("not paid: {error}"),
            },
        )
    }

    /// Pay `to` `amount`, or fail altogether.
    #[execute]
    pub fn pay(to: Address, amount: u64) -> Result<u64> {
        SOLD.save(&"attempts".into(), &1);
        Ok(call::execute(
            BANK,
            "transfer",
            &json!({"to": to, "amount": amount}),
        )?)
    }

    /// Pay `to` `amount`, then fail.
    #[execute]
    pub fn pay_then_fail(to: Address, amount: u64) -> Result<()> {
        call::execute::<u64>(BANK, "transfer", &json!({"to": to, "amount": amount}))?;
        Err(Error::conflict("changed its mind"))
    }

    /// Its own balance, asked of the bank.
    #[query]
    pub fn funds() -> Result<u64> {
        Ok(call::query(
            BANK,
            "balance",
            &json!({"of": env::contract_address()}),
        )?)
    }

    /// Call the bank's `explode`.
    #[execute]
    pub fn explode() -> Result<()> {
        Ok(call::execute(BANK, "explode", &json!({}))?)
    }

    /// Call itself through the echo contract, which calls back `funds`.
    #[execute]
    pub fn loop_back() -> Result<String> {
        let answer = call::execute::<Value>(
            ECHO,
            "forward",
            &json!({"to": env::contract_address(), "method": "funds"}),
        );
        Ok(format!("{answer:?}"))
    }
}

/// Calls `method` of `to` (a query), and returns what it said.
pub struct Echo;

#[contract(reentrant)]
impl Echo {
    /// Query `method` of `to` with no arguments.
    #[execute]
    pub fn forward(to: Address, method: String) -> Result<Value> {
        Ok(call::query(to, &method, &json!({}))?)
    }

    /// Call itself `depth` more times, then answer how deep it went.
    #[execute]
    pub fn dive(depth: u32) -> Result<u32> {
        if depth == 0 {
            return Ok(0);
        }
        match call::execute::<u32>(
            env::contract_address(),
            "dive",
            &json!({"depth": depth - 1}),
        ) {
            Ok(below) => Ok(below + 1),
            Err(CallError::DepthExceeded) => Ok(0),
            Err(error) => Err(error.into()),
        }
    }
}

fn host() -> TestHost<Shop> {
    let mut host = TestHost::<Shop>::new();
    host.deploy::<Bank>(BANK);
    host.deploy::<Echo>(ECHO);
    let minted = host.call_at(
        BANK,
        Address([1; 32]),
        "execute.mint",
        json!({"to": CONTRACT_ADDRESS, "amount": 10})
            .to_string()
            .as_bytes(),
        Mode::Transaction,
    );
    assert!(minted.is_ok(), "{minted:?}");
    host
}

fn balance(host: &mut TestHost<Shop>, of: Address) -> u64 {
    host.call_at(
        BANK,
        Address::default(),
        "query.balance",
        json!({"of": of}).to_string().as_bytes(),
        Mode::Query,
    )
    .value()
}

#[test]
fn a_callee_acts_for_the_calling_contract_and_its_effects_join_the_callers() {
    let mut host = host();
    let buyer = Address([2; 32]);
    let paid = host.execute(buyer, "try_pay", json!({"to": buyer, "amount": 4}));
    assert_eq!(paid.json(), json!("paid; 6 left"));
    // The shop paid from its own balance: the bank saw the shop as its caller.
    assert_eq!(balance(&mut host, buyer), 4);
    assert_eq!(balance(&mut host, CONTRACT_ADDRESS), 6);
    let events: Vec<(Address, &str)> = paid
        .events
        .iter()
        .map(|e| (e.contract, e.topic.as_str()))
        .collect();
    assert_eq!(
        events,
        [(CONTRACT_ADDRESS, "paying"), (BANK, "transferred")]
    );
    // A query calls through.
    assert_eq!(host.query("funds", json!({})).json(), json!(6));
}

#[test]
fn a_failed_callee_leaves_nothing_and_the_caller_chooses() {
    let mut host = host();
    let buyer = Address([2; 32]);
    // Handled: the shop's own write stays, the bank is untouched.
    let tried = host.execute(buyer, "try_pay", json!({"to": buyer, "amount": 40}));
    assert_eq!(
        tried.json(),
        json!("not paid: the called contract failed: error 4: insufficient balance")
    );
    assert!(tried.events.iter().all(|e| e.contract == CONTRACT_ADDRESS));
    assert!(!host.state().is_empty());
    // Passed on: the bank's error is the shop's, and nothing of the call stays.
    let before = (host.state().clone(), host.state_at(&BANK).clone());
    let paid = host.execute(buyer, "pay", json!({"to": buyer, "amount": 40}));
    assert_eq!(paid.error(), &Error::invalid("insufficient balance"));
    assert_eq!((host.state().clone(), host.state_at(&BANK).clone()), before);
    // A callee's success inside a call that fails afterwards is undone with it.
    let before = (host.state().clone(), host.state_at(&BANK).clone());
    let changed = host.execute(buyer, "pay_then_fail", json!({"to": buyer, "amount": 4}));
    assert_eq!(changed.error().code, Error::CONFLICT);
    assert_eq!((host.state().clone(), host.state_at(&BANK).clone()), before);
    assert_eq!(balance(&mut host, buyer), 0);
    // A panic in the callee reads as it does in wasm.
    let exploded = host.execute(buyer, "explode", json!({}));
    assert_eq!(exploded.error(), &Error::new(Error::PANIC, "panic: boom"));
}

#[test]
fn re_entry_is_refused_unless_opted_in_and_depth_is_bounded() {
    let mut host = host();
    // Shop -> Echo -> Shop: the shop did not opt in.
    let looped = host.execute(Address([2; 32]), "loop_back", json!({}));
    assert_eq!(
        looped.json(),
        json!("Err(Contract(Error { code: 9, message: \"the called contract does not accept re-entry\" }))")
    );
    // Echo opted in: it calls itself until the depth limit.
    let dived = host.call_at(
        ECHO,
        Address([2; 32]),
        "execute.dive",
        json!({"depth": 20}).to_string().as_bytes(),
        Mode::Transaction,
    );
    assert_eq!(dived.value::<u32>(), 8);
    // A callee without the entry point traps, and that failure passed on is the caller's.
    let refused = host.call_at(
        ECHO,
        Address([2; 32]),
        "execute.forward",
        json!({"to": BANK, "method": "explode"})
            .to_string()
            .as_bytes(),
        Mode::Transaction,
    );
    assert!(
        matches!(&refused.result, Err(Failure::Contract(e)) if e.message.contains("has no entry point `query.explode`")),
        "{refused:?}"
    );
}
