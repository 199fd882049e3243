//! Validator set changes on the real engine: a governance call adds a validator, the
//! chain stays live, the next header names the new set and its certificate verifies
//! against it; a change moving too much power is refused and leaves the set alone.

mod common;

use common::{body, get, one_validator_devnet, post, wait_for_height};
use simin_api::dto::StateLookup;
use simin_node::devnet;
use simin_types::{
    state_keys, Call, Genesis, GovernanceCall, Height, SigningKey, Tx, Validator, ValidatorSet,
};

fn set_validator(authority: &SigningKey, nonce: u64, key: &SigningKey, power: u64) -> String {
    let tx = Tx {
        chain_id: simin_types::ChainId::new(devnet::DEVNET_CHAIN_ID).expect("valid id"),
        signer: authority.public_key(),
        nonce,
        expiry_height: Height(100_000),
        call: Call::Governance(GovernanceCall::SetValidator {
            public_key: key.public_key(),
            voting_power: power,
        }),
    }
    .sign(authority);
    body(&tx)
}

/// `GET /v1/state/{validator set key}?height=h`: the set stored after block h, with the
/// header of h, its certificate and the set that signed it.
async fn validators_lookup(base: &str, height: u64) -> (StateLookup, ValidatorSet) {
    let key = hex::encode(state_keys::validator_set());
    let (status, json) = get(&format!("{base}/v1/state/{key}?height={height}")).await;
    assert_eq!(status, 200, "{json}");
    let lookup: StateLookup = serde_json::from_value(json).expect("a state lookup");
    let stored = simin_types::decode(
        "validator set",
        lookup.value.as_deref().expect("the set is always stored"),
        1 << 20,
    )
    .expect("a validator set");
    (lookup, stored)
}

/// Commits `tx_body` and returns its height and receipt outcome.
async fn commit(base: &str, tx_body: &str) -> (u64, serde_json::Value) {
    let (status, json) = post(&format!("{base}/v1/txs?wait=commit"), tx_body).await;
    assert_eq!(status, 200, "{json}");
    let height = json["committed"]["height"].as_u64().expect("a height");
    (height, json["committed"]["receipt"]["outcome"].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_authority_adds_a_validator_for_the_next_height() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let (layout, api) = one_validator_devnet(dir.path());
    // Power 10 for the only validator, so that one block may move up to 3.
    let mut genesis: Genesis =
        serde_json::from_slice(&std::fs::read(&layout.genesis).expect("genesis file"))
            .expect("a genesis");
    genesis.validators[0].voting_power = 10;
    let json = serde_json::to_vec_pretty(&genesis).expect("serializes");
    for path in [layout.genesis.clone(), layout.homes[0].genesis()] {
        std::fs::write(path, &json).expect("genesis written");
    }
    let authority = SigningKey::from_hex(
        &std::fs::read_to_string(&layout.authority_key).expect("authority key file"),
    )
    .expect("a key");
    let base = format!("http://{api}");
    let node = simin_node::start(&layout.homes[0])
        .await
        .expect("node starts");
    wait_for_height(&base, 1).await;

    let old = ValidatorSet::new(genesis.validators.clone()).expect("the genesis set");
    let newcomer = SigningKey::from_seed([42; 32]);
    let new = ValidatorSet::new(vec![
        genesis.validators[0].clone(),
        Validator {
            public_key: newcomer.public_key(),
            voting_power: 1,
        },
    ])
    .expect("a valid set");

    let (changed_at, outcome) = commit(&base, &set_validator(&authority, 0, &newcomer, 1)).await;
    assert_eq!(outcome["status"], "success", "{outcome}");
    // The chain stays live: the absent newcomer holds 1 of 11, under a third.
    wait_for_height(&base, changed_at + 2).await;

    // Block H was signed by the old set and stores the new one; H+1 is signed by the new.
    let (at_change, stored) = validators_lookup(&base, changed_at).await;
    assert_eq!(stored, new);
    assert_eq!(at_change.validators, old);
    assert_eq!(at_change.header.validators_hash, old.hash());
    let (next, stored) = validators_lookup(&base, changed_at + 1).await;
    assert_eq!(stored, new);
    assert_eq!(next.validators, new);
    assert_eq!(next.header.validators_hash, new.hash());
    next.certificate
        .verify(
            &genesis.chain_id,
            Height(changed_at + 1),
            &next.header.hash(),
            &new,
        )
        .expect("the certificate of H+1 verifies against the new set");
    let (_, status) = get(&format!("{base}/v1/status")).await;
    assert_eq!(status["validator_count"], 2, "{status}");

    // Power 10 for another key would move 10 of 11: refused, the set stays.
    let whale = SigningKey::from_seed([43; 32]);
    let (refused_at, outcome) = commit(&base, &set_validator(&authority, 1, &whale, 10)).await;
    assert_eq!(outcome["status"], "failure", "{outcome}");
    assert_eq!(
        outcome["code"], "governance.validator_change_too_large",
        "{outcome}"
    );
    wait_for_height(&base, refused_at + 1).await;
    for height in [refused_at, refused_at + 1] {
        let (lookup, stored) = validators_lookup(&base, height).await;
        assert_eq!(stored, new);
        assert_eq!(lookup.header.validators_hash, new.hash());
    }
    node.shutdown().await;
}
