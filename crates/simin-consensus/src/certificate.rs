//! Conversions between the engine's commit certificates and simin's light-client ones.

use malachitebft_app_channel::app::types::core::{
    CommitCertificate as EngineCertificate, ExtendedCommitCertificate, ExtendedCommitSignature,
    Round,
};
use simin_types::{CommitCertificate, CommitSignature, Height};

use crate::context::SiminContext;
use crate::types::{BlockId, ConsensusHeight, ConsensusSignature, ValidatorAddress};

/// simin's certificate for an engine decision. The signatures are the precommits'
/// signatures, which are over `simin_types::vote_sign_bytes`, so it verifies as is.
pub fn to_simin(cert: &EngineCertificate<SiminContext>) -> CommitCertificate {
    debug_assert!(
        cert.round.is_defined(),
        "a decision always has a defined round"
    );
    CommitCertificate {
        height: Height::from(cert.height),
        // A decided round is never nil; u32::MAX would make the certificate fail to verify.
        round: cert.round.as_u32().unwrap_or(u32::MAX),
        block_hash: cert.value_id.0,
        signatures: cert
            .commit_signatures
            .iter()
            .map(|s| CommitSignature {
                validator: s.address.0,
                signature: s.signature.0,
            })
            .collect(),
    }
}

/// The engine's certificate for a stored simin certificate, to serve sync.
pub fn to_engine(cert: &CommitCertificate) -> ExtendedCommitCertificate<SiminContext> {
    ExtendedCommitCertificate {
        height: ConsensusHeight::from(cert.height),
        round: Round::new(cert.round),
        value_id: BlockId(cert.block_hash),
        commit_signatures: cert
            .signatures
            .iter()
            .map(|s| {
                ExtendedCommitSignature::new(
                    ValidatorAddress(s.validator),
                    ConsensusSignature(s.signature),
                    None,
                )
            })
            .collect(),
    }
}
