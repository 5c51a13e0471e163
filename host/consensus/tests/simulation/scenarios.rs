//! The scenarios: honest networks, Byzantine voters and proposers, floods, partitions,
//! crashes, late joiners and a diverging validator, each over many seeds.

use super::*;
use commonware_codec::Encode as _;
use commonware_consensus::{
    simplex::types::Certificate,
    types::{Round, View},
};
use commonware_p2p::{Recipients, Sender as _};

#[test]
fn four_honest_validators_agree() {
    for_seeds("four_honest_validators_agree", 30, |seed| {
        run(
            seed,
            &[Role::Honest; 4],
            if seed % 2 == 0 { LINK } else { LOSSY },
            8,
        );
    });
}

#[test]
fn seven_honest_validators_agree() {
    for_seeds("seven_honest_validators_agree", 10, |seed| {
        run(seed, &[Role::Honest; 7], LINK, 6);
    });
}

#[test]
fn same_seed_same_run() {
    for_seeds("same_seed_same_run", 10, |seed| {
        let a = run(seed, &[Role::Honest; 4], LOSSY, 5);
        let b = run(seed, &[Role::Honest; 4], LOSSY, 5);
        assert_eq!(a.state, b.state, "runtime trace differs");
        assert_eq!(a.roots, b.roots, "state roots differ");
    });
}

#[test]
fn byzantine_voters_cannot_fork_or_stall() {
    let mocks = [
        Mock::Conflicter,
        Mock::Equivocator,
        Mock::Nuller,
        Mock::Impersonator,
        Mock::Outdated,
    ];
    for_seeds("byzantine_voters_cannot_fork_or_stall", 50, |seed| {
        let mock = mocks[seed as usize % mocks.len()];
        let mut roles = [Role::Honest; 4];
        roles[(seed / 5) as usize % 4] = Role::Mock(mock);
        run(seed, &roles, LINK, 6);
    });
    for_seeds("byzantine_voters_cannot_fork_or_stall", 5, |seed| {
        let mut roles = [Role::Honest; 7];
        roles[0] = Role::Mock(mocks[seed as usize % mocks.len()]);
        roles[3] = Role::Mock(mocks[(seed as usize + 1) % mocks.len()]);
        run(seed, &roles, LINK, 5);
    });
}

#[test]
fn invalid_proposals_are_never_finalized() {
    let tampers = [
        Tamper::StateRoot,
        Tamper::Signature,
        Tamper::TimeStep,
        Tamper::Oversized,
    ];
    for_seeds("invalid_proposals_are_never_finalized", 30, |seed| {
        let mut roles = [Role::Honest; 4];
        roles[seed as usize % 4] = Role::Tampering(tampers[(seed / 4) as usize % tampers.len()]);
        run(seed, &roles, LINK, 8);
    });
}

/// A peer flooding the gossip channel neither stalls the network nor fills a mempool, and
/// once it sends what no honest validator would (a malformed batch, a forged signature), every
/// honest validator blocks it.
#[test]
fn a_gossip_flood_is_refused_and_the_byzantine_peer_blocked() {
    for_seeds("a_gossip_flood_is_refused", 6, |seed| {
        let mut roles = [Role::Honest; 4];
        let flooder = seed as usize % 4;
        let junk = [Junk::Garbage, Junk::Forged][seed as usize % 2];
        roles[flooder] = Role::Flooder(junk);
        let outcome = run(seed, &roles, LINK, 8);
        for honest in (0..4).filter(|&i| i != flooder) {
            assert!(
                outcome.blocked.contains(&(honest, flooder)),
                "validator {honest} did not block the flooder {flooder} ({junk:?}): {:?}",
                outcome.blocked
            );
        }
    });
}

