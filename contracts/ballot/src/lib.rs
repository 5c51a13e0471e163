//! Shareholder e-voting at a general meeting (the CSD pattern on Fabric).
//!
//! An organiser creates a meeting with its agenda items and the voter registry as of the record
//! date: each voter's share weight is fixed at creation. Each voter votes once per item: for,
//! against or abstain. In a public meeting votes are cast openly; in a secret one, voters first
//! commit to a hash of their vote and reveal it after the organiser closes voting, so no one sees
//! the running tally. After close, each item is tallied by share weight with a quorum rule. Every
//! vote is also an event carrying voter, choice and weight, so anyone can recount from the chain.
#![no_std]

extern crate alloc;

use alloc::{format, string::String, vec::Vec};
use serde::{Deserialize, Serialize};
use vellum_sdk::{contract, ensure, env, env::Order, Address, Error, Hash, Map, Result};

/// The contract type.
pub struct Ballot;

/// A vote on one agenda item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Choice {
    /// In favour.
    For,
    /// Opposed.
    Against,
    /// Present, not voting either way (counts toward quorum).
    Abstain,
}

impl Choice {
    fn name(self) -> &'static str {
        match self {
            Choice::For => "for",
            Choice::Against => "against",
            Choice::Abstain => "abstain",
        }
    }
}

/// Where a meeting is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Votes (or commitments, if secret) are accepted.
    Open,
    /// Secret meetings only: voting closed, commitments are being revealed.
    Revealing,
    /// Final: the tally is available.
    Closed,
}

/// A general meeting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meeting {
    /// Identifier chosen by the organiser.
    pub id: String,
    /// Title.
    pub title: String,
    /// Who created it and closes it.
    pub organiser: Address,
    /// Agenda items, voted on by index.
    pub items: Vec<String>,
    /// Sum of all registered voters' shares.
    pub total_shares: u128,
    /// Share of `total_shares`, in basis points, that must vote on an item for it to be decided.
    pub quorum_bps: u32,
    /// Whether votes are committed first and revealed after close.
    pub secret: bool,
    /// Current status.
    pub status: Status,
}

/// The result of one agenda item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemTally {
    /// Item index.
    pub item: u32,
    /// Item text.
    pub title: String,
    /// Shares voting for.
    pub for_shares: u128,
    /// Shares voting against.
    pub against_shares: u128,
    /// Shares abstaining.
    pub abstain_shares: u128,
    /// Whether the shares that voted reach the quorum.
    pub quorum_reached: bool,
    /// Quorum reached and more shares for than against.
    pub passed: bool,
}

/// Most agenda items in one meeting.
pub const ITEMS_MAX: usize = 64;
/// Most voters in one meeting's registry.
pub const VOTERS_MAX: usize = 2_000;

const MEETINGS: Map<String, Meeting> = Map::new("meetings");
const SHARES: Map<(String, Address), u128> = Map::new("shares");
const VOTES: Map<((String, u32), Address), Choice> = Map::new("votes");
const COMMITMENTS: Map<((String, u32), Address), Hash> = Map::new("commitments");

/// The commitment a secret voter submits: SHA3-256 of the UTF-8 text
/// `vellum-ballot:{meeting}:{item}:{voter}:{choice}:{salt}`, with the voter as `0x` + 64 lowercase
/// hex digits and the choice as `for`, `against` or `abstain`.
pub fn commitment(meeting: &str, item: u32, voter: Address, choice: Choice, salt: &str) -> Hash {
    let text = format!(
        "vellum-ballot:{meeting}:{item}:{voter}:{}:{salt}",
        choice.name()
    );
    Hash(env::sha3_256(text.as_bytes()))
}

fn load_meeting(id: &str) -> Result<Meeting> {
    MEETINGS
        .load(&String::from(id))?
        .ok_or_else(|| Error::not_found(format!("no meeting `{id}`")))
}

/// The caller's shares in `meeting`, and a check that `item` exists.
fn voter_shares(meeting: &Meeting, item: u32) -> Result<(Address, u128)> {
    ensure!(
        (item as usize) < meeting.items.len(),
        Error::not_found(format!("meeting `{}` has no item {item}", meeting.id))
    );
    let voter = env::caller();
    let shares = SHARES.load(&(meeting.id.clone(), voter))?.ok_or_else(|| {
        Error::unauthorized(format!(
            "{voter} is not a registered voter of `{}`",
            meeting.id
        ))
    })?;
    Ok((voter, shares))
}

