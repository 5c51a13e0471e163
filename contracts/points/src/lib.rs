//! Loyalty points across issuers (the UnionPay pattern on Fabric).
//!
//! An operator registers issuers (an airline, a bank, a retailer), each with its own admin. An
//! issuer mints points to its members; members transfer them and redeem (burn) them. Two issuers
//! can agree a conversion rate: each side's admin calls `agree_rate` with identical terms, and once
//! both have, any member may `swap` points of one issuer into the other at that rate, both legs in
//! one atomic call. Every movement is appended to the member's history, which pages newest first.
#![no_std]

extern crate alloc;

use alloc::{string::String, vec::Vec};
use serde::{Deserialize, Serialize};
use vellum_sdk::{
    contract, ensure, env, env::Order, Address, ContractError, Event, Item, Map, Result,
};

/// The contract type.
pub struct Points;

/// An issuer of points.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issuer {
    /// Short identifier, e.g. `"air"`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The account that mints and agrees rates for this issuer.
    pub admin: Address,
    /// Points in circulation.
    pub supply: u128,
}

/// A conversion rate from one issuer's points to another's: `to = from * numerator / denominator`
/// (rounded down).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rate {
    /// Multiplier.
    pub numerator: u64,
    /// Divisor.
    pub denominator: u64,
    /// The `from` issuer's admin agreed to these terms.
    pub agreed_by_from: bool,
    /// The `to` issuer's admin agreed to these terms.
    pub agreed_by_to: bool,
}

impl Rate {
    /// Whether both issuers agreed.
    pub fn active(&self) -> bool {
        self.agreed_by_from && self.agreed_by_to
    }
}

/// One line of a member's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Movement {
    /// `minted`, `sent`, `received`, `redeemed`, `swapped_out` or `swapped_in`.
    pub kind: String,
    /// The issuer whose points moved.
    pub issuer: String,
    /// How many.
    pub amount: u128,
    /// The other party, if any.
    pub counterparty: Option<Address>,
    /// Block height.
    pub height: u64,
    /// Block time (ms).
    pub time_ms: u64,
}

/// The contract's errors, each with its stable code.
#[derive(Debug, ContractError)]
pub enum PointsError {
    /// Registering issuers is the operator's.
    #[error(100, "only the operator registers issuers")]
    NotOperator,
    /// Only an issuer's admin mints its points.
    #[error(101, "only the admin of `{0}` may do this")]
    NotIssuerAdmin(String),
    /// No issuer has this id.
    #[error(102, "no issuer `{0}`")]
    NoIssuer(String),
    /// An issuer id is empty or too long.
    #[error(103, "issuer id must be 1 to 32 bytes")]
    BadIssuerId,
    /// An issuer with this id exists already.
    #[error(104, "issuer `{0}` already exists")]
    IssuerExists(String),
    /// An amount of 0.
    #[error(105, "amount must be positive")]
    ZeroAmount,
    /// A transfer to the sender.
    #[error(106, "cannot transfer to yourself")]
    TransferToSelf,
    /// More than the balance holds.
    #[error(107, "insufficient `{issuer}` balance: {balance} < {amount}")]
    InsufficientBalance {
        /// Whose points.
        issuer: String,
        /// What the balance holds.
        balance: u128,
        /// What was asked for.
        amount: u128,
    },
    /// An issuer's supply would pass 2^128 - 1.
    #[error(108, "supply would overflow")]
    SupplyOverflow,
    /// An allowance to oneself.
    #[error(109, "cannot approve yourself")]
    ApproveSelf,
    /// A `transfer_from` beyond the allowance.
    #[error(
        110,
        "{from} allows {spender} {allowed} `{issuer}` points, fewer than {amount}"
    )]
    AllowanceExceeded {
        /// Whose points.
        from: Address,
        /// Who spends them.
        spender: Address,
        /// What the allowance holds.
        allowed: u128,
        /// Whose points.
        issuer: String,
        /// What was asked for.
        amount: u128,
    },
    /// A rate from an issuer to itself.
    #[error(111, "a rate needs two different issuers")]
    SameIssuer,
    /// A rate with a zero term.
    #[error(112, "numerator and denominator must be positive")]
    ZeroRate,
    /// A rate agreed by someone who is neither issuer's admin.
    #[error(113, "only the admin of one of the two issuers may agree a rate")]
    NotRateParty,
    /// A swap without a rate both issuers agreed.
    #[error(114, "no rate agreed by both `{0}` and `{1}`")]
    NoRate(String, String),
    /// A swap too large to convert.
    #[error(115, "amount too large to convert")]
    ConversionOverflow,
    /// A swap that would give nothing.
    #[error(116, "amount converts to zero points")]
    ConvertsToZero,
}