/// Members attacking through transactions alone (maximum-fuel spins, receipts past the limit,
/// a flood of large transactions behind a nonce gap) neither stall the chain nor delay honest
/// transactions by more than a few blocks, and the gapped flood leaves the pools.
#[test]
fn members_attacking_through_transactions_cannot_stall_or_censor() {
    for_seeds("members_attacking_through_transactions", 2, |seed| {
        let setup = Setup {
            member_attack: true,
        };
        let outcome = run_with(seed, &[Role::Honest; 4], LINK, 30, setup);
        assert!(outcome.waits.len() > 10, "{:?}", outcome.waits);
        let slowest = outcome.waits.iter().max().copied().unwrap_or(0);
        assert!(
            slowest <= 4,
            "an honest transaction waited {slowest} blocks: {:?}",
            outcome.waits
        );
        // The oldest gapped transactions were accepted more than 4 blocks before the end.
        let (evicted, _) = outcome.gapped.split_at(outcome.gapped.len().min(8));
        assert!(!evicted.is_empty());
        assert!(
            evicted.iter().all(|(_, pending)| !pending),
            "gapped transactions are still pending: {evicted:?}"
        );
    });
}

/// Split 2/2 (no quorum on either side), let time pass, heal, and require progress.
#[test]
fn partitions_heal() {
    for_seeds("partitions_heal", 30, |seed| {
        let chain = Testnet::new(4);
        let all = [0, 1, 2, 3];
        deterministic::Runner::new(
            deterministic::Config::new()
                .with_seed(seed)
                .with_timeout(Some(Duration::from_secs(600))),
        )
        .start(|context| {
            let chain = &chain;
            async move {
                let mut oracle = network(&context, chain).await;
                let keys: Vec<_> = all.iter().map(|&i| chain.public(i)).collect();
                link_all(&mut oracle, &keys, &LOSSY).await;
                let mut running = Vec::new();
                for i in all {
                    running.push(
                        start(
                            &context,
                            &mut oracle,
                            chain,
                            i,
                            Role::Honest,
                            Limits::default(),
                        )
                        .await
                        .expect("honest"),
                    );
                }
                let submitters = running.iter().map(|r| r.submitter.clone()).collect();
                let _client = client(&context, submitters, 1, chain.stores[0].clone());
                reach(&context, chain, &all, 2).await;
                // 2/2 leaves no side a quorum; 1/3 leaves one (3 of 4 is 2f + 1).
                let split = 1 + (context.child("split").next_u32() % 3) as usize;
                let (left, right) = keys.split_at(split);
                unlink(&mut oracle, left, right).await;
                let before = all.iter().map(|&i| chain.height(i)).max().unwrap_or(0);
                context.sleep(Duration::from_secs(10)).await;
                let during = all.iter().map(|&i| chain.height(i)).max().unwrap_or(0);
                if split == 2 {
                    // At most blocks already certified before the split finish.
                    assert!(
                        during <= before + 2,
                        "progress without a quorum: {before} -> {during}"
                    );
                } else {
                    let majority: Vec<usize> = if split == 1 {
                        vec![1, 2, 3]
                    } else {
                        vec![0, 1, 2]
                    };
                    reach(&context, chain, &majority, before + 3).await;
                }
                link_all(&mut oracle, &keys, &LOSSY).await;
                reach(&context, chain, &all, during + 3).await;
            }
        });
        chain.assert_agreement(&all);
    });
}

