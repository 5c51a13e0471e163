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
use vellum_sdk::{
    contract, ensure, env, env::Order, Address, ContractError, Event, Hash, Map, Result,
};

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

/// The contract's errors, each with its stable code.
#[derive(Debug, ContractError)]
pub enum BallotError {
    /// No meeting has this id.
    #[error(100, "no meeting `{0}`")]
    NoMeeting(String),
    /// The meeting has no such agenda item.
    #[error(101, "meeting `{0}` has no item {1}")]
    NoItem(String, u32),
    /// The caller is not in the meeting's registry.
    #[error(102, "{0} is not a registered voter of `{1}`")]
    NotAVoter(Address, String),
    /// The meeting is not in the phase this needs.
    #[error(103, "meeting `{id}` is {status:?}, not {needed:?}")]
    WrongStatus {
        /// The meeting.
        id: String,
        /// Its phase.
        status: Status,
        /// The phase this needs.
        needed: Status,
    },
    /// Closing and finishing are the organiser's.
    #[error(104, "only the organiser of `{0}` may do this")]
    NotOrganiser(String),
    /// A meeting id is empty or too long.
    #[error(105, "meeting id must be 1 to 64 bytes")]
    BadMeetingId,
    /// A meeting with this id exists already.
    #[error(106, "meeting `{0}` already exists")]
    MeetingExists(String),
    /// An agenda of no items or too many.
    #[error(107, "a meeting has 1 to {ITEMS_MAX} items")]
    ItemCount,
    /// A registry of no voters or too many.
    #[error(108, "a meeting has 1 to {VOTERS_MAX} voters")]
    VoterCount,
    /// A quorum above 100%.
    #[error(109, "quorum_bps is at most 10000")]
    BadQuorum,
    /// A voter listed with 0 shares.
    #[error(110, "voter {0} has no shares")]
    NoShares(Address),
    /// A voter listed twice.
    #[error(111, "voter {0} is listed twice")]
    VoterTwice(Address),
    /// The shares add up past 2^128 - 1.
    #[error(112, "total shares overflow")]
    SharesOverflow,
    /// `vote` in a secret meeting.
    #[error(113, "this meeting is secret: commit, then reveal")]
    SecretMeeting,
    /// `commit_vote` in a public meeting.
    #[error(114, "this meeting is public: vote directly")]
    PublicMeeting,
    /// A second vote on an item.
    #[error(115, "{0} already voted on item {1}")]
    AlreadyVoted(Address, u32),
    /// A second commitment on an item.
    #[error(116, "{0} already committed on item {1}")]
    AlreadyCommitted(Address, u32),
    /// A reveal without a commitment.
    #[error(117, "{0} committed nothing on item {1}")]
    NothingCommitted(Address, u32),
    /// A second reveal.
    #[error(118, "vote already revealed")]
    AlreadyRevealed,
    /// A reveal that does not match its commitment.
    #[error(119, "choice and salt do not match the commitment")]
    CommitmentMismatch,
}

/// A meeting was created: its record.
#[derive(Serialize, Event)]
pub struct MeetingCreated<'a>(pub &'a Meeting);

/// A public vote: `[meeting, item, voter, choice, shares]`.
#[derive(Serialize, Event)]
pub struct VoteCast<'a>(pub &'a str, pub u32, pub Address, pub Choice, pub u128);

/// A secret vote was committed: `[meeting, item, voter]`.
#[derive(Serialize, Event)]
pub struct VoteCommitted<'a>(pub &'a str, pub u32, pub Address);

/// A secret vote was revealed: `[meeting, item, voter, choice, shares]`.
#[derive(Serialize, Event)]
pub struct VoteRevealed<'a>(pub &'a str, pub u32, pub Address, pub Choice, pub u128);

/// Voting closed, or revealing ended: `[meeting, status]`.
#[derive(Serialize, Event)]
pub struct MeetingClosed<'a>(pub &'a str, pub Status);

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
    Ok(MEETINGS
        .load(&String::from(id))?
        .ok_or_else(|| BallotError::NoMeeting(String::from(id)))?)
}

