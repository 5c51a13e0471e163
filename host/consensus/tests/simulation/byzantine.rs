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
