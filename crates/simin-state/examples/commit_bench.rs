//! Measures `prepare` and `commit` on a file-backed store, per block of `TXS` transactions
//! each writing an anchor (and, with `WRITES_PER_TX = 2`, a nonce) and a notary index entry:
//! `cargo run --release -p simin-state --example commit_bench [TXS] [WRITES_PER_TX]`.

// An example's whole purpose is to print its measurements.
#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

use simin_state::{NotaryIndexEntry, Store, StoreError, WriteSet};
use simin_types::{
    Block, BlockHeader, BlockTime, Call, ChainId, CommitCertificate, Hash, Height, NotaryCall,
    PublicKey, Receipt, Signature, SignedTx, Tx, TxOutcome,
};

const BLOCKS: u64 = 20;

/// The `index`th command-line argument as a number, or `default`.
fn arg(index: usize, default: u64) -> u64 {
    std::env::args()
        .nth(index)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

fn main() -> Result<(), StoreError> {
    let txs_per_block = arg(1, 5_000);
    let with_nonces = arg(2, 1) >= 2;
    let dir = std::env::temp_dir().join(format!("simin-state-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("the temp dir is writable because it is ours");
    let store = Store::open(&dir.join("state.redb"))?;
    store.init_genesis(b"{}", WriteSet::new())?;
    let chain_id = ChainId::new("simin-bench-1").expect("a valid chain id because it is lowercase");
    let (mut prepare_total, mut commit_total, mut commit_max) =
        (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    for h in 1..=BLOCKS {
        let height = Height(h);
        // Per transaction: a nonce update and a notary anchor, as the ledger would write.
        let mut writes = WriteSet::new();
        let mut txs = Vec::new();
        let mut notary = Vec::new();
        for i in 0..txs_per_block {
            let document = Hash::digest_parts(&[&h.to_be_bytes(), &i.to_be_bytes()]);
            let signer = PublicKey(Hash::digest(&i.to_be_bytes()).0);
            if with_nonces {
                writes.put(
                    [b"acct/nonce/".as_slice(), &signer.0].concat(),
                    h.to_le_bytes().to_vec(),
                );
            }
            writes.put(
                [b"notary/anchor/".as_slice(), &document.0].concat(),
                vec![0; 48],
            );
            let tx = Tx {
                chain_id: chain_id.clone(),
                signer,
                nonce: h,
                expiry_height: Height(u64::MAX),
                call: Call::Notary(NotaryCall::Anchor { document }),
            };
            let tx = SignedTx {
                tx,
                signature: Signature([0; 64]),
            };
            notary.push(NotaryIndexEntry {
                document,
                batch_root: document,
                tx_hash: tx.hash(),
            });
            txs.push(tx);
        }
        let started = Instant::now();
        let prepared = store.prepare(height, &writes)?;
        let prepare_time = started.elapsed();
        let receipts: Vec<Receipt> = txs
            .iter()
            .zip(0u32..)
            .map(|(tx, index)| Receipt {
                tx_hash: tx.hash(),
                height,
                index,
                outcome: TxOutcome::Success,
            })
            .collect();
        let header = BlockHeader {
            chain_id: chain_id.clone(),
            height,
            time: BlockTime(h),
            prev_block_hash: store.block_hash(Height(h - 1))?.unwrap_or(Hash::ZERO),
            tx_root: Block::compute_tx_root(&txs),
            receipts_root: Receipt::compute_root(&receipts),
            state_root: prepared.root(),
            validators_hash: Hash::ZERO,
            proposer: PublicKey([1; 32]),
        };
        let block = Block { header, txs };
        let cert = CommitCertificate {
            height,
            round: 0,
            block_hash: block.hash(),
            signatures: vec![],
        };
        let started = Instant::now();
        store.commit(&block, &cert, &receipts, &notary, prepared)?;
        let commit_time = started.elapsed();
        println!(
            "height {h}: {} writes, prepare {:.1} ms, commit {:.1} ms",
            writes.len(),
            prepare_time.as_secs_f64() * 1e3,
            commit_time.as_secs_f64() * 1e3
        );
        prepare_total += prepare_time;
        commit_total += commit_time;
        commit_max = commit_max.max(commit_time);
    }
    let blocks = u32::try_from(BLOCKS).expect("BLOCKS is small");
    println!(
        "mean prepare {:.1} ms, mean commit {:.1} ms, max commit {:.1} ms",
        (prepare_total / blocks).as_secs_f64() * 1e3,
        (commit_total / blocks).as_secs_f64() * 1e3,
        commit_max.as_secs_f64() * 1e3
    );
    std::fs::remove_dir_all(&dir).expect("removing our own temp dir");
    Ok(())
}
