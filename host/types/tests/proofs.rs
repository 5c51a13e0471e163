//! Receipt and finality proofs, checked as an offline client checks them: against genesis only.
//!
//! The certificates here are signed in the test by validator keys genesis names, over the
//! proposal encoding `docs/proofs.md` gives (written out again below, independently of the
//! library). The consensus simulation checks the same verifier against certificates the real
//! consensus produced.

use bytes::BufMut as _;
use commonware_codec::{types::lazy::Lazy, varint::UInt, Write as _};
use commonware_cryptography::{
    certificate::Signers,
    ed25519::{self, certificate::Certificate},
    Signer as _,
};
use commonware_utils::Participant;
use proptest::prelude::*;
use vellum_types::{
    hex,
    proof::{Finality, Finalization, ProofError, ReceiptProof, Round, Seal, Validators},
    DeployPolicy, Genesis, Header, LedgerEvent, Receipt, Status, Validator,
};

const VALIDATORS: u64 = 4;

fn keys() -> Vec<ed25519::PrivateKey> {
    (0..VALIDATORS)
        .map(|seed| ed25519::PrivateKey::from_seed(seed + 1))
        .collect()
}

fn genesis() -> Genesis {
    Genesis {
        chain_id: "proofs".into(),
        time_ms: 0,
        organisations: Vec::new(),
        deploy_policy: DeployPolicy::AnyAdmin,
        limits: Default::default(),
        validators: keys()
            .iter()
            .enumerate()
            .map(|(i, key)| Validator {
                name: format!("v{i}"),
                organisation: "org".into(),
                public_key: hex(key.public_key().as_ref()),
            })
            .collect(),
        read_policy: Default::default(),
        governance: Default::default(),
    }
}

/// `count` receipts, each different.
fn receipts(count: usize) -> Vec<Receipt> {
    (0..count)
        .map(|i| Receipt {
            transaction: [i as u8; 32],
            status: if i % 3 == 2 {
                Status::ContractError {
                    code: 3,
                    message: format!("no {i}"),
                }
            } else {
                Status::Success
            },
            output: vec![i as u8; i % 5],
            fuel_used: 50_000 + i as u64,
            events: vec![LedgerEvent {
                contract: [9; 32],
                topic: b"anchored".to_vec(),
                data: vec![i as u8],
            }],
            contract: None,
        })
        .collect()
}

/// A chain of `length` headers from height 10, the first holding `receipts`.
fn headers(receipts: &[Receipt], length: usize) -> Vec<Header> {
    let mut headers: Vec<Header> = Vec::with_capacity(length);
    for i in 0..length {
        headers.push(Header {
            height: 10 + i as u64,
            parent: headers.last().map_or([1; 32], Header::hash),
            time_ms: 1_000 + i as u64,
            proposer: [2; 32],
            transactions_root: [3; 32],
            receipts_root: if i == 0 {
                vellum_types::merkle_root(receipts.iter().map(Receipt::hash))
            } else {
                vellum_types::merkle_root(std::iter::empty())
            },
            state_root: [4; 32],
            fuel_used: 0,
            schedule_version: 1,
        });
    }
    headers
}

/// The seal of `header` in view `view`, with a certificate signed by the validators at
/// `signers` (indices in consensus order: by public key).
fn seal(header: &Header, view: u64, signers: &[u32], namespace: &[u8]) -> Seal {
    let mut seal = Seal {
        round: Round { epoch: 0, view },
        leader: [5; 32],
        parent: (view - 1, [6; 32]),
        finalization: None,
    };
    let payload = seal.digest_of(header);
    // The proposal as simplex encodes it: epoch, view and parent view as varints, then the digest.
    let mut message = Vec::new();
    UInt(0u64).write(&mut message);
    UInt(view).write(&mut message);
    UInt(view - 1).write(&mut message);
    message.put_slice(&payload);
    let mut keys = keys();
    keys.sort_by_key(|key| key.public_key());
    let signatures = signers
        .iter()
        .map(|&i| Lazy::from(keys[i as usize].sign(namespace, &message)))
        .collect();
    seal.finalization = Some(Finalization {
        round: seal.round,
        parent_view: view - 1,
        payload,
        certificate: Certificate {
            signers: Signers::new(
                VALIDATORS as u32,
                signers.iter().map(|&i| Participant::new(i)),
            )
            .expect("signers"),
            signatures,
        },
    });
    seal
}