/// Points moved: `[issuer, from, to, amount]`.
#[derive(Serialize, Event)]
pub struct Transferred<'a>(pub &'a str, pub Address, pub Address, pub u128);

/// An issuer was registered: its record.
#[derive(Serialize, Event)]
pub struct IssuerRegistered<'a>(pub &'a Issuer);

/// Points were minted: `[issuer, to, amount]`.
#[derive(Serialize, Event)]
pub struct Minted<'a>(pub &'a str, pub Address, pub u128);

/// An allowance was set: `[issuer, owner, spender, amount]`.
#[derive(Serialize, Event)]
pub struct Approved<'a>(pub &'a str, pub Address, pub Address, pub u128);

/// Points were redeemed: `[issuer, member, amount]`.
#[derive(Serialize, Event)]
pub struct Redeemed<'a>(pub &'a str, pub Address, pub u128);

/// An issuer's admin agreed a rate: `[from, to, rate]`.
#[derive(Serialize, Event)]
pub struct RateAgreed<'a>(pub &'a str, pub &'a str, pub &'a Rate);

/// A member swapped: `[member, from, amount, to, received]`.
#[derive(Serialize, Event)]
pub struct Swapped<'a>(pub Address, pub &'a str, pub u128, pub &'a str, pub u128);

const OPERATOR: Item<Address> = Item::new("operator");
const ISSUERS: Map<String, Issuer> = Map::new("issuers");
const BALANCES: Map<(String, Address), u128> = Map::new("balances");
const RATES: Map<(String, String), Rate> = Map::new("rates");
const HISTORY: Map<(Address, u64), Movement> = Map::new("history");
const HISTORY_LENGTH: Map<Address, u64> = Map::new("history_length");
/// (issuer, owner, spender) -> points the spender may still move with `transfer_from`.
const ALLOWANCES: Map<(String, Address, Address), u128> = Map::new("allowances");

/// Largest page of a history query.
pub const PAGE_MAX: u32 = 100;

fn load_issuer(id: &str) -> Result<Issuer> {
    Ok(ISSUERS
        .load(&String::from(id))?
        .ok_or_else(|| PointsError::NoIssuer(String::from(id)))?)
}

fn balance_of(issuer: &str, member: Address) -> Result<u128> {
    Ok(BALANCES.load(&(String::from(issuer), member))?.unwrap_or(0))
}

fn set_balance(issuer: &str, member: Address, amount: u128) {
    let key = (String::from(issuer), member);
    match amount {
        0 => BALANCES.remove(&key),
        _ => BALANCES.save(&key, &amount),
    }
}

fn record(
    member: Address,
    kind: &str,
    issuer: &str,
    amount: u128,
    counterparty: Option<Address>,
) -> Result<()> {
    let seq = HISTORY_LENGTH.load(&member)?.unwrap_or(0);
    let movement = Movement {
        kind: String::from(kind),
        issuer: String::from(issuer),
        amount,
        counterparty,
        height: env::block_height(),
        time_ms: env::block_time_ms(),
    };
    HISTORY.save(&(member, seq), &movement);
    HISTORY_LENGTH.save(&member, &(seq + 1));
    Ok(())
}

fn ensure_admin(issuer: &Issuer) -> Result<()> {
    ensure!(
        env::caller() == issuer.admin,
        PointsError::NotIssuerAdmin(issuer.id.clone())
    );
    Ok(())
}

fn ensure_positive(amount: u128) -> Result<()> {
    ensure!(amount > 0, PointsError::ZeroAmount);
    Ok(())
}

/// Move `amount` of `from`'s `issuer` points to `to`, recording both sides.
fn move_points(issuer: String, from: Address, to: Address, amount: u128) -> Result<()> {
    ensure_positive(amount)?;
    load_issuer(&issuer)?;
    ensure!(from != to, PointsError::TransferToSelf);
    let balance = balance_of(&issuer, from)?;
    ensure!(
        balance >= amount,
        PointsError::InsufficientBalance {
            issuer,
            balance,
            amount
        }
    );
    set_balance(&issuer, from, balance - amount);
    set_balance(&issuer, to, balance_of(&issuer, to)? + amount);
    record(from, "sent", &issuer, amount, Some(to))?;
    record(to, "received", &issuer, amount, Some(from))?;
    Transferred(&issuer, from, to, amount).emit();
    Ok(())
}

