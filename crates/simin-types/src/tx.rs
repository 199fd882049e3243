//! Transactions: a signed envelope {chain id, signer, nonce, expiry height, module call}.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::{
    codec, limits, Call, ChainId, Hash, Height, PublicKey, Signature, SigningKey, TypesError,
};

/// Domain separator of transaction signatures, so they can never be mistaken for votes.
const TX_SIGN_DOMAIN: &[u8] = b"simin/tx/v1\0";

/// An unsigned transaction.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Tx {
    pub chain_id: ChainId,
    pub signer: PublicKey,
    /// Must equal the signer's next nonce when executed; each nonce is used once.
    pub nonce: u64,
    /// The last height at which the transaction may be included.
    pub expiry_height: Height,
    pub call: Call,
}

impl Tx {
    /// The bytes the signer signs: a domain separator and the canonical encoding.
    pub fn sign_bytes(&self) -> Vec<u8> {
        let mut bytes = TX_SIGN_DOMAIN.to_vec();
        bytes.extend(codec::encode(self));
        bytes
    }

    pub fn sign(self, key: &SigningKey) -> SignedTx {
        debug_assert_eq!(
            key.public_key(),
            self.signer,
            "signing with the signer's key"
        );
        let signature = key.sign(&self.sign_bytes());
        SignedTx {
            tx: self,
            signature,
        }
    }
}

/// A transaction with its signer's signature.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct SignedTx {
    pub tx: Tx,
    pub signature: Signature,
}

impl SignedTx {
    /// The transaction hash: SHA-256 of the canonical encoding of the signed transaction.
    pub fn hash(&self) -> Hash {
        Hash::digest(&self.encode())
    }

    pub fn encode(&self) -> Vec<u8> {
        codec::encode(self)
    }

    /// Decodes a transaction received from outside, refusing more than `TX_BYTES_MAX`.
    pub fn decode(bytes: &[u8]) -> Result<SignedTx, TypesError> {
        codec::decode("transaction", bytes, limits::TX_BYTES_MAX)
    }

    /// Checks the signature with the strict rule.
    pub fn verify_signature(&self) -> Result<(), TypesError> {
        self.tx
            .signer
            .verify_strict(&self.tx.sign_bytes(), &self.signature)
            .map_err(TypesError::from)
    }
}
