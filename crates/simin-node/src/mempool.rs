//! The mempool: admitted transactions waiting for a block, bounded in count and bytes.
//!
//! Admission (signature, chain id, size, expiry, nonce against the committed state) is
//! done by `simin_ledger::check_tx` before a transaction gets here; the mempool adds what
//! only it can know: duplicates, a nonce already taken by a waiting transaction, the
//! window of future nonces it will hold, and its own capacity. Transactions of one signer
//! leave in nonce order, so a client may submit a burst of sequential nonces concurrently.

use std::collections::{BTreeMap, HashMap};

use simin_types::{Hash, Height, PublicKey, SignedTx};

/// Capacity and policy of a mempool.
#[derive(Clone, Copy, Debug)]
pub struct MempoolLimits {
    pub txs_max: usize,
    pub bytes_max: usize,
    /// How far past an account's next nonce a waiting transaction may be.
    pub nonce_window: u64,
}

impl Default for MempoolLimits {
    fn default() -> Self {
        MempoolLimits {
            txs_max: 100_000,
            bytes_max: 128 * 1024 * 1024,
            nonce_window: 10_000,
        }
    }
}

/// Why the mempool refused a transaction that passed the ledger's admission check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MempoolError {
    #[error("transaction {0} is already in the mempool")]
    Duplicate(Hash),
    #[error("nonce {nonce} of {signer} is already taken by a waiting transaction")]
    NonceTaken { signer: PublicKey, nonce: u64 },
    #[error("nonce {got} is too far ahead of the account's next nonce {next} (window {window})")]
    NonceTooHigh { got: u64, next: u64, window: u64 },
    #[error("mempool is full ({txs} transactions, {bytes} bytes)")]
    Full { txs: usize, bytes: usize },
}

#[derive(Debug)]
struct Entry {
    tx: SignedTx,
    size: usize,
}

/// Transactions waiting for a block, indexed by hash and by (signer, nonce).
#[derive(Debug, Default)]
pub struct Mempool {
    limits: MempoolLimits,
    by_hash: HashMap<Hash, Entry>,
    by_signer: BTreeMap<PublicKey, BTreeMap<u64, Hash>>,
    bytes: usize,
}

impl Mempool {
    pub fn new(limits: MempoolLimits) -> Mempool {
        Mempool {
            limits,
            ..Mempool::default()
        }
    }

    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn contains(&self, hash: &Hash) -> bool {
        self.by_hash.contains_key(hash)
    }

    /// The nonce of `signer`'s next transaction: after its waiting transactions that
    /// follow `committed_next` (its next nonce in the committed state) without a gap.
    pub fn next_nonce(&self, signer: &PublicKey, committed_next: u64) -> u64 {
        let mut next = committed_next;
        if let Some(nonces) = self.by_signer.get(signer) {
            // Each turn moves past one waiting nonce, so the loop is bounded by their number.
            for nonce in nonces.range(committed_next..).map(|(n, _)| *n) {
                if nonce != next {
                    break;
                }
                match next.checked_add(1) {
                    Some(after) => next = after,
                    None => break,
                }
            }
        }
        next
    }

    /// Adds an admitted transaction; `next_nonce` is its signer's next nonce in the
    /// committed state, as `check_tx` found it.
    pub fn insert(
        &mut self,
        tx: SignedTx,
        hash: Hash,
        size: usize,
        next_nonce: u64,
    ) -> Result<(), MempoolError> {
        if self.by_hash.contains_key(&hash) {
            return Err(MempoolError::Duplicate(hash));
        }
        let signer = tx.tx.signer;
        let nonce = tx.tx.nonce;
        if nonce.saturating_sub(next_nonce) >= self.limits.nonce_window {
            return Err(MempoolError::NonceTooHigh {
                got: nonce,
                next: next_nonce,
                window: self.limits.nonce_window,
            });
        }
        if self
            .by_signer
            .get(&signer)
            .is_some_and(|nonces| nonces.contains_key(&nonce))
        {
            return Err(MempoolError::NonceTaken { signer, nonce });
        }
        let bytes_after = self.bytes.saturating_add(size);
        if self.by_hash.len() >= self.limits.txs_max || bytes_after > self.limits.bytes_max {
            return Err(MempoolError::Full {
                txs: self.by_hash.len(),
                bytes: self.bytes,
            });
        }
        self.by_signer
            .entry(signer)
            .or_default()
            .insert(nonce, hash);
        self.by_hash.insert(hash, Entry { tx, size });
        self.bytes = bytes_after;
        Ok(())
    }

    /// Candidates for the next block: for each signer, its waiting transactions in nonce
    /// order from the first one, as long as the nonces are consecutive; at most `txs_max`
    /// transactions and `bytes_max` bytes. The ledger makes the final choice.
    pub fn reap(&self, txs_max: usize, bytes_max: usize) -> Vec<SignedTx> {
        let mut out = Vec::new();
        let mut bytes = 0usize;
        for nonces in self.by_signer.values() {
            let mut expected = None;
            for (nonce, hash) in nonces {
                if expected.is_some_and(|e| e != *nonce) {
                    break;
                }
                let entry = &self.by_hash[hash];
                if out.len() >= txs_max || bytes.saturating_add(entry.size) > bytes_max {
                    return out;
                }
                bytes += entry.size;
                out.push(entry.tx.clone());
                expected = nonce.checked_add(1);
            }
        }
        out
    }

