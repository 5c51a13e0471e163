//! Escrow of points, holding another contract's asset through cross-contract calls.
//!
//! A buyer opens a deal: the escrow takes the points from the buyer's balance in the `points`
//! contract (the buyer first lets it, with `points.approve`) and holds them in its own name. Then
//! exactly one of two things happens:
//! - the buyer releases them to the seller (the goods arrived);
//! - the seller refunds them to the buyer (the deal is off), or, once the deal's deadline has
//!   passed, the buyer takes them back.
//!
//! Nobody else can move escrowed points: the escrow moves its own balance at `points`, and only
//! on these rules. Each step is one transaction: if the points transfer fails, the deal does not
//! change.
#![no_std]

extern crate alloc;

use alloc::string::String;
use serde::{Deserialize, Serialize};
use serde_json::json;
use vellum_sdk::{
    call, contract, ensure, env, Address, ContractError, Error, Event, Item, Map, Result,
};

/// The contract type.
pub struct Escrow;

/// Where a deal stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DealState {
    /// The escrow holds the points.
    Open,
    /// The seller has them.
    Released,
    /// The buyer has them back.
    Refunded,
}

/// One escrowed amount.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deal {
    /// Its number, from 0.
    pub id: u64,
    /// Who paid.
    pub buyer: Address,
    /// Who is to be paid.
    pub seller: Address,
    /// Whose points.
    pub issuer: String,
    /// How many.
    pub amount: u128,
    /// Block time (ms) after which the buyer may take the points back.
    pub deadline_ms: u64,
    /// Where it stands.
    pub state: DealState,
}

/// The contract's errors, each with its stable code. (A failed call into `points` comes back
/// as `points`' own error.)
#[derive(Debug, ContractError)]
pub enum EscrowError {
    /// No deal has this number.
    #[error(100, "no deal {0}")]
    NoDeal(u64),
    /// The deal was released or refunded already.
    #[error(101, "deal {id} is already {state:?}")]
    DealClosed {
        /// The deal.
        id: u64,
        /// How it closed.
        state: DealState,
    },
    /// A deal with oneself.
    #[error(102, "the seller cannot be the buyer")]
    SellerIsBuyer,
    /// A deal of nothing.
    #[error(103, "amount must be positive")]
    ZeroAmount,
    /// `release` by anyone but the buyer.
    #[error(104, "only the buyer releases a deal")]
    NotTheBuyer,
    /// `refund` by the buyer before the deadline.
    #[error(105, "the buyer may take the points back only after the deadline")]
    BeforeDeadline,
    /// `refund` by anyone but the seller or the buyer.
    #[error(
        106,
        "only the seller, or the buyer after the deadline, refunds a deal"
    )]
    MayNotRefund,
}

/// A deal was opened: its record.
#[derive(Serialize, Event)]
pub struct Opened<'a>(pub &'a Deal);

/// A deal's points went to its seller: `[id, seller, amount]`.
#[derive(Serialize, Event)]
pub struct Released(pub u64, pub Address, pub u128);

/// A deal's points went back to its buyer: `[id, buyer, amount]`.
#[derive(Serialize, Event)]
pub struct Refunded(pub u64, pub Address, pub u128);

const POINTS: Item<Address> = Item::new("points");
const DEALS: Map<u64, Deal> = Map::new("deals");
const NEXT_ID: Item<u64> = Item::new("next_id");

fn points() -> Result<Address> {
    POINTS
        .load()?
        .ok_or_else(|| Error::new(Error::CORRUPT_STATE, "the escrow was never instantiated"))
}

fn open_deal(id: u64) -> Result<Deal> {
    let deal = DEALS.load(&id)?.ok_or(EscrowError::NoDeal(id))?;
    ensure!(
        deal.state == DealState::Open,
        EscrowError::DealClosed {
            id,
            state: deal.state
        }
    );
    Ok(deal)
}

/// Pay the deal's points from the escrow to `to`, and close it as `state`.
fn settle(mut deal: Deal, to: Address, state: DealState) -> Result<Deal> {
    call::execute::<()>(
        points()?,
        "transfer",
        &json!({"issuer": deal.issuer, "to": to, "amount": deal.amount}),
    )?;
    deal.state = state;
    DEALS.save(&deal.id, &deal);
    match state {
        DealState::Released => Released(deal.id, to, deal.amount).emit(),
        _ => Refunded(deal.id, to, deal.amount).emit(),
    }
    Ok(deal)
}

#[contract]
impl Escrow {
    /// Escrow points of the `points` contract at that address.
    #[instantiate]
    pub fn instantiate(points: Address) -> Result<()> {
        POINTS.save(&points);
        Ok(())
    }

    /// Lock `amount` of the caller's `issuer` points for `seller` until released or refunded; the
    /// caller may take them back after `expires_in_ms`. The caller must first have approved this
    /// contract at `points` for at least `amount`. Returns the deal's number.
    #[execute]
    pub fn open(seller: Address, issuer: String, amount: u128, expires_in_ms: u64) -> Result<u64> {
        let buyer = env::caller();
        ensure!(buyer != seller, EscrowError::SellerIsBuyer);
        ensure!(amount > 0, EscrowError::ZeroAmount);
        call::execute::<()>(
            points()?,
            "transfer_from",
            &json!({"issuer": issuer, "from": buyer, "to": env::contract_address(), "amount": amount}),
        )?;
        let id = NEXT_ID.load()?.unwrap_or(0);
        let deal = Deal {
            id,
            buyer,
            seller,
            issuer,
            amount,
            deadline_ms: env::block_time_ms().saturating_add(expires_in_ms),
            state: DealState::Open,
        };
        DEALS.save(&id, &deal);
        NEXT_ID.save(&(id + 1));
        Opened(&deal).emit();
        Ok(id)
    }

    /// Pay deal `id`'s points to its seller (its buyer only).
    #[execute]
    pub fn release(id: u64) -> Result<Deal> {
        let deal = open_deal(id)?;
        ensure!(env::caller() == deal.buyer, EscrowError::NotTheBuyer);
        let seller = deal.seller;
        settle(deal, seller, DealState::Released)
    }

    /// Give deal `id`'s points back to its buyer: the seller may at any time, the buyer once the
    /// deadline has passed.
    #[execute]
    pub fn refund(id: u64) -> Result<Deal> {
        let deal = open_deal(id)?;
        let caller = env::caller();
        let expired = env::block_time_ms() > deal.deadline_ms;
        ensure!(
            caller == deal.seller || (caller == deal.buyer && expired),
            match caller == deal.buyer {
                true => EscrowError::BeforeDeadline,
                false => EscrowError::MayNotRefund,
            }
        );
        let buyer = deal.buyer;
        settle(deal, buyer, DealState::Refunded)
    }

    /// Deal `id`.
    #[query]
    pub fn deal(id: u64) -> Result<Deal> {
        Ok(DEALS.load(&id)?.ok_or(EscrowError::NoDeal(id))?)
    }
}
