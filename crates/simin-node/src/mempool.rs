//! The mempool: admitted transactions waiting for a block, bounded in count and bytes.
//!
//! Admission (signature, chain id, size, expiry, nonce, the signer's standing for the
//! call) is done by `simin_ledger::check_tx` before a transaction gets here; the mempool
//! adds what only it can know: duplicates, a nonce already taken by a waiting
//! transaction, the window of future nonces it will hold, how long a transaction may
//! wait behind a nonce gap, how many open transactions (calls open to unregistered keys,
//! ADR 0011) one signer or one client address may have waiting, and its own capacity.
//! Transactions of one signer leave in nonce order, so a client may submit a burst of
//! sequential nonces concurrently.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use simin_ledger::{Standing, TxCheck};
use simin_types::{Hash, Height, PublicKey, SignedTx};

/// Most open transactions one signer may have waiting (see [`MempoolLimits`]).
pub const OPEN_SIGNER_TXS_MAX: usize = 64;
/// Most open transactions one client address may have waiting.
pub const OPEN_SOURCE_TXS_MAX: usize = 256;
/// Most heights a transaction may wait behind a nonce gap before it is dropped.
pub const PARKED_HEIGHTS_MAX: u64 = 100;

/// Capacity and policy of a mempool.
#[derive(Clone, Copy, Debug)]
pub struct MempoolLimits {
    pub txs_max: usize,
    pub bytes_max: usize,
    /// How far past an account's next nonce a waiting transaction may be: nonces from
    /// `next` to `next + nonce_window` are held, `next + nonce_window + 1` is too high.
    pub nonce_window: u64,
    /// Most waiting transactions of one signer whose calls are open to unregistered keys.
    /// Role holders are bounded by the window instead: an organisation's pipeline (the
    /// notary load, a provider's access log, a sensor fleet) keeps thousands in flight,
    /// and the city can deactivate an organisation that abuses it.
    pub open_signer_txs_max: usize,
    /// Most waiting open transactions submitted from one client address.
    pub open_source_txs_max: usize,
    /// How many heights a transaction behind a nonce gap is kept: one admitted while
    /// waiting at height h is dropped at the first commit for a height above
    /// `h + parked_heights_max` if its gap is still open.
    pub parked_heights_max: u64,
}