#[contract]
impl Points {
    /// The deployer becomes the operator, who registers issuers.
    #[instantiate]
    pub fn instantiate() -> Result<()> {
        OPERATOR.save(&env::caller());
        Ok(())
    }

    /// Register issuer `id` with its admin account (operator only).
    #[execute]
    pub fn register_issuer(id: String, name: String, admin: Address) -> Result<()> {
        ensure!(env::caller() == OPERATOR.get()?, PointsError::NotOperator);
        ensure!(!id.is_empty() && id.len() <= 32, PointsError::BadIssuerId);
        ensure!(!ISSUERS.has(&id), PointsError::IssuerExists(id));
        let issuer = Issuer {
            id: id.clone(),
            name,
            admin,
            supply: 0,
        };
        ISSUERS.save(&id, &issuer);
        IssuerRegistered(&issuer).emit();
        Ok(())
    }

    /// Mint `amount` points of `issuer` to `to` (the issuer's admin only).
    #[execute]
    pub fn mint(issuer: String, to: Address, amount: u128) -> Result<u128> {
        ensure_positive(amount)?;
        let mut record_issuer = load_issuer(&issuer)?;
        ensure_admin(&record_issuer)?;
        record_issuer.supply = record_issuer
            .supply
            .checked_add(amount)
            .ok_or(PointsError::SupplyOverflow)?;
        let balance = balance_of(&issuer, to)? + amount;
        set_balance(&issuer, to, balance);
        ISSUERS.save(&issuer, &record_issuer);
        record(to, "minted", &issuer, amount, None)?;
        Minted(&issuer, to, amount).emit();
        Ok(balance)
    }

    /// Send `amount` of the caller's `issuer` points to `to`.
    #[execute]
    pub fn transfer(issuer: String, to: Address, amount: u128) -> Result<()> {
        move_points(issuer, env::caller(), to, amount)
    }

    /// Let `spender` (an account, or a contract such as an escrow) move up to `amount` of the
    /// caller's `issuer` points with `transfer_from`, replacing any earlier allowance (0 revokes
    /// it).
    #[execute]
    pub fn approve(issuer: String, spender: Address, amount: u128) -> Result<()> {
        load_issuer(&issuer)?;
        let owner = env::caller();
        ensure!(owner != spender, PointsError::ApproveSelf);
        let key = (issuer.clone(), owner, spender);
        match amount {
            0 => ALLOWANCES.remove(&key),
            _ => ALLOWANCES.save(&key, &amount),
        }
        Approved(&issuer, owner, spender, amount).emit();
        Ok(())
    }

    /// Move `amount` of `from`'s `issuer` points to `to`, spending the allowance `from` gave the
    /// caller.
    #[execute]
    pub fn transfer_from(issuer: String, from: Address, to: Address, amount: u128) -> Result<()> {
        let spender = env::caller();
        let key = (issuer.clone(), from, spender);
        let allowed = ALLOWANCES.load(&key)?.unwrap_or(0);
        ensure!(
            allowed >= amount,
            PointsError::AllowanceExceeded {
                from,
                spender,
                allowed,
                issuer,
                amount
            }
        );
        move_points(issuer, from, to, amount)?;
        match allowed - amount {
            0 => ALLOWANCES.remove(&key),
            left => ALLOWANCES.save(&key, &left),
        }
        Ok(())
    }

    /// Burn `amount` of the caller's `issuer` points (redeemed for goods off chain).
    #[execute]
    pub fn redeem(issuer: String, amount: u128) -> Result<()> {
        ensure_positive(amount)?;
        let mut record_issuer = load_issuer(&issuer)?;
        let member = env::caller();
        let balance = balance_of(&issuer, member)?;
        ensure!(
            balance >= amount,
            PointsError::InsufficientBalance {
                issuer,
                balance,
                amount
            }
        );
        set_balance(&issuer, member, balance - amount);
        record_issuer.supply -= amount;
        ISSUERS.save(&issuer, &record_issuer);
        record(member, "redeemed", &issuer, amount, None)?;
        Redeemed(&issuer, member, amount).emit();
        Ok(())
    }