/// Crash every validator at once, at random moments, three times; each restart resumes from
/// its journals (recovered from the crashed runtime's storage) and its redb store, re-signs
/// nothing, and the chain keeps growing without disagreement.
#[test]
fn unclean_restarts_resume() {
    const CRASHES: usize = 3;
    for_seeds("unclean_restarts_resume", 15, |seed| {
        let chain = Testnet::new(4);
        let all = [0usize, 1, 2, 3];
        let mut checkpoint = None;
        let mut heights = Vec::new();
        for run in 0..=CRASHES {
            let runner = match checkpoint.take() {
                None => deterministic::Runner::new(
                    deterministic::Config::new()
                        .with_seed(seed)
                        .with_timeout(Some(Duration::from_secs(600))),
                ),
                Some(checkpoint) => deterministic::Runner::from(checkpoint),
            };
            let chain_ref = &chain;
            let target = all.iter().map(|&i| chain.height(i)).max().unwrap_or(0) + 5;
            let ((), next) = runner.start_and_recover(|context| async move {
                let mut oracle = network(&context, chain_ref).await;
                let keys: Vec<_> = all.iter().map(|&i| chain_ref.public(i)).collect();
                link_all(&mut oracle, &keys, &LINK).await;
                let mut running = Vec::new();
                for i in all {
                    running.push(
                        start(
                            &context,
                            &mut oracle,
                            chain_ref,
                            i,
                            Role::Honest,
                            Limits::default(),
                        )
                        .await,
                    );
                }
                let submitters = running
                    .iter()
                    .flatten()
                    .map(|r| r.submitter.clone())
                    .collect();
                let _client = client(&context, submitters, 1, chain_ref.stores[0].clone());
                if run < CRASHES {
                    let crash_after =
                        Duration::from_millis(300 + context.child("crash").next_u64() % 3_000);
                    context.sleep(crash_after).await;
                } else {
                    reach(&context, chain_ref, &all, target).await;
                }
            });
            chain.assert_agreement(&all);
            heights.push(all.map(|i| chain.height(i)));
            checkpoint = Some(next);
        }
        let last = heights.last().expect("runs");
        assert!(
            last.iter().all(|&h| h >= 5),
            "no progress across restarts: {heights:?}"
        );
    });
}

/// A validator that was offline from the start backfills finalized blocks and catches up to
/// the same state.
#[test]
fn late_validator_backfills() {
    for_seeds("late_validator_backfills", 10, |seed| {
        let chain = Testnet::new(4);
        deterministic::Runner::new(
            deterministic::Config::new()
                .with_seed(seed)
                .with_timeout(Some(Duration::from_secs(600))),
        )
        .start(|context| {
            let chain = &chain;
            async move {
                let mut oracle = network(&context, chain).await;
                let online: Vec<_> = (0..3).map(|i| chain.public(i)).collect();
                link_all(&mut oracle, &online, &LINK).await;
                let mut running = Vec::new();
                for i in 0..3 {
                    running.push(
                        start(
                            &context,
                            &mut oracle,
                            chain,
                            i,
                            Role::Honest,
                            Limits::default(),
                        )
                        .await,
                    );
                }
                let submitters = running
                    .iter()
                    .flatten()
                    .map(|r| r.submitter.clone())
                    .collect();
                let _client = client(&context, submitters, 1, chain.stores[0].clone());
                reach(&context, chain, &[0, 1, 2], 10).await;
                let all: Vec<_> = (0..4).map(|i| chain.public(i)).collect();
                link_all(&mut oracle, &all, &LINK).await;
                let late = start(
                    &context,
                    &mut oracle,
                    chain,
                    3,
                    Role::Honest,
                    Limits::default(),
                )
                .await;
                reach(&context, chain, &[0, 1, 2, 3], 14).await;
                drop(late);
            }
        });
        chain.assert_agreement(&[0, 1, 2, 3]);
    });
}

