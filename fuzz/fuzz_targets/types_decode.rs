//! Borsh decoding of what arrives from peers and clients (transactions, blocks,
//! certificates, validator sets, evidence) with the bounded decoder: any bytes give a value
//! or a typed error, never a panic, and a decoded value encodes back to the same bytes
//! (one value, one encoding: ADR 0002).
#![no_main]

use libfuzzer_sys::fuzz_target;
use simin_types::{
    decode, encode, limits, Block, CommitCertificate, Equivocation, EquivocationRecord, SignedTx,
    ValidatorSet,
};

/// Decodes `bytes` as `T` and checks that the encoding is canonical.
fn round_trip<T>(what: &'static str, bytes: &[u8], max: usize)
where
    T: borsh::BorshDeserialize + borsh::BorshSerialize + std::fmt::Debug,
{
    if let Ok(value) = decode::<T>(what, bytes, max) {
        assert_eq!(
            encode(&value),
            bytes,
            "{what} re-encodes differently: {value:?}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    match selector % 6 {
        0 => {
            if let Ok(tx) = SignedTx::decode(bytes) {
                assert_eq!(tx.encode(), bytes, "a SignedTx re-encodes differently");
                let _ = tx.hash();
            }
        }
        1 => {
            if let Ok(block) = Block::decode(bytes) {
                assert_eq!(block.encode(), bytes, "a Block re-encodes differently");
                let _ = block.hash();
            }
        }
        2 => round_trip::<CommitCertificate>("certificate", bytes, limits::BLOCK_BYTES_MAX),
        3 => round_trip::<ValidatorSet>("validator set", bytes, limits::TX_BYTES_MAX),
        4 => round_trip::<Equivocation>("equivocation", bytes, limits::TX_BYTES_MAX),
        _ => round_trip::<EquivocationRecord>("equivocation record", bytes, limits::TX_BYTES_MAX),
    }
});