    /// Agree the rate `from -> to` as `numerator / denominator`. Each issuer's admin calls this with
    /// the same terms; the rate is active once both have. Changed terms restart the agreement.
    #[execute]
    pub fn agree_rate(from: String, to: String, numerator: u64, denominator: u64) -> Result<Rate> {
        ensure!(from != to, PointsError::SameIssuer);
        ensure!(numerator > 0 && denominator > 0, PointsError::ZeroRate);
        let (from_issuer, to_issuer) = (load_issuer(&from)?, load_issuer(&to)?);
        let caller = env::caller();
        let (is_from, is_to) = (caller == from_issuer.admin, caller == to_issuer.admin);
        ensure!(is_from || is_to, PointsError::NotRateParty);
        let key = (from.clone(), to.clone());
        let mut rate = match RATES.load(&key)? {
            Some(rate) if rate.numerator == numerator && rate.denominator == denominator => rate,
            _ => Rate {
                numerator,
                denominator,
                agreed_by_from: false,
                agreed_by_to: false,
            },
        };
        rate.agreed_by_from |= is_from;
        rate.agreed_by_to |= is_to;
        RATES.save(&key, &rate);
        RateAgreed(&from, &to, &rate).emit();
        Ok(rate)
    }

    /// Convert `amount` of the caller's `from` points into `to` points at the agreed rate: both
    /// legs happen in this call or neither does. Returns the points received.
    #[execute]
    pub fn swap(from: String, to: String, amount: u128) -> Result<u128> {
        ensure_positive(amount)?;
        let rate = RATES
            .load(&(from.clone(), to.clone()))?
            .filter(Rate::active)
            .ok_or_else(|| PointsError::NoRate(from.clone(), to.clone()))?;
        let (mut from_issuer, mut to_issuer) = (load_issuer(&from)?, load_issuer(&to)?);
        let member = env::caller();
        let balance = balance_of(&from, member)?;
        ensure!(
            balance >= amount,
            PointsError::InsufficientBalance {
                issuer: from,
                balance,
                amount
            }
        );
        let received = amount
            .checked_mul(u128::from(rate.numerator))
            .map(|x| x / u128::from(rate.denominator))
            .ok_or(PointsError::ConversionOverflow)?;
        ensure!(received > 0, PointsError::ConvertsToZero);
        set_balance(&from, member, balance - amount);
        from_issuer.supply -= amount;
        to_issuer.supply = to_issuer
            .supply
            .checked_add(received)
            .ok_or(PointsError::SupplyOverflow)?;
        set_balance(&to, member, balance_of(&to, member)? + received);
        ISSUERS.save(&from, &from_issuer);
        ISSUERS.save(&to, &to_issuer);
        record(member, "swapped_out", &from, amount, None)?;
        record(member, "swapped_in", &to, received, None)?;
        Swapped(member, &from, amount, &to, received).emit();
        Ok(received)
    }

    /// The `issuer` balance of `member`.
    #[query]
    pub fn balance(issuer: String, member: Address) -> Result<u128> {
        balance_of(&issuer, member)
    }

    /// What `spender` may still move of `owner`'s `issuer` points.
    #[query]
    pub fn allowance(issuer: String, owner: Address, spender: Address) -> Result<u128> {
        Ok(ALLOWANCES.load(&(issuer, owner, spender))?.unwrap_or(0))
    }

    /// Issuer `id`, with its supply.
    #[query]
    pub fn issuer(id: String) -> Result<Issuer> {
        load_issuer(&id)
    }

    /// The rate `from -> to`, agreed or pending.
    #[query]
    pub fn rate(from: String, to: String) -> Result<Option<Rate>> {
        RATES.load(&(from, to))
    }

    /// Up to `limit` (at most 100) movements of `member`, newest first, before sequence number
    /// `before` (exclusive; `None` starts at the newest). Each entry is `[sequence, movement]`.
    #[query]
    pub fn history(
        member: Address,
        before: Option<u64>,
        limit: u32,
    ) -> Result<Vec<(u64, Movement)>> {
        HISTORY.prefix(&member).page(
            before.as_ref(),
            limit.min(PAGE_MAX) as usize,
            Order::Descending,
        )
    }
}
