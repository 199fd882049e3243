//! The notary module: organisations with the notary role anchor document hashes.
//!
//! The first anchoring of a hash is the evidence, so a second one is refused. A batch
//! stores only the Merkle root of its documents; the documents travel in the transaction,
//! and [`notary_batch_leaves`] is how anyone rebuilds a document's inclusion path.

use simin_types::{merkle, state_keys, Hash, NotaryCall, NotaryRecord, OrgId, PublicKey, Role};

use crate::call::{CallError, ExecError, Standing};
use crate::governance::{organization, organization_of_key};
use crate::state::{read, Overlay};
use crate::{BlockContext, StateView};

/// The Merkle leaves of a batch: `merkle::leaf_hash(document_hash)`, in the batch's order.
pub fn notary_batch_leaves(documents: &[Hash]) -> Vec<Hash> {
    documents
        .iter()
        .map(|doc| merkle::leaf_hash(&doc.0))
        .collect()
}

/// The root under which a batch is anchored: `merkle::root(notary_batch_leaves(documents))`.
pub fn notary_batch_root(documents: &[Hash]) -> Hash {
    merkle::root(&notary_batch_leaves(documents))
}

/// Runs a notary call; the signer must be a key of an active organisation with `Role::Notary`.
pub(crate) fn execute(
    state: &mut Overlay<'_>,
    ctx: &BlockContext,
    signer: &PublicKey,
    tx_hash: Hash,
    call: &NotaryCall,
) -> Result<(), ExecError> {
    let org = notary_of(state, signer)?;
    let record = |documents: u32| NotaryRecord {
        organization: org.clone(),
        signer: *signer,
        height: ctx.height,
        time: ctx.time,
        tx_hash,
        documents,
    };
    match call {
        NotaryCall::Anchor { document } => anchor(state, document, record(1)),
        NotaryCall::AnchorBatch { documents } => {
            let count = u32::try_from(documents.len())
                .expect("a batch fits in u32 because check_call bounds it by NOTARY_BATCH_MAX");
            anchor(state, &notary_batch_root(documents), record(count))
        }
    }
}

/// The signer check of every notary call: a key of an active organisation with the
/// notary role.
pub(crate) fn authorize(view: &dyn StateView, signer: &PublicKey) -> Result<Standing, ExecError> {
    notary_of(view, signer).map(|_| Standing::Holder)
}

/// The organisation `signer` may anchor for.
fn notary_of(state: &dyn StateView, signer: &PublicKey) -> Result<OrgId, ExecError> {
    let not_a_notary = || CallError::NotANotary { signer: *signer };
    let Some(id) = organization_of_key(state, signer)? else {
        return Err(not_a_notary().into());
    };
    match organization(state, &id)? {
        Some(org) if org.has_role(Role::Notary) => Ok(id),
        _ => Err(not_a_notary().into()),
    }
}

fn anchor(state: &mut Overlay<'_>, hash: &Hash, record: NotaryRecord) -> Result<(), ExecError> {
    let key = state_keys::notary_anchor(hash);
    if let Some(first) = read::<NotaryRecord>(state, &key, "notary record")? {
        return Err(CallError::AlreadyAnchored {
            hash: *hash,
            height: first.height,
        }
        .into());
    }
    state.put(key, &record);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_root_is_the_merkle_root_of_leaf_hashes() {
        let docs = [Hash::digest(b"a"), Hash::digest(b"b"), Hash::digest(b"c")];
        let leaves = notary_batch_leaves(&docs);
        assert_eq!(leaves[1], merkle::leaf_hash(&docs[1].0));
        let root = notary_batch_root(&docs);
        let proof = merkle::prove(&leaves, 2).expect("index in range");
        assert_eq!(proof.verify(&leaves[2], &root), Ok(()));
        // A one-document batch never collides with anchoring that document alone.
        assert_ne!(notary_batch_root(&docs[..1]), docs[0]);
    }
}
