//! The HTTP API's JSON bodies: what a node reads from clients (`SubmitTxRequest`,
//! `SubmitBatchRequest`) and what a client reads from a node it need not trust
//! (status, blocks, transactions, state, notary proofs, problems). Any bytes give a value
//! or an error, never a panic; a value parsed serializes to JSON that parses back to it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use serde::Serialize;
use simin_api::dto::{
    BlockLookup, NodeStatus, NotaryProof, Problem, StateLookup, SubmitTxRequest, SubmitTxResponse,
    TxLookup,
};
use simin_types::{limits, SignedTx};

/// Parses `data` as `T`; when it parses, its JSON parses back to the same value.
fn round_trip<T>(data: &[u8]) -> Option<T>
where
    T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug,
{
    let value: T = serde_json::from_slice(data).ok()?;
    let json = serde_json::to_vec(&value).expect("a DTO serializes");
    let again: T = serde_json::from_slice(&json).expect("a DTO's own JSON parses");
    assert_eq!(again, value, "JSON round trip");
    Some(value)
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    match selector % 8 {
        0 => {
            // What `POST /v1/txs` does with the body: hex, then the bounded decoder.
            if let Some(request) = round_trip::<SubmitTxRequest>(body) {
                if request.tx.len() <= 2 * limits::TX_BYTES_MAX {
                    if let Ok(bytes) = hex::decode(&request.tx) {
                        let _ = SignedTx::decode(&bytes);
                    }
                }
            }
        }
        1 => {
            // Readings carry floats, whose JSON text need not parse back bit for bit.
            let _ = serde_json::from_slice::<simin_api::dto::data::SubmitBatchRequest>(body);
        }
        2 => drop(round_trip::<NodeStatus>(body)),
        3 => drop(round_trip::<BlockLookup>(body)),
        4 => drop(round_trip::<TxLookup>(body)),
        5 => drop(round_trip::<StateLookup>(body)),
        6 => drop(round_trip::<NotaryProof>(body)),
        _ => {
            let _ = round_trip::<SubmitTxResponse>(body);
            let _ = round_trip::<Problem>(body);
        }
    }
});