/// The caller's shares in `meeting`, and a check that `item` exists.
fn voter_shares(meeting: &Meeting, item: u32) -> Result<(Address, u128)> {
    ensure!(
        (item as usize) < meeting.items.len(),
        BallotError::NoItem(meeting.id.clone(), item)
    );
    let voter = env::caller();
    let shares = SHARES
        .load(&(meeting.id.clone(), voter))?
        .ok_or_else(|| BallotError::NotAVoter(voter, meeting.id.clone()))?;
    Ok((voter, shares))
}

fn ensure_status(meeting: &Meeting, status: Status) -> Result<()> {
    ensure!(
        meeting.status == status,
        BallotError::WrongStatus {
            id: meeting.id.clone(),
            status: meeting.status,
            needed: status,
        }
    );
    Ok(())
}

fn ensure_organiser(meeting: &Meeting) -> Result<()> {
    ensure!(
        env::caller() == meeting.organiser,
        BallotError::NotOrganiser(meeting.id.clone())
    );
    Ok(())
}

/// Record a vote: cast openly, or revealed after a commitment.
fn cast(
    meeting: &Meeting,
    item: u32,
    voter: Address,
    shares: u128,
    choice: Choice,
    revealed: bool,
) {
    VOTES.save(&((meeting.id.clone(), item), voter), &choice);
    match revealed {
        false => VoteCast(&meeting.id, item, voter, choice, shares).emit(),
        true => VoteRevealed(&meeting.id, item, voter, choice, shares).emit(),
    }
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
        ensure!(!id.is_empty() && id.len() <= 64, BallotError::BadMeetingId);
        ensure!(!MEETINGS.has(&id), BallotError::MeetingExists(id));
        ensure!(
            !items.is_empty() && items.len() <= ITEMS_MAX,
            BallotError::ItemCount
        );
        ensure!(
            !voters.is_empty() && voters.len() <= VOTERS_MAX,
            BallotError::VoterCount
        );
        ensure!(quorum_bps <= 10_000, BallotError::BadQuorum);
        let mut total_shares: u128 = 0;
        for (voter, shares) in &voters {
            ensure!(*shares > 0, BallotError::NoShares(*voter));
            let key = (id.clone(), *voter);
            ensure!(!SHARES.has(&key), BallotError::VoterTwice(*voter));
            SHARES.save(&key, shares);
            total_shares = total_shares
                .checked_add(*shares)
                .ok_or(BallotError::SharesOverflow)?;
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
        MeetingCreated(&meeting).emit();
        Ok(meeting)
    }

    /// Vote openly on `item` of a public meeting; once per voter and item.
    #[execute]
    pub fn vote(meeting: String, item: u32, choice: Choice) -> Result<()> {
        let meeting = load_meeting(&meeting)?;
        ensure!(!meeting.secret, BallotError::SecretMeeting);
        ensure_status(&meeting, Status::Open)?;
        let (voter, shares) = voter_shares(&meeting, item)?;
        ensure!(
            !VOTES.has(&((meeting.id.clone(), item), voter)),
            BallotError::AlreadyVoted(voter, item)
        );
        cast(&meeting, item, voter, shares, choice, false);
        Ok(())
    }

    /// Commit to a vote on `item` of a secret meeting (see [`commitment`]); once per voter and item.
    #[execute]
    pub fn commit_vote(meeting: String, item: u32, commitment: Hash) -> Result<()> {
        let meeting = load_meeting(&meeting)?;
        ensure!(meeting.secret, BallotError::PublicMeeting);
        ensure_status(&meeting, Status::Open)?;
        let (voter, _) = voter_shares(&meeting, item)?;
        let key = ((meeting.id.clone(), item), voter);
        ensure!(
            !COMMITMENTS.has(&key),
            BallotError::AlreadyCommitted(voter, item)
        );
        COMMITMENTS.save(&key, &commitment);
        VoteCommitted(&meeting.id, item, voter).emit();
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
            .ok_or(BallotError::NothingCommitted(voter, item))?;
        ensure!(!VOTES.has(&key), BallotError::AlreadyRevealed);
        ensure!(
            commitment(&meeting.id, item, voter, choice, &salt) == committed,
            BallotError::CommitmentMismatch
        );
        cast(&meeting, item, voter, shares, choice, true);
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
        MeetingClosed(&meeting.id, meeting.status).emit();
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
        MeetingClosed(&meeting.id, meeting.status).emit();
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