fn ensure_status(meeting: &Meeting, status: Status) -> Result<()> {
    ensure!(
        meeting.status == status,
        Error::invalid(format!(
            "meeting `{}` is {:?}, not {status:?}",
            meeting.id, meeting.status
        ))
    );
    Ok(())
}

fn ensure_organiser(meeting: &Meeting) -> Result<()> {
    ensure!(
        env::caller() == meeting.organiser,
        Error::unauthorized(format!(
            "only the organiser of `{}` may do this",
            meeting.id
        ))
    );
    Ok(())
}

fn cast(meeting: &Meeting, item: u32, voter: Address, shares: u128, choice: Choice, topic: &str) {
    VOTES.save(&((meeting.id.clone(), item), voter), &choice);
    env::emit(topic, &(&meeting.id, item, voter, choice, shares));
}

#[contract]
impl Ballot {
    /// Create meeting `id` with agenda `items` and the registry `voters` (address and shares, as of
    /// the record date). `quorum_bps` is in basis points of all shares (5000 = half).
    #[execute]
    pub fn create_meeting(
        id: String,
        title: String,
        items: Vec<String>,
        voters: Vec<(Address, u128)>,
        quorum_bps: u32,
        secret: bool,
    ) -> Result<Meeting> {
        ensure!(
            !id.is_empty() && id.len() <= 64,
            Error::invalid("meeting id must be 1 to 64 bytes")
        );
        ensure!(
            !MEETINGS.has(&id),
            Error::conflict(format!("meeting `{id}` already exists"))
        );
        ensure!(
            !items.is_empty() && items.len() <= ITEMS_MAX,
            Error::invalid(format!("a meeting has 1 to {ITEMS_MAX} items"))
        );
        ensure!(
            !voters.is_empty() && voters.len() <= VOTERS_MAX,
            Error::invalid(format!("a meeting has 1 to {VOTERS_MAX} voters"))
        );
        ensure!(
            quorum_bps <= 10_000,
            Error::invalid("quorum_bps is at most 10000")
        );
        let mut total_shares: u128 = 0;
        for (voter, shares) in &voters {
            ensure!(
                *shares > 0,
                Error::invalid(format!("voter {voter} has no shares"))
            );
            let key = (id.clone(), *voter);
            ensure!(
                !SHARES.has(&key),
                Error::invalid(format!("voter {voter} is listed twice"))
            );
            SHARES.save(&key, shares);
            total_shares = total_shares
                .checked_add(*shares)
                .ok_or_else(|| Error::invalid("total shares overflow"))?;
        }
        let meeting = Meeting {
            id: id.clone(),
            title,
            organiser: env::caller(),
            items,
            total_shares,
            quorum_bps,
            secret,
            status: Status::Open,
        };
        MEETINGS.save(&id, &meeting);
        env::emit("meeting_created", &meeting);
        Ok(meeting)
    }

    /// Vote openly on `item` of a public meeting; once per voter and item.
    #[execute]
    pub fn vote(meeting: String, item: u32, choice: Choice) -> Result<()> {
        let meeting = load_meeting(&meeting)?;
        ensure!(
            !meeting.secret,
            Error::invalid("this meeting is secret: commit, then reveal")
        );
        ensure_status(&meeting, Status::Open)?;
        let (voter, shares) = voter_shares(&meeting, item)?;
        ensure!(
            !VOTES.has(&((meeting.id.clone(), item), voter)),
            Error::conflict(format!("{voter} already voted on item {item}"))
        );
        cast(&meeting, item, voter, shares, choice, "vote_cast");
        Ok(())
    }

    /// Commit to a vote on `item` of a secret meeting (see [`commitment`]); once per voter and item.
    #[execute]
    pub fn commit_vote(meeting: String, item: u32, commitment: Hash) -> Result<()> {
        let meeting = load_meeting(&meeting)?;
        ensure!(
            meeting.secret,
            Error::invalid("this meeting is public: vote directly")
        );
        ensure_status(&meeting, Status::Open)?;
        let (voter, _) = voter_shares(&meeting, item)?;
        let key = ((meeting.id.clone(), item), voter);
        ensure!(
            !COMMITMENTS.has(&key),
            Error::conflict(format!("{voter} already committed on item {item}"))
        );
        COMMITMENTS.save(&key, &commitment);
        env::emit("vote_committed", &(&meeting.id, item, voter));
        Ok(())
    }