/// An observer that joins once the validators have finalized blocks backfills them, then
/// follows the certificates they broadcast: it commits the same headers as the validators, each
/// block sealed by a certificate that verifies, and the transactions submitted only to it reach
/// the validators and are committed. Two Byzantine peers then send it a certificate that does
/// not decode and a finalization that does not verify (and send both to a validator too, whose
/// simplex never sees them): the observer blocks both, no one else blocks anyone, and it keeps
/// following. A transaction it holds behind a nonce gap that a commit fills is passed on
/// and committed.
#[test]
fn an_observer_follows_and_forwards_transactions() {
    for_seeds(
        "an_observer_follows_and_forwards_transactions",
        10,
        |seed| {
            let mut chain = Testnet::new(4);
            let key = ed25519::PrivateKey::from_seed(100);
            let dir = tempfile::tempdir().expect("tempdir");
            let store = Arc::new(
                Store::open(&dir.path().join("ledger.redb"), &chain.genesis).expect("store"),
            );
            chain.stores.push(store.clone());
            chain._dirs.push(dir);
            let (via_observer, blocked) = deterministic::Runner::new(
                deterministic::Config::new()
                    .with_seed(seed)
                    .with_timeout(Some(Duration::from_secs(600))),
            )
            .start(|context| {
                let chain = &chain;
                async move {
                    let observer = key.public_key();
                    let forgers: Vec<_> = [101, 102]
                        .map(|seed| ed25519::PrivateKey::from_seed(seed).public_key())
                        .into();
                    let mut secondary = forgers.clone();
                    secondary.push(observer.clone());
                    let mut oracle = network_with(&context, chain, &secondary).await;
                    let mut all: Vec<_> = (0..4).map(|i| chain.public(i)).collect();
                    all.extend(secondary);
                    link_all(&mut oracle, &all, &LINK).await;
                    let mut running = Vec::new();
                    for i in 0..4 {
                        running.push(
                            start(
                                &context,
                                &mut oracle,
                                chain,
                                i,
                                Role::Honest,
                                Limits::default(),
                            )
                            .await,
                        );
                    }
                    let submitters = running
                        .iter()
                        .flatten()
                        .map(|r| r.submitter.clone())
                        .collect();
                    let _validators_client =
                        client(&context, submitters, 1, chain.stores[0].clone());
                    reach(&context, chain, &[0, 1, 2, 3], 4).await;
                    let follower = start_observer(&context, &mut oracle, chain, &key, store).await;
                    let sent = client(
                        &context,
                        vec![follower.submitter.clone()],
                        2,
                        chain.stores[4].clone(),
                    );
                    reach(&context, chain, &[0, 1, 2, 3, 4], 12).await;
                    assert!(oracle.blocked().await.expect("oracle").is_empty());

                    let head = chain.height(4);
                    let seal = chain.stores[4].seal(head).expect("read").expect("sealed");
                    let mut forged = consensus::Seal::decode(&seal)
                        .expect("seal")
                        .finalization
                        .expect("the head is certified");
                    forged.proposal.round = Round::new(
                        forged.proposal.round.epoch(),
                        View::new(forged.proposal.round.view().get() + 1_000),
                    );
                    let junk = [
                        vec![0xff; 64],
                        Certificate::Finalization(forged).encode().to_vec(),
                    ];
                    // Each also goes to a validator, whose simplex never sees it: only
                    // validators' certificates and fetches reach simplex (else simplex would
                    // block them too).
                    let validator = chain.public(0);
                    for (forger, junk) in forgers.iter().zip(junk) {
                        let mut channels = register(&mut oracle, forger).await;
                        for to in [key.public_key(), validator.clone()] {
                            channels.certificates.0.send(
                                Recipients::One(to.clone()),
                                junk.clone(),
                                true,
                            );
                            channels
                                .resolver
                                .0
                                .send(Recipients::One(to), junk.clone(), true);
                        }
                    }
                    // Until both are blocked (the runtime's timeout fails the test otherwise);
                    // the observer keeps following.
                    while oracle.blocked().await.expect("oracle").len() < forgers.len() {
                        context.sleep(Duration::from_millis(100)).await;
                    }
                    reach(&context, chain, &[0, 1, 2, 3, 4], head + 2).await;
                    assert_eq!(follower.chain.halted(), None, "the observer halted");
                    let sent = sent.lock().expect("lock").clone();
                    let mut blocked = oracle.blocked().await.expect("oracle");
                    blocked.sort();
                    let mut expected: Vec<_> = forgers
                        .iter()
                        .map(|forger| (key.public_key(), forger.clone()))
                        .collect();
                    expected.sort();
                    assert_eq!(blocked, expected, "the observer blocks the forgers only");

                    // A transaction that reaches the observer ahead of its sender's next nonce
                    // waits there; the one before it goes to a validator's pool alone (no
                    // gossip), so only a commit fills the gap at the observer, which must then
                    // pass the waiting one on: it never proposes.
                    let ahead = testing::sign(4, 1, Action::ApproveCode { code_hash: [7; 32] });
                    let first = testing::sign(4, 0, Action::ApproveCode { code_hash: [8; 32] });
                    follower
                        .submitter
                        .submit(ahead.clone())
                        .expect("accepted, waiting");
                    running[0]
                        .as_ref()
                        .expect("running")
                        .chain
                        .submit(first)
                        .expect("accepted");
                    while chain.stores[0]
                        .transaction_location(&ahead.hash())
                        .expect("read")
                        .is_none()
                    {
                        context.sleep(Duration::from_millis(100)).await;
                    }
                    (sent, blocked)
                }
            });
            assert_eq!(blocked.len(), 2);
            chain.assert_agreement(&[0, 1, 2, 3, 4]);
            chain.assert_sealed(4);
            // Every transaction the observer accepted 8 or more blocks before the end was
            // committed.
            let end = chain.height(4);
            let settled: Vec<_> = via_observer
                .iter()
                .filter(|(_, accepted)| accepted + 8 <= end)
                .collect();
            assert!(!settled.is_empty(), "the run is too short to judge");
            for (hash, accepted) in settled {
                assert!(
                    chain.stores[0]
                        .transaction_location(hash)
                        .expect("read")
                        .is_some(),
                    "a transaction the observer accepted at height {accepted} is not committed by {end}"
                );
            }
        },
    );
}

