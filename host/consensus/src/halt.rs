//! Why a validator stopped, and the report it leaves: a divergence from the network (its
//! execution disagrees with a finalized block) or a fault of its own.

use std::fmt;

/// Why a validator stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Halt {
    /// This node's execution of a finalized block disagrees with the block.
    Diverged(Divergence),
    /// This node failed (its disk, its store): not the network's fault. The text is the
    /// failure's report, with its causes.
    Fault(String),
}

impl fmt::Display for Halt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Halt::Diverged(divergence) => divergence.fmt(f),
            Halt::Fault(fault) => write!(
                f,
                "validator halted on a local fault: {fault}. Nothing past the last committed block \
                 was written; fix the cause and restart the node, which resumes from its store."
            ),
        }
    }
}

/// What a validator found when its own execution disagreed with a finalized block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// The block's height.
    pub height: u64,
    /// Its consensus digest.
    pub digest: String,
    /// The header fields this node computed differently (empty if it could not execute it).
    pub fields: Vec<&'static str>,
    /// The first transaction whose receipt differs: (position, transaction hash, what this node
    /// computed).
    pub first_transaction: Option<(usize, String, String)>,
    /// Why this node could not execute the block at all, if it could not.
    pub error: Option<String>,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "CONSENSUS DIVERGENCE: this validator's execution of finalized block {} ({}) \
             disagrees with the network",
            self.height, self.digest
        )?;
        if !self.fields.is_empty() {
            write!(f, "; header fields that differ: {}", self.fields.join(", "))?;
        }
        if let Some(error) = &self.error {
            write!(f, "; this validator rejects the block: {error}")?;
        }
        match &self.first_transaction {
            Some((index, hash, ours)) => write!(
                f,
                "; first differing transaction: #{index} {hash} (this validator computed: {ours})"
            )?,
            None if self.error.is_none() => write!(
                f,
                "; every receipt agrees, so the state writes differ (compare the state of the \
                 contracts these transactions touched)"
            )?,
            None => {}
        }
        write!(
            f,
            ". The validator stopped before committing it and its store stays at height {}: \
             compare its binary, runtime schedule and store with a healthy validator's.",
            self.height.saturating_sub(1)
        )
    }
}

/// `error` and each of its causes, joined: the text of a [`Halt::Fault`].
pub(crate) fn report(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        // Errors that print their source inline (`#[error("...: {0}")]`) are not repeated.
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
