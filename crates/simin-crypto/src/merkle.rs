//! Binary Merkle trees as specified for Certificate Transparency (RFC 9162, section 2.1).
//!
//! Leaves and interior nodes are hashed with distinct prefixes (0x00, 0x01), so a leaf can
//! never pass for a node. Used for the transactions of a block and for notary batches.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::{CryptoError, Hash};

/// Hash of one leaf: `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    Hash::digest_parts(&[&[0x00], data])
}

/// Hash of an interior node: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    Hash::digest_parts(&[&[0x01], &left.0, &right.0])
}

/// The Merkle tree hash of leaves already hashed with [`leaf_hash`]. The empty tree's
/// hash is `SHA-256("")`, as in RFC 9162.
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Hash::digest(b""),
        1 => leaves[0],
        n => {
            let k = split_point(n);
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// The largest power of two smaller than `n` (for `n >= 2`).
fn split_point(n: usize) -> usize {
    debug_assert!(n >= 2);
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// An inclusion proof (audit path) for one leaf of a tree of `tree_size` leaves.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct InclusionProof {
    pub leaf_index: u64,
    pub tree_size: u64,
    /// Sibling hashes from the leaf up to the root.
    pub path: Vec<Hash>,
}

/// Builds the inclusion proof of leaf `index`; `None` when the index is out of range.
pub fn prove(leaves: &[Hash], index: usize) -> Option<InclusionProof> {
    if index >= leaves.len() {
        return None;
    }
    let mut path = Vec::new();
    collect_path(leaves, index, &mut path);
    Some(InclusionProof {
        // usize to u64 never truncates on the 32- and 64-bit targets simin supports.
        leaf_index: index as u64,
        tree_size: leaves.len() as u64,
        path,
    })
}

fn collect_path(leaves: &[Hash], index: usize, path: &mut Vec<Hash>) {
    if leaves.len() <= 1 {
        return;
    }
    let k = split_point(leaves.len());
    if index < k {
        collect_path(&leaves[..k], index, path);
        path.push(root(&leaves[k..]));
    } else {
        collect_path(&leaves[k..], index - k, path);
        path.push(root(&leaves[..k]));
    }
}

impl InclusionProof {
    /// The most siblings a proof can have: trees are bounded far below 2^64 leaves.
    pub const PATH_LEN_MAX: usize = 64;

    /// Verifies that `leaf` (a [`leaf_hash`]) is at `leaf_index` in the tree whose hash is
    /// `expected_root`, with the algorithm of RFC 9162, section 2.1.3.2.
    pub fn verify(&self, leaf: &Hash, expected_root: &Hash) -> Result<(), CryptoError> {
        if self.leaf_index >= self.tree_size {
            return Err(CryptoError::BadMerkleProof("leaf index beyond tree size"));
        }
        if self.path.len() > Self::PATH_LEN_MAX {
            return Err(CryptoError::BadMerkleProof("path too long"));
        }
        let mut f_n = self.leaf_index;
        let mut s_n = self.tree_size - 1;
        let mut r = *leaf;
        for p in &self.path {
            if s_n == 0 {
                return Err(CryptoError::BadMerkleProof("path longer than the tree"));
            }
            if f_n & 1 == 1 || f_n == s_n {
                r = node_hash(p, &r);
                if f_n & 1 == 0 {
                    while f_n & 1 == 0 && f_n != 0 {
                        f_n >>= 1;
                        s_n >>= 1;
                    }
                }
            } else {
                r = node_hash(&r, p);
            }
            f_n >>= 1;
            s_n >>= 1;
        }
        if s_n != 0 {
            return Err(CryptoError::BadMerkleProof("path shorter than the tree"));
        }
        if r != *expected_root {
            return Err(CryptoError::BadMerkleProof("computed root differs"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_le_bytes())).collect()
    }

    #[test]
    fn small_trees_match_the_definition() {
        let l = leaves(3);
        assert_eq!(root(&[]), Hash::digest(b""));
        assert_eq!(root(&l[..1]), l[0]);
        assert_eq!(root(&l), node_hash(&node_hash(&l[0], &l[1]), &l[2]));
    }

    #[test]
    fn a_proof_for_one_leaf_does_not_prove_another() {
        let l = leaves(5);
        let proof = prove(&l, 2).expect("index in range");
        assert_eq!(proof.verify(&l[2], &root(&l)), Ok(()));
        assert!(proof.verify(&l[3], &root(&l)).is_err());
        let mut moved = proof.clone();
        moved.leaf_index = 3;
        assert!(moved.verify(&l[2], &root(&l)).is_err());
        assert!(prove(&l, 5).is_none());
    }

    proptest! {
        #[test]
        fn every_leaf_of_every_tree_is_provable(n in 1usize..70, pick in 0usize..70) {
            let l = leaves(n);
            let index = pick % n;
            let proof = prove(&l, index).expect("index in range");
            prop_assert_eq!(proof.verify(&l[index], &root(&l)), Ok(()));
            let mut truncated = proof.clone();
            if truncated.path.pop().is_some() {
                prop_assert!(truncated.verify(&l[index], &root(&l)).is_err());
            }
        }
    }
}