impl Default for MempoolLimits {
    fn default() -> Self {
        MempoolLimits {
            txs_max: 100_000,
            bytes_max: 128 * 1024 * 1024,
            nonce_window: 10_000,
            open_signer_txs_max: OPEN_SIGNER_TXS_MAX,
            open_source_txs_max: OPEN_SOURCE_TXS_MAX,
            parked_heights_max: PARKED_HEIGHTS_MAX,
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
    #[error("{signer} already has {max} open transactions waiting")]
    SignerBusy { signer: PublicKey, max: usize },
    #[error("client {address} already has {max} open transactions waiting")]
    SourceBusy { address: IpAddr, max: usize },
}

#[derive(Debug)]
struct Entry {
    tx: SignedTx,
    size: usize,
    open: bool,
    source: Option<IpAddr>,
    /// The height the transaction was admitted for: where its wait behind a gap starts.
    since: Height,
}

/// One signer's waiting transactions.
#[derive(Debug, Default)]
struct Account {
    /// The signer's next nonce in the committed state, as last learnt.
    committed_next: u64,
    nonces: BTreeMap<u64, Hash>,
    open: usize,
}

impl Account {
    /// The nonce after the waiting transactions that follow `committed_next` without a gap.
    fn run_end(&self) -> u64 {
        run_end(&self.nonces, self.committed_next)
    }
}

/// The nonce after the nonces of `nonces` that follow `from` without a gap.
fn run_end(nonces: &BTreeMap<u64, Hash>, from: u64) -> u64 {
    let mut next = from;
    // Each turn moves past one waiting nonce, so the loop is bounded by their number.
    for nonce in nonces.range(from..).map(|(n, _)| *n) {
        if nonce != next {
            break;
        }
        match next.checked_add(1) {
            Some(after) => next = after,
            None => break,
        }
    }
    next
}

/// Transactions waiting for a block, indexed by hash, by (signer, nonce) and by source.
#[derive(Debug, Default)]
pub struct Mempool {
    limits: MempoolLimits,
    by_hash: HashMap<Hash, Entry>,
    by_signer: BTreeMap<PublicKey, Account>,
    /// Open transactions waiting per client address.
    open_by_source: HashMap<IpAddr, usize>,
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
        self.by_signer
            .get(signer)
            .map_or(committed_next, |account| {
                run_end(&account.nonces, committed_next)
            })
    }

    /// Adds a transaction `check_tx` admitted for `next_height`; `source` is the client
    /// address it came from, `None` for the node's own and relayed transactions.
    pub fn insert(
        &mut self,
        tx: SignedTx,
        check: &TxCheck,
        next_height: Height,
        source: Option<IpAddr>,
    ) -> Result<(), MempoolError> {
        let hash = check.tx_hash;
        if self.by_hash.contains_key(&hash) {
            return Err(MempoolError::Duplicate(hash));
        }
        let signer = tx.tx.signer;
        let nonce = tx.tx.nonce;
        let next = check.next_nonce;
        if nonce.saturating_sub(next) > self.limits.nonce_window {
            return Err(MempoolError::NonceTooHigh {
                got: nonce,
                next,
                window: self.limits.nonce_window,
            });
        }
        let account = self.by_signer.get(&signer);
        if account.is_some_and(|a| a.nonces.contains_key(&nonce)) {
            return Err(MempoolError::NonceTaken { signer, nonce });
        }
        let open = check.standing == Standing::Open;
        if open {
            let max = self.limits.open_signer_txs_max;
            if account.is_some_and(|a| a.open >= max) {
                return Err(MempoolError::SignerBusy { signer, max });
            }
            let max = self.limits.open_source_txs_max;
            if let Some(address) = source {
                if self.open_by_source.get(&address).is_some_and(|n| *n >= max) {
                    return Err(MempoolError::SourceBusy { address, max });
                }
            }
        }
        let size = check.encoded_len;
        let bytes_after = self.bytes.saturating_add(size);
        if self.by_hash.len() >= self.limits.txs_max || bytes_after > self.limits.bytes_max {
            return Err(MempoolError::Full {
                txs: self.by_hash.len(),
                bytes: self.bytes,
            });
        }
        let account = self.by_signer.entry(signer).or_default();
        // The committed state only moves forward, so the larger of two readings is newer.
        account.committed_next = account.committed_next.max(next);
        account.nonces.insert(nonce, hash);
        if open {
            account.open += 1;
            if let Some(source) = source {
                *self.open_by_source.entry(source).or_default() += 1;
            }
        }
        let entry = Entry {
            tx,
            size,
            open,
            source: source.filter(|_| open),
            since: next_height,
        };
        self.by_hash.insert(hash, entry);
        self.bytes = bytes_after;
        Ok(())
    }

    /// Candidates for the next block: for each signer, its waiting transactions in nonce
    /// order from the first one, as long as the nonces are consecutive; at most `txs_max`
    /// transactions and `bytes_max` bytes. The ledger makes the final choice.
    pub fn reap(&self, txs_max: usize, bytes_max: usize) -> Vec<SignedTx> {
        let mut out = Vec::new();
        let mut bytes = 0usize;
        for account in self.by_signer.values() {
            let mut expected = None;
            for (nonce, hash) in &account.nonces {
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
    /// expired before `next_height`, and those that waited behind a nonce gap for more
    /// than `parked_heights_max` heights. `next_nonce` reads the committed state.
    pub fn on_commit(
        &mut self,
        committed: &[SignedTx],
        next_height: Height,
        next_nonce: impl Fn(&PublicKey) -> u64,
    ) {
        let mut stale = Vec::new();
        for tx in committed {
            let signer = tx.tx.signer;
            if let Some(account) = self.by_signer.get_mut(&signer) {
                let keep_from = next_nonce(&signer);
                account.committed_next = account.committed_next.max(keep_from);
                stale.extend(account.nonces.range(..keep_from).map(|(_, h)| *h));
            }
        }
        let parked_until = next_height.0.saturating_sub(self.limits.parked_heights_max);
        for account in self.by_signer.values() {
            let run_end = account.run_end();
            // Nonces past the run wait behind a gap; the first ones admitted go first.
            for (_, hash) in account.nonces.range(run_end..) {
                if self.by_hash[hash].since.0 < parked_until {
                    stale.push(*hash);
                }
            }
        }
        stale.extend(
            self.by_hash
                .iter()
                .filter(|(_, e)| e.tx.tx.expiry_height < next_height)
                .map(|(h, _)| *h),
        );
        for hash in stale {
            self.remove(&hash);
        }
        debug_assert_eq!(
            self.by_hash.len(),
            self.by_signer
                .values()
                .map(|a| a.nonces.len())
                .sum::<usize>(),
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
        let Some(entry) = self.by_hash.remove(hash) else {
            return;
        };
        self.bytes -= entry.size;
        if let Some(source) = entry.source {
            if let Some(count) = self.open_by_source.get_mut(&source) {
                *count -= 1;
                if *count == 0 {
                    self.open_by_source.remove(&source);
                }
            }
        }
        let signer = entry.tx.tx.signer;
        if let Some(account) = self.by_signer.get_mut(&signer) {
            account.nonces.remove(&entry.tx.tx.nonce);
            if entry.open {
                account.open -= 1;
            }
            if account.nonces.is_empty() {
                self.by_signer.remove(&signer);
            }
        }
    }
}

#[cfg(test)]
mod tests;