/// One validator's runtime prices storage writes differently. Once a contract writes state,
/// its execution disagrees with the network's: it halts with a report naming the
/// transaction, commits nothing past it, and the other three carry on.
#[test]
fn diverging_validator_halts_with_a_report() {
    for_seeds("diverging_validator_halts_with_a_report", 3, |seed| {
        let chain = Testnet::new(4);
        let code = testing::artifact("points");
        let halt = deterministic::Runner::new(
            deterministic::Config::new()
                .with_seed(seed)
                .with_timeout(Some(Duration::from_secs(600))),
        )
        .start(|context| {
            let chain = &chain;
            let code = code.clone();
            async move {
                let mut oracle = network(&context, chain).await;
                let keys: Vec<_> = (0..4).map(|i| chain.public(i)).collect();
                link_all(&mut oracle, &keys, &LINK).await;
                let mut running = Vec::new();
                for i in 0..4 {
                    let role = if i == 3 {
                        Role::Diverging
                    } else {
                        Role::Honest
                    };
                    running.push(
                        start(&context, &mut oracle, chain, i, role, Limits::default())
                            .await
                            .expect("engine"),
                    );
                }
                reach(&context, chain, &[0, 1, 2, 3], 2).await;
                let deploy = testing::sign(
                    1,
                    0,
                    Action::Deploy {
                        code,
                        init_args: "{}".into(),
                    },
                );
                running[0]
                    .submitter
                    .submit(deploy)
                    .expect("deploy accepted");
                let halt = running[3].chain.on_halt().await.expect("validator 3 halts");
                let halted_at = chain.height(3);
                reach(&context, chain, &[0, 1, 2], halted_at + 5).await;
                assert_eq!(
                    chain.height(3),
                    halted_at,
                    "a halted validator committed more"
                );
                halt
            }
        });
        chain.assert_agreement(&[0, 1, 2]);
        let Halt::Diverged(divergence) = &halt else {
            panic!("expected a divergence, got {halt}");
        };
        let report = halt.to_string();
        assert!(report.contains("CONSENSUS DIVERGENCE"), "{report}");
        let (index, hash, _) = divergence
            .first_transaction
            .clone()
            .expect("a transaction is named");
        let block = chain.stores[0]
            .block(divergence.height)
            .expect("read")
            .expect("finalized block");
        assert_eq!(hash, hex(&block.transactions[index].hash()));
        assert!(divergence.fields.contains(&"receipts_root"), "{report}");
        chain.assert_agreement(&[0, 1, 2, 3]);
    });
}
