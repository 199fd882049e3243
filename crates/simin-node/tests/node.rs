//! A one-validator node on the real engine, driven through its HTTP API: anchoring,
//! proofs, refusals that change nothing, and a restart that resumes the same chain.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{body, free_port, get, post};
use simin_node::devnet::{self, DevnetSpec};
use simin_types::{Call, ChainId, Hash, Height, NotaryCall, SignedTx, SigningKey, Tx};

fn anchor_tx(key: &SigningKey, chain: &str, nonce: u64, expiry: u64, document: Hash) -> SignedTx {
    Tx {
        chain_id: ChainId::new(chain).expect("valid id"),
        signer: key.public_key(),
        nonce,
        expiry_height: Height(expiry),
        call: Call::Notary(NotaryCall::Anchor { document }),
    }
    .sign(key)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anchors_proves_refuses_and_resumes_after_restart() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let port = free_port();
    let api: SocketAddr = format!("127.0.0.1:{port}").parse().expect("valid address");
    let layout = devnet::ensure(&DevnetSpec {
        data_dir: dir.path().to_owned(),
        api_listen: api,
        validators: 1,
        full_nodes: 0,
    })
    .expect("devnet laid out");
    let base = format!("http://{api}");
    let key = SigningKey::from_hex(&std::fs::read_to_string(&layout.notary_key).expect("key file"))
        .expect("key");

    let node = simin_node::start(&layout.homes[0])
        .await
        .expect("node starts");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (status, json) = get(&format!("{base}/v1/status")).await;
        if status == 200 && json["latest_height"].as_u64().unwrap_or(0) >= 1 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no block within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let document = Hash::digest(b"a residence certificate");
    let tx = anchor_tx(&key, devnet::DEVNET_CHAIN_ID, 0, 1_000, document);
    let (status, json) = post(&format!("{base}/v1/txs?wait=commit"), &body(&tx)).await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(
        json["committed"]["receipt"]["outcome"]["status"], "success",
        "{json}"
    );
    let height = json["committed"]["height"].as_u64().expect("a height");

    let (status, proof) = get(&format!("{base}/v1/notary/{document}")).await;
    assert_eq!(status, 200, "{proof}");
    assert_eq!(proof["record"]["organization"], devnet::DEVNET_NOTARY_ORG);
    assert_eq!(proof["record"]["height"].as_u64(), Some(height));

    // Refusals: replayed nonce, wrong chain, bad signature, expired. Empty blocks keep
    // moving the chain-meta key, so "nothing changed" is checked on what the refused
    // transactions would have touched: the signer's nonce, the mempool, the anchors.
    let mut forged = anchor_tx(&key, devnet::DEVNET_CHAIN_ID, 1, 1_000, Hash::digest(b"x"));
    forged.signature.0[0] ^= 1;
    let cases = [
        (tx.clone(), "nonce-too-low"),
        (
            anchor_tx(&key, "other-chain", 1, 1_000, Hash::digest(b"y")),
            "wrong-chain-id",
        ),
        (forged, "bad-signature"),
        (
            anchor_tx(&key, devnet::DEVNET_CHAIN_ID, 1, 0, Hash::digest(b"z")),
            "expired",
        ),
        // A key no organisation holds gets no block space (ADR 0011).
        (
            anchor_tx(
                &SigningKey::from_seed([9; 32]),
                devnet::DEVNET_CHAIN_ID,
                0,
                1_000,
                Hash::digest(b"u"),
            ),
            "not-authorized",
        ),
        (
            anchor_tx(
                &key,
                devnet::DEVNET_CHAIN_ID,
                u64::MAX,
                1_000,
                Hash::digest(b"w"),
            ),
            "nonce-too-high",
        ),
    ];
    for (bad, kind) in cases {
        let (status, problem) = post(&format!("{base}/v1/txs"), &body(&bad)).await;
        assert!((400..500).contains(&status), "{kind}: {status} {problem}");
        if kind == "not-authorized" {
            assert_eq!(status, 403, "{problem}");
            let detail = problem["detail"].as_str().unwrap_or_default();
            assert!(detail.contains("notary.not_a_notary"), "{problem}");
        }
        assert!(
            problem["type"].as_str().unwrap_or_default().ends_with(kind),
            "{kind}: {problem}"
        );
    }
    let (status, _) = post(&format!("{base}/v1/txs"), "{not json").await;
    assert_eq!(status, 400);
    let (_, unknown) = get(&format!("{base}/v1/notary/{}", Hash::digest(b"never"))).await;
    assert!(
        unknown["type"]
            .as_str()
            .unwrap_or_default()
            .ends_with("not-anchored"),
        "{unknown}"
    );
    let nonce_key = hex::encode(simin_types::state_keys::account_nonce(&key.public_key()));
    let (_, nonce) = get(&format!("{base}/v1/state/{nonce_key}")).await;
    assert_eq!(
        nonce["value"],
        hex::encode(1u64.to_le_bytes()),
        "only the committed tx used a nonce: {nonce}"
    );
    let (_, status_after) = get(&format!("{base}/v1/status")).await;
    assert_eq!(
        status_after["mempool_size"], 0,
        "nothing refused waits in the mempool"
    );
    for refused in [b"x".as_slice(), b"y", b"z", b"u", b"w"] {
        let (status, _) = get(&format!("{base}/v1/notary/{}", Hash::digest(refused))).await;
        assert_eq!(status, 404, "a refused anchoring left no record");
    }

    node.shutdown().await;
    let node = simin_node::start(&layout.homes[0])
        .await
        .expect("node restarts");
    let (status, json) = get(&format!("{base}/v1/status")).await;
    assert_eq!(status, 200);
    assert!(
        json["latest_height"].as_u64().unwrap_or(0) >= height,
        "resumed at or after {height}: {json}"
    );
    let (status, proof) = get(&format!("{base}/v1/notary/{document}")).await;
    assert_eq!(status, 200, "still anchored after restart: {proof}");
    let next = anchor_tx(
        &key,
        devnet::DEVNET_CHAIN_ID,
        1,
        100_000,
        Hash::digest(b"after restart"),
    );
    let (status, json) = post(&format!("{base}/v1/txs?wait=commit"), &body(&next)).await;
    assert_eq!(status, 200, "the chain goes on after restart: {json}");
    node.shutdown().await;
}