    /// Reveal a committed vote after voting closed. It counts only if it matches the commitment.
    #[execute]
    pub fn reveal_vote(meeting: String, item: u32, choice: Choice, salt: String) -> Result<()> {
        let meeting = load_meeting(&meeting)?;
        ensure_status(&meeting, Status::Revealing)?;
        let (voter, shares) = voter_shares(&meeting, item)?;
        let key = ((meeting.id.clone(), item), voter);
        let committed = COMMITMENTS
            .load(&key)?
            .ok_or_else(|| Error::not_found(format!("{voter} committed nothing on item {item}")))?;
        ensure!(!VOTES.has(&key), Error::conflict("vote already revealed"));
        ensure!(
            commitment(&meeting.id, item, voter, choice, &salt) == committed,
            Error::invalid("choice and salt do not match the commitment")
        );
        cast(&meeting, item, voter, shares, choice, "vote_revealed");
        Ok(())
    }

    /// Close voting (organiser only): a public meeting becomes final; a secret one moves to
    /// revealing.
    #[execute]
    pub fn close(meeting: String) -> Result<Status> {
        let mut meeting = load_meeting(&meeting)?;
        ensure_organiser(&meeting)?;
        ensure_status(&meeting, Status::Open)?;
        meeting.status = if meeting.secret {
            Status::Revealing
        } else {
            Status::Closed
        };
        MEETINGS.save(&meeting.id, &meeting);
        env::emit("meeting_closed", &(&meeting.id, meeting.status));
        Ok(meeting.status)
    }

    /// End the reveal phase of a secret meeting (organiser only); unrevealed votes do not count.
    #[execute]
    pub fn finish(meeting: String) -> Result<()> {
        let mut meeting = load_meeting(&meeting)?;
        ensure_organiser(&meeting)?;
        ensure_status(&meeting, Status::Revealing)?;
        meeting.status = Status::Closed;
        MEETINGS.save(&meeting.id, &meeting);
        env::emit("meeting_closed", &(&meeting.id, meeting.status));
        Ok(())
    }

    /// Meeting `id`.
    #[query]
    pub fn meeting(id: String) -> Result<Meeting> {
        load_meeting(&id)
    }

    /// The vote `voter` cast (or revealed) on `item`, if any. Secret votes stay hidden until
    /// revealed.
    #[query]
    pub fn vote_of(meeting: String, item: u32, voter: Address) -> Result<Option<Choice>> {
        VOTES.load(&((meeting, item), voter))
    }

    /// The result of every item, weighted by shares. Available once the meeting is closed.
    #[query]
    pub fn tally(meeting: String) -> Result<Vec<ItemTally>> {
        let meeting = load_meeting(&meeting)?;
        ensure_status(&meeting, Status::Closed)?;
        let mut tallies = Vec::with_capacity(meeting.items.len());
        for (index, title) in meeting.items.iter().enumerate() {
            let item = index as u32;
            let (mut for_shares, mut against_shares, mut abstain_shares) = (0u128, 0u128, 0u128);
            for (voter, choice) in VOTES
                .prefix(&(meeting.id.clone(), item))
                .entries(Order::Ascending)?
            {
                let shares = SHARES.load(&(meeting.id.clone(), voter))?.unwrap_or(0);
                match choice {
                    Choice::For => for_shares += shares,
                    Choice::Against => against_shares += shares,
                    Choice::Abstain => abstain_shares += shares,
                }
            }
            let turnout = for_shares + against_shares + abstain_shares;
            let quorum_reached =
                turnout * 10_000 >= meeting.total_shares * u128::from(meeting.quorum_bps);
            tallies.push(ItemTally {
                item,
                title: title.clone(),
                for_shares,
                against_shares,
                abstain_shares,
                quorum_reached,
                passed: quorum_reached && for_shares > against_shares,
            });
        }
        Ok(tallies)
    }
}