const FINALIZE: &[u8] = b"vellum/proofs_FINALIZE";

fn proof(count: usize, position: u32, chain: usize) -> ReceiptProof {
    let receipts = receipts(count);
    let headers = headers(&receipts, chain);
    let last = headers.last().expect("a header").clone();
    let finality = Finality {
        headers,
        seal: seal(&last, 40, &[0, 1, 3], FINALIZE).encode(),
    };
    ReceiptProof::build(&receipts, position, finality).expect("the receipt is there")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Every receipt of a block is proven, and a bundle altered in any one byte is refused.
    #[test]
    fn every_receipt_is_proven_and_no_altered_bundle_is(
        count in 1usize..40,
        pick in any::<u32>(),
        chain in 1usize..4,
    ) {
        let validators = Validators::from_genesis(&genesis()).expect("validators");
        let position = pick % count as u32;
        let bundle = proof(count, position, chain).to_bytes();
        let checked = ReceiptProof::from_bytes(&bundle)
            .expect("decodes")
            .check(&validators)
            .expect("holds");
        prop_assert_eq!(checked.header.height, 10);
        prop_assert_eq!(checked.certified_height, 10 + chain as u64 - 1);
        prop_assert_eq!(checked.signers, 3);
        for i in 0..bundle.len() {
            let mut altered = bundle.clone();
            altered[i] ^= 0x01;
            let verdict = ReceiptProof::from_bytes(&altered).and_then(|p| p.check(&validators));
            prop_assert!(verdict.is_err(), "byte {} of {} altered, still proven", i, bundle.len());
        }
    }
}

#[test]
fn a_certificate_short_of_a_quorum_or_from_another_chain_proves_nothing() {
    let validators = Validators::from_genesis(&genesis()).expect("validators");
    let receipts = receipts(3);
    let headers = headers(&receipts, 1);
    let check = |seal: Seal| {
        ReceiptProof::build(
            &receipts,
            1,
            Finality {
                headers: headers.clone(),
                seal: seal.encode(),
            },
        )
        .expect("built")
        .check(&validators)
    };
    assert!(check(seal(&headers[0], 7, &[0, 1, 2], FINALIZE)).is_ok());
    // Two of four is not a quorum (three is).
    assert_eq!(
        check(seal(&headers[0], 7, &[0, 2], FINALIZE)),
        Err(ProofError::Certificate)
    );
    // Signed on another chain, or as a notarize vote rather than a finalize one.
    assert_eq!(
        check(seal(&headers[0], 7, &[0, 1, 2], b"vellum/other_FINALIZE")),
        Err(ProofError::Certificate)
    );
    assert_eq!(
        check(seal(&headers[0], 7, &[0, 1, 2], b"vellum/proofs_NOTARIZE")),
        Err(ProofError::Certificate)
    );
    // A certificate for the block, stored without it.
    let mut bare = seal(&headers[0], 7, &[0, 1, 2], FINALIZE);
    bare.finalization = None;
    assert_eq!(check(bare), Err(ProofError::Uncertified));
    // Another genesis (other validators) does not accept it.
    let mut other = genesis();
    other.validators.remove(0);
    let others = Validators::from_genesis(&other).expect("validators");
    let proof = ReceiptProof::build(
        &receipts,
        1,
        Finality {
            headers,
            seal: seal(&receipts_header(&receipts), 7, &[0, 1, 2], FINALIZE).encode(),
        },
    )
    .expect("built");
    assert!(proof.check(&others).is_err());
}

fn receipts_header(receipts: &[Receipt]) -> Header {
    headers(receipts, 1).remove(0)
}
