//! Byzantine validators built from real parts: a proposer that corrupts the real application's
//! blocks, and a peer that floods the transaction gossip channel.

use super::*;

/// A Byzantine proposer: the real application, whose proposals it corrupts.
#[derive(Clone)]
pub(crate) struct Tampering {
    pub(crate) inner: Application,
    pub(crate) tamper: Tamper,
}

impl commonware_consensus::Application<Context> for Tampering {
    type SigningScheme = Scheme;
    type Context = consensus::Context;
    type Block = RoundBlock;
    type Input = ();

    async fn propose(
        &mut self,
        context: (Context, consensus::Context),
        ancestry: impl Ancestry<RoundBlock>,
        input: (),
    ) -> Option<Digested<RoundBlock>> {
        let round = context.1.clone();
        let honest = self.inner.propose(context, ancestry, input).await?;
        let block = honest.inner();
        let mut ledger = block.ledger().clone();
        let mut receipts = block.receipts().to_vec();
        match self.tamper {
            Tamper::StateRoot => ledger.header.state_root[0] ^= 1,
            Tamper::TimeStep => ledger.header.time_ms += 61_000,
            Tamper::Oversized => {
                ledger.transactions = (0..=BLOCK_TRANSACTIONS_MAX as u64)
                    .map(|n| {
                        testing::sign(
                            2,
                            n,
                            Action::ApproveCode {
                                code_hash: [n as u8; 32],
                            },
                        )
                    })
                    .collect();
                receipts = vec![[0; 32]; ledger.transactions.len()];
                ledger.header.transactions_root = merkle_root(
                    ledger
                        .transactions
                        .iter()
                        .map(|t| t.hash())
                        .collect::<Vec<_>>()
                        .into_iter(),
                );
                ledger.header.receipts_root = merkle_root(receipts.iter().copied());
            }
            Tamper::Signature => match ledger.transactions.first_mut() {
                Some(transaction) => {
                    transaction.signature[5] ^= 1;
                    ledger.header.transactions_root = merkle_root(
                        ledger
                            .transactions
                            .iter()
                            .map(|t| t.hash())
                            .collect::<Vec<_>>()
                            .into_iter(),
                    );
                }
                None => ledger.header.state_root[0] ^= 1,
            },
        }
        let block = RoundBlock::assemble(round, ledger, receipts);
        let digest = block.digest();
        Some(Digested::precomputed(block, digest))
    }

    async fn verify(
        &mut self,
        context: (Context, consensus::Context),
        ancestry: impl Ancestry<RoundBlock>,
    ) -> bool {
        self.inner.verify(context, ancestry).await
    }
}

/// A Byzantine peer's gossip: every 10 ms a batch from a stranger, then a batch of a member's
/// transactions with nonces far ahead (an honest peer could send either), then `junk`, in turn.
pub(crate) fn flood(context: Context, (mut sender, _receiver): (Sender, Receiver), junk: Junk) {
    use commonware_p2p::{Recipients, Sender as _};
    context.spawn(move |context| async move {
        let stranger: Vec<_> = (0..1024)
            .map(|n| testing::sign(9, n, Action::ApproveCode { code_hash: [1; 32] }))
            .collect();
        let ahead: Vec<_> = (0..1024)
            .map(|n| testing::sign(2, 1_000_000 + n, Action::ApproveCode { code_hash: [2; 32] }))
            .collect();
        let junk = match junk {
            Junk::Garbage => vec![0xff; 4096],
            Junk::Forged => {
                let forged: Vec<_> = (0..16)
                    .map(|n| {
                        let mut t = testing::sign(3, n, Action::ApproveCode { code_hash: [3; 32] });
                        t.signature[5] ^= 1;
                        t
                    })
                    .collect();
                borsh::to_vec(&forged).expect("encode")
            }
        };
        let batches = [
            borsh::to_vec(&stranger).expect("encode"),
            borsh::to_vec(&ahead).expect("encode"),
            junk,
        ];
        for round in 0usize.. {
            context.sleep(Duration::from_millis(10)).await;
            sender.send(Recipients::All, batches[round % 3].clone(), false);
        }
    });
}

/// A contract whose `execute.spin` loops until its fuel runs out.
fn spinner() -> Vec<u8> {
    wat::parse_str(
        r#"(module
             (memory (export "memory") 1)
             (func (export "instantiate"))
             (func (export "execute.spin") (loop $l (br $l))))"#,
    )
    .expect("valid wat")
}

/// What members can do through transactions alone, all at once. Key 2 (bank-b's admin)
/// deploys a spinner and the points contract, then every 100 ms sends a spin with the chain's
/// maximum fuel and an issuer registration whose receipt passes the chain's receipt limit.
/// Key 4 (bank-c's admin) sends, every 100 ms, four deploys of 64 KiB of junk with the maximum
/// fuel and nonces past a gap it never fills. Returns the hashes of the gapped transactions,
/// oldest first.
pub(crate) fn member_attack(
    context: Context,
    submitters: Vec<Submitter>,
    fuel_max: u64,
) -> Arc<Mutex<Vec<Hash>>> {
    let gapped = Arc::new(Mutex::new(Vec::new()));
    let sent = gapped.clone();
    context.spawn(move |context| async move {
        let mut target = 0;
        let mut submit = |transaction: SignedTransaction| {
            target = (target + 1) % submitters.len();
            submitters[target].submit(transaction).ok()
        };
        let deploy = |code| Action::Deploy {
            code,
            init_args: "{}".into(),
        };
        let mut nonce = 0;
        for code in [spinner(), testing::artifact("points")] {
            while submit(testing::sign(2, nonce, deploy(code.clone()))).is_none() {
                context.sleep(Duration::from_millis(100)).await;
            }
            nonce += 1;
        }
        let attacker = address_of(&public_key(&testing::key(2)));
        let spinner = contract_address(&attacker, 0);
        let points = contract_address(&attacker, 1);
        let call = |contract, method: &str, args: serde_json::Value| Action::Call {
            contract,
            method: method.into(),
            args: args.to_string(),
        };
        let mut gap = 1;
        for round in 0u64.. {
            context.sleep(Duration::from_millis(100)).await;
            let spin =
                testing::sign_with_fuel(2, nonce, fuel_max, call(spinner, "spin", json!({})));
            if submit(spin).is_some() {
                nonce += 1;
            }
            let name = "x".repeat(5_000);
            let admin = hex(&attacker);
            let args = json!({"id": format!("i{round}"), "name": name, "admin": admin});
            let oversized = testing::sign(2, nonce, call(points, "register_issuer", args));
            if submit(oversized).is_some() {
                nonce += 1;
            }
            for _ in 0..4 {
                let junk = vec![round as u8; 64 << 10];
                let flood = testing::sign_with_fuel(4, gap, fuel_max, deploy(junk));
                gap += 1;
                if let Some(hash) = submit(flood) {
                    sent.lock().expect("lock").push(hash);
                }
            }
        }
    });
    gapped
}
