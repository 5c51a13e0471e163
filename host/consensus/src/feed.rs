//! An observer's source of finality: the finalization certificates validators broadcast.
//!
//! Simplex sends its votes and certificates to every peer of the network, observers included.
//! An observer runs no simplex, so nothing checks what arrives: the feed decodes each
//! certificate, keeps the finalizations of views it has not passed on yet (among the last
//! 1,024), verifies each against the validator set (a quorum of valid ed25519
//! signatures over the block digest and round), and only then reports it to marshal, which
//! trusts what it is told. Marshal then fetches the block the certificate names and delivers it
//! in height order; heights finalized only as ancestors are backfilled, with their certificates
//! checked by marshal.
//!
//! An honest validator sends only well-formed certificates that verify, so a peer that sends
//! bytes that are not a certificate, or a finalization that does not verify, is Byzantine and is
//! blocked. Each certificate costs at most one decode and one quorum verification, and the
//! network rate-limits each peer on the channel; notarizations and nullifications are dropped
//! after their decode, since the observer needs only finality. Votes reach an observer too (and
//! a Byzantine peer may send anything on simplex's fetch channel): it reads and drops them, so
//! that no channel backs up.

use crate::block::{Digest, RoundBlock, ValidatorKey};
use commonware_codec::Decode as _;
use commonware_consensus::{
    marshal::{core::Mailbox, standard::Standard},
    simplex::{
        scheme::ed25519::Scheme,
        types::{Activity, Certificate},
    },
    types::View,
    Reporter as _, Viewable as _,
};
use commonware_cryptography::certificate::Verifier as _;
use commonware_macros::select;
use commonware_p2p::{Blocker, Receiver};
use commonware_parallel::Sequential;
use rand_core::CryptoRng;
use std::collections::BTreeSet;
use tracing::{debug, warn};

/// The views of passed-on finalizations the feed remembers. An honest validator broadcasts each
/// certificate once, so copies arrive within a few views of each other; one older than all of
/// these is dropped without a check.
const REPORTED_MAX: usize = 1024;

/// Pass the finalizations that arrive on `certificates` to `marshal`, verified against
/// `scheme`'s validator set; read and drop whatever arrives on `votes` and `fetches`. Returns
/// when a channel closes (the network stopped).
pub async fn run<E, B, R>(
    mut context: E,
    scheme: Scheme,
    mut marshal: Mailbox<Scheme, Standard<RoundBlock>>,
    mut blocker: B,
    mut certificates: R,
    [mut votes, mut fetches]: [R; 2],
) where
    E: CryptoRng,
    B: Blocker<PublicKey = ValidatorKey>,
    R: Receiver<PublicKey = ValidatorKey>,
{
    let codec = scheme.certificate_codec_config();
    // The views of the finalizations passed on, newest last: each is verified once, and one
    // that arrives after a newer one is still passed on (its height keeps its own certificate).
    let mut reported = BTreeSet::new();
    loop {
        select! {
            message = certificates.recv() => {
                let Ok((peer, message)) = message else { return };
                let Ok(certificate) = Certificate::<Scheme, Digest>::decode_cfg(message, &codec)
                else {
                    warn!(?peer, "blocking a peer: it sent bytes that are not a certificate");
                    blocker.block(peer);
                    continue;
                };
                let Certificate::Finalization(finalization) = certificate else {
                    continue;
                };
                let view = finalization.view();
                let oldest = reported.first().copied().unwrap_or(View::zero());
                if reported.contains(&view)
                    || (reported.len() >= REPORTED_MAX && view < oldest)
                {
                    continue;
                }
                if !finalization.verify(&mut context, &scheme, &Sequential) {
                    warn!(?peer, %view, "blocking a peer: it sent a finalization that does not verify");
                    blocker.block(peer);
                    continue;
                }
                debug!(%view, "finalization received");
                reported.insert(view);
                if reported.len() > REPORTED_MAX {
                    reported.pop_first();
                }
                marshal.report(Activity::Finalization(finalization));
            },
            message = votes.recv() => {
                if message.is_err() {
                    return;
                }
            },
            message = fetches.recv() => {
                if message.is_err() {
                    return;
                }
            },
        }
    }
}
