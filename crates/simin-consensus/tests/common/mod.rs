//! A toy counter application and helpers to run validators in one process.

#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use simin_consensus::{Application, ConsensusConfig};
use simin_types::{
    Block, BlockHeader, BlockTime, ChainId, CommitCertificate, Equivocation, Hash, Height,
    SigningKey, Validator, ValidatorSet,
};

/// Why the toy application refused a block.
#[derive(Debug, thiserror::Error)]
pub enum ToyError {
    #[error("block does not extend the chain: {0}")]
    NotNext(String),
    #[error("state root {got} differs from the expected {expected}")]
    StateRoot { got: Hash, expected: Hash },
}

/// What one node has committed, shared with the test.
pub type Log = Arc<Mutex<Vec<(Block, CommitCertificate)>>>;
/// The equivocations a node's engine reported, shared with the test.
pub type Evidence = Arc<Mutex<Vec<Equivocation>>>;

/// A counter chain: the state after height h is h, its root is SHA-256 of h.
pub struct ToyApp {
    pub chain_id: ChainId,
    pub validators: ValidatorSet,
    pub key: SigningKey,
    pub log: Log,
    pub evidence: Evidence,
}

fn state_root(height: Height) -> Hash {
    Hash::digest(&height.0.to_be_bytes())
}

impl ToyApp {
    fn tip(&self) -> Option<(Block, CommitCertificate)> {
        self.log
            .lock()
            .expect("the log lock is never poisoned because tests do not panic holding it")
            .last()
            .cloned()
    }
}

impl Application for ToyApp {
    type Error = ToyError;

    fn last_committed(&self) -> Option<(Height, Hash)> {
        self.tip()
            .map(|(block, _)| (block.header.height, block.hash()))
    }

    fn validator_set(&self, _height: Height) -> Result<ValidatorSet, ToyError> {
        Ok(self.validators.clone())
    }

    fn propose(&mut self, height: Height, _round: u32, time: BlockTime) -> Result<Block, ToyError> {
        let (prev_block_hash, prev_time) = match self.tip() {
            Some((block, _)) => (block.hash(), block.header.time.0),
            None => (Hash::ZERO, 0),
        };
        Ok(Block {
            header: BlockHeader {
                chain_id: self.chain_id.clone(),
                height,
                time: BlockTime(time.0.max(prev_time + 1)),
                prev_block_hash,
                tx_root: Block::compute_tx_root(&[]),
                receipts_root: Hash::ZERO,
                state_root: state_root(height),
                validators_hash: self.validators.hash(),
                proposer: self.key.public_key(),
            },
            txs: Vec::new(),
        })
    }

    fn validate(&mut self, block: &Block) -> Result<(), ToyError> {
        let (expected_height, prev) = match self.tip() {
            Some((tip, _)) => (Height(tip.header.height.0 + 1), tip.hash()),
            None => (Height(1), Hash::ZERO),
        };
        if block.header.height != expected_height || block.header.prev_block_hash != prev {
            return Err(ToyError::NotNext(format!("height {}", block.header.height)));
        }
        let expected = state_root(block.header.height);
        if block.header.state_root != expected {
            return Err(ToyError::StateRoot {
                got: block.header.state_root,
                expected,
            });
        }
        Ok(())
    }

    fn commit(&mut self, block: Block, certificate: CommitCertificate) -> Result<(), ToyError> {
        self.validate(&block)?;
        self.log
            .lock()
            .expect("the log lock is never poisoned")
            .push((block, certificate));
        Ok(())
    }

    fn decided(&self, height: Height) -> Option<(Block, CommitCertificate)> {
        let log = self.log.lock().expect("the log lock is never poisoned");
        let index = usize::try_from(height.0).ok()?.checked_sub(1)?;
        log.get(index).cloned()
    }

    fn on_evidence(&mut self, evidence: Vec<Equivocation>) {
        self.evidence
            .lock()
            .expect("the evidence lock is never poisoned")
            .extend(evidence);
    }
}

pub fn chain_id() -> ChainId {
    ChainId::new("simin-test").expect("a valid chain id")
}

pub fn keys(n: u8) -> Vec<SigningKey> {
    (1..=n).map(|i| SigningKey::from_seed([i; 32])).collect()
}

pub fn validator_set(keys: &[SigningKey]) -> ValidatorSet {
    ValidatorSet::new(
        keys.iter()
            .map(|k| Validator {
                public_key: k.public_key(),
                voting_power: 10,
            })
            .collect(),
    )
    .expect("a valid validator set")
}

/// A free loopback port (the OS picks it; it is released before the engine binds it).
pub fn free_addr() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding an ephemeral port works");
    listener
        .local_addr()
        .expect("a bound listener has an address")
}

pub fn config(
    moniker: &str,
    home: &Path,
    listen: SocketAddr,
    peers: Vec<SocketAddr>,
) -> ConsensusConfig {
    ConsensusConfig {
        moniker: moniker.into(),
        wal_dir: home.join(moniker).join("wal"),
        listen_addr: listen,
        persistent_peers: peers
            .into_iter()
            .map(|address| simin_consensus::PersistentPeer {
                address,
                peer_id: None,
            })
            .collect(),
        block_interval_ms: 100,
        ..ConsensusConfig::default()
    }
}

pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("warn,simin_consensus=info")
            }),
        )
        .with_test_writer()
        .try_init();
}

/// Polls `done` every 50 ms until it holds or `limit` passes; true if it held.
pub async fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    done()
}

/// Checks a committed chain: consecutive heights from 1, linked hashes, valid certificates.
pub fn check_chain(log: &[(Block, CommitCertificate)], chain_id: &ChainId, set: &ValidatorSet) {
    let mut prev = Hash::ZERO;
    for (index, (block, cert)) in log.iter().enumerate() {
        let height = Height(u64::try_from(index).expect("a small index fits in u64") + 1);
        assert_eq!(
            block.header.height, height,
            "heights are consecutive from 1"
        );
        assert_eq!(block.header.prev_block_hash, prev, "blocks are linked");
        cert.verify(chain_id, height, &block.hash(), set)
            .unwrap_or_else(|e| panic!("certificate of height {height} must verify: {e}"));
        prev = block.hash();
    }
}