    /// Removes what a committed block made stale: its own transactions, and for every
    /// signer it touched, transactions below the signer's new next nonce; then those that
    /// expired before `next_height`. `next_nonce` reads the committed state.
    pub fn on_commit(
        &mut self,
        committed: &[SignedTx],
        next_height: Height,
        next_nonce: impl Fn(&PublicKey) -> u64,
    ) {
        for tx in committed {
            let signer = tx.tx.signer;
            let keep_from = next_nonce(&signer);
            if let Some(nonces) = self.by_signer.get_mut(&signer) {
                let stale: Vec<u64> = nonces.range(..keep_from).map(|(n, _)| *n).collect();
                for nonce in stale {
                    if let Some(hash) = nonces.remove(&nonce) {
                        if let Some(entry) = self.by_hash.remove(&hash) {
                            self.bytes -= entry.size;
                        }
                    }
                }
                if nonces.is_empty() {
                    self.by_signer.remove(&signer);
                }
            }
        }
        let expired: Vec<Hash> = self
            .by_hash
            .iter()
            .filter(|(_, e)| e.tx.tx.expiry_height < next_height)
            .map(|(h, _)| *h)
            .collect();
        for hash in expired {
            self.remove(&hash);
        }
        debug_assert_eq!(
            self.by_hash.len(),
            self.by_signer.values().map(BTreeMap::len).sum::<usize>(),
            "both indexes hold the same transactions"
        );
    }

    /// Drops transactions that can never be included (the proposer found them invalid).
    pub fn remove_all(&mut self, hashes: &[Hash]) {
        for hash in hashes {
            self.remove(hash);
        }
    }

    fn remove(&mut self, hash: &Hash) {
        if let Some(entry) = self.by_hash.remove(hash) {
            self.bytes -= entry.size;
            let signer = entry.tx.tx.signer;
            if let Some(nonces) = self.by_signer.get_mut(&signer) {
                nonces.remove(&entry.tx.tx.nonce);
                if nonces.is_empty() {
                    self.by_signer.remove(&signer);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use simin_types::{Call, ChainId, NotaryCall, SigningKey, Tx};

    use super::*;

    fn tx(key: &SigningKey, nonce: u64, expiry: u64) -> SignedTx {
        Tx {
            chain_id: ChainId::new("test").expect("valid id"),
            signer: key.public_key(),
            nonce,
            expiry_height: Height(expiry),
            call: Call::Notary(NotaryCall::Anchor {
                document: Hash::digest(&nonce.to_le_bytes()),
            }),
        }
        .sign(key)
    }

    fn add(pool: &mut Mempool, tx: SignedTx, next: u64) -> Result<(), MempoolError> {
        let size = tx.encode().len();
        pool.insert(tx.clone(), tx.hash(), size, next)
    }

    #[test]
    fn refuses_duplicates_taken_nonces_far_nonces_and_overflow() {
        let key = SigningKey::from_seed([1; 32]);
        let limits = MempoolLimits {
            txs_max: 3,
            bytes_max: usize::MAX,
            nonce_window: 5,
        };
        let mut pool = Mempool::new(limits);
        add(&mut pool, tx(&key, 0, 10), 0).expect("first is admitted");
        assert!(matches!(
            add(&mut pool, tx(&key, 0, 10), 0),
            Err(MempoolError::Duplicate(_))
        ));
        assert!(matches!(
            add(&mut pool, tx(&key, 0, 11), 0),
            Err(MempoolError::NonceTaken { .. })
        ));
        assert!(matches!(
            add(&mut pool, tx(&key, 5, 10), 0),
            Err(MempoolError::NonceTooHigh { .. })
        ));
        add(&mut pool, tx(&key, 1, 10), 0).expect("admitted");
        add(&mut pool, tx(&key, 2, 10), 0).expect("admitted");
        assert!(matches!(
            add(&mut pool, tx(&key, 3, 10), 0),
            Err(MempoolError::Full { .. })
        ));
        assert_eq!(pool.len(), 3);
    }

    #[test]
    fn reaps_consecutive_nonces_only_and_respects_limits() {
        let a = SigningKey::from_seed([1; 32]);
        let b = SigningKey::from_seed([2; 32]);
        let mut pool = Mempool::new(MempoolLimits::default());
        for nonce in [0, 1, 3] {
            add(&mut pool, tx(&a, nonce, 10), 0).expect("admitted");
        }
        add(&mut pool, tx(&b, 0, 10), 0).expect("admitted");
        let reaped = pool.reap(100, usize::MAX);
        assert_eq!(reaped.len(), 3, "nonce 3 waits for nonce 2");
        assert_eq!(pool.reap(1, usize::MAX).len(), 1);
        assert!(pool.reap(100, 10).is_empty(), "no tx fits in 10 bytes");
        assert_eq!(
            pool.next_nonce(&a.public_key(), 0),
            2,
            "the gap at 2 is next"
        );
        assert_eq!(pool.next_nonce(&a.public_key(), 3), 4);
        assert_eq!(pool.next_nonce(&a.public_key(), 5), 5);
        let c = SigningKey::from_seed([3; 32]);
        assert_eq!(pool.next_nonce(&c.public_key(), 7), 7);
    }

    #[test]
    fn commit_removes_included_stale_and_expired() {
        let a = SigningKey::from_seed([1; 32]);
        let b = SigningKey::from_seed([2; 32]);
        let mut pool = Mempool::new(MempoolLimits::default());
        let included = tx(&a, 0, 10);
        add(&mut pool, included.clone(), 0).expect("admitted");
        add(&mut pool, tx(&a, 1, 10), 0).expect("admitted");
        add(&mut pool, tx(&b, 0, 2), 0).expect("admitted");
        pool.on_commit(&[included], Height(3), |_| 1);
        assert_eq!(pool.len(), 1, "a's nonce 1 stays; b's expired");
        let before = pool.bytes();
        assert!(before > 0);
        pool.on_commit(&[tx(&a, 1, 10)], Height(3), |_| 2);
        assert!(pool.is_empty());
        assert_eq!(pool.bytes(), 0);
    }
}
