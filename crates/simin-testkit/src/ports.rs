//! Blocks of loopback ports, one per network, so tests in parallel processes never share
//! a port.
//!
//! A network of `n` nodes uses `base..base+n` for APIs and `base+100..base+100+n` for
//! peer-to-peer (the layout of `simin testnet init`). Blocks are 200 ports wide, below
//! Linux's ephemeral range (32768+) so that outgoing connections never take them, and
//! claimed with a lock file in the temp dir (released on drop, reclaimed when stale);
//! every port is also checked free by binding it.

use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};
use std::path::PathBuf;
use std::time::Duration;

use rand::Rng;

use crate::TestkitError;

/// First port of the first block.
const FIRST_PORT: u16 = 12_000;
/// Width of one block: API ports, then peer-to-peer ports at +100.
const BLOCK_PORTS: u16 = 200;
/// Number of blocks: 12000 + 100 * 200 = 32000, below the ephemeral range.
const BLOCKS: u16 = 100;
/// Most nodes in one block.
pub(crate) const NODES_MAX: usize = 100;
/// A lock older than this was left by a killed test run.
const STALE_LOCK: Duration = Duration::from_secs(30 * 60);
/// Attempts before giving up.
const TRIES: usize = 200;

/// A claimed block of ports; the claim is released on drop.
#[derive(Debug)]
pub struct PortBlock {
    base: u16,
    lock: PathBuf,
}

impl PortBlock {
    /// Claims a block for `nodes` nodes (each an API and a peer-to-peer port).
    pub fn claim(nodes: usize) -> Result<PortBlock, TestkitError> {
        if nodes == 0 || nodes > NODES_MAX {
            return Err(TestkitError::Invalid {
                what: "node count",
                reason: format!("{nodes}: a port block holds 1 to {NODES_MAX} nodes"),
            });
        }
        let dir = std::env::temp_dir().join("simin-testkit-ports");
        std::fs::create_dir_all(&dir).map_err(TestkitError::io("create", &dir))?;
        let mut rng = rand::thread_rng();
        for _ in 0..TRIES {
            let slot = rng.gen_range(0..BLOCKS);
            let base = FIRST_PORT + slot * BLOCK_PORTS;
            let lock = dir.join(format!("{base}.lock"));
            if !take_lock(&lock) {
                continue;
            }
            let block = PortBlock { base, lock };
            if block.all_free(nodes) {
                return Ok(block);
            }
        }
        Err(TestkitError::NoFreePorts {
            count: nodes * 2,
            tries: TRIES,
        })
    }

    /// The first API port; node `i` serves on `base + i`.
    pub fn base(&self) -> u16 {
        self.base
    }

    fn all_free(&self, nodes: usize) -> bool {
        let offsets = (0..nodes).flat_map(|i| [i, i + 100]);
        // All listeners are held at once, so each port is checked while the others are taken.
        let listeners: Vec<_> = offsets
            .map(|o| {
                let offset = u16::try_from(o)
                    .expect("offsets are below 200 because nodes <= NODES_MAX was checked");
                TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, self.base + offset))
            })
            .collect();
        listeners.iter().all(Result::is_ok)
    }
}

/// Creates `lock`, or replaces it if it is stale; false when another test holds it.
fn take_lock(lock: &PathBuf) -> bool {
    let create = || {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(lock)
            .is_ok()
    };
    if create() {
        return true;
    }
    let stale = std::fs::metadata(lock)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age > STALE_LOCK);
    stale && std::fs::remove_file(lock).is_ok() && create()
}

impl Drop for PortBlock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.lock);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_distinct_and_released() {
        let a = PortBlock::claim(4).expect("a block");
        let b = PortBlock::claim(4).expect("another block");
        assert_ne!(a.base(), b.base());
        assert!(a.base() >= FIRST_PORT && a.base() < 32_768 - BLOCK_PORTS);
        let lock = a.lock.clone();
        drop(a);
        assert!(!lock.exists());
        assert!(PortBlock::claim(0).is_err());
    }
}
