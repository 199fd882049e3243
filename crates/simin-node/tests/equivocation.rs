//! `n4_f1_equivocate`: four validators on the real engine, one of which signs two
//! conflicting votes for every vote (Malachite's Byzantine network proxy). The honest
//! three never fork, the chain keeps committing, and the equivocation is reported and
//! recorded on chain, the same in every honest node's state.

mod common;

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use common::get;
use simin_api::dto::{BlockLookup, StateLookup};
use simin_consensus::byzantine::{ByzantineConfig, Trigger};
use simin_node::devnet::{self, DevnetSpec};
use simin_node::NodeConfig;
use simin_types::{state_keys, EquivocationRecord, PublicKey, SigningKey, VoteKind};
use tokio::time::{sleep, Instant};

/// Every wait of the test together ends by this bound.
const TEST_TIMEOUT: Duration = Duration::from_secs(120);
/// The heights searched for a record: the Byzantine validator equivocates from height 1.
const SEARCH_HEIGHTS_MAX: u64 = 30;
const BYZANTINE: usize = 3;

/// A first API port such that the devnet's API ports (`base..base+4`) and P2P ports
/// (`base+100..base+104`) are all free now.
fn free_base() -> SocketAddr {
    for _ in 0..100 {
        let base = common::free_port();
        let Some(last) = base.checked_add(104) else {
            continue;
        };
        let ports = (base..base + 4).chain(base + 100..last);
        let free = ports
            .map(|port| TcpListener::bind(("127.0.0.1", port)).ok())
            .collect::<Option<Vec<_>>>();
        if free.is_some() {
            return SocketAddr::from(([127, 0, 0, 1], base));
        }
    }
    panic!("no free block of ports found");
}

async fn status(base: &str) -> u64 {
    let (code, json) = get(&format!("{base}/v1/status")).await;
    if code == 200 {
        json["latest_height"].as_u64().unwrap_or(0)
    } else {
        0
    }
}

async fn state(base: &str, key: &[u8]) -> Option<EquivocationRecord> {
    let (code, json) = get(&format!("{base}/v1/state/{}", hex::encode(key))).await;
    if code != 200 {
        return None;
    }
    let lookup: StateLookup = serde_json::from_value(json).expect("a state lookup");
    let bytes = lookup.value?;
    Some(simin_types::decode("equivocation record", &bytes, 1 << 16).expect("a record"))
}

/// A recorded equivocation of `accused` at round 0 of a searched height, with its key.
async fn find_record(base: &str, accused: &PublicKey) -> Option<(Vec<u8>, EquivocationRecord)> {
    let tip = status(base).await;
    for height in 1..=tip.min(SEARCH_HEIGHTS_MAX) {
        for kind in [VoteKind::Prevote, VoteKind::Precommit] {
            let key = state_keys::equivocation(accused, simin_types::Height(height), 0, kind);
            if let Some(record) = state(base, &key).await {
                return Some((key, record));
            }
        }
    }
    None
}

async fn block_hash(base: &str, height: u64) -> simin_types::Hash {
    let (code, json) = get(&format!("{base}/v1/blocks/{height}")).await;
    assert_eq!(code, 200, "{json}");
    serde_json::from_value::<BlockLookup>(json)
        .expect("a block lookup")
        .hash
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n4_f1_equivocate() {
    let deadline = Instant::now() + TEST_TIMEOUT;
    let dir = tempfile::tempdir().expect("a temp dir");
    let layout = devnet::ensure(&DevnetSpec {
        data_dir: dir.path().to_owned(),
        api_listen: free_base(),
        validators: 4,
        full_nodes: 0,
    })
    .expect("devnet laid out");
    let byzantine_home = &layout.homes[BYZANTINE];
    let text = std::fs::read_to_string(byzantine_home.config()).expect("config file");
    let mut config: NodeConfig = toml::from_str(&text).expect("a node config");
    config.consensus.byzantine =
        Some(ByzantineConfig::default().with_equivocate_votes(Trigger::Always));
    let text = toml::to_string_pretty(&config).expect("serializes");
    std::fs::write(byzantine_home.config(), text).expect("config written");
    let accused = SigningKey::from_hex(
        &std::fs::read_to_string(byzantine_home.node_key()).expect("key file"),
    )
    .expect("a key")
    .public_key();

    let mut nodes = Vec::new();
    for home in &layout.homes {
        nodes.push(simin_node::start(home).await.expect("node starts"));
    }
    let bases: Vec<String> = nodes
        .iter()
        .map(|node| format!("http://{}", node.api_addr()))
        .collect();
    let honest: Vec<&String> = bases
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != BYZANTINE)
        .map(|(_, base)| base)
        .collect();

    // Some honest node records the equivocation in a committed block...
    let (key, record) = loop {
        if let Some(found) = find_record(honest[0], &accused).await {
            break found;
        }
        assert!(
            Instant::now() < deadline,
            "no equivocation of the Byzantine validator recorded within {TEST_TIMEOUT:?}"
        );
        sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(record.evidence.validator, accused);
    assert!(record.evidence.is_conflicting());
    assert_eq!(record.evidence.verify_signatures(&layout.chain_id), Ok(()));
    assert_ne!(record.reporter, accused, "an honest validator reported it");
    assert!(record.evidence.height <= record.height);
    // ...in the block at the record's height, whose transaction is the report...
    let (code, json) = get(&format!("{}/v1/blocks/{}", honest[0], record.height.0)).await;
    assert_eq!(code, 200, "{json}");
    let block = serde_json::from_value::<BlockLookup>(json).expect("a block lookup");
    assert!(block.block.txs.iter().any(|tx| tx.hash() == record.tx_hash));
    // ...and every honest node holds the same record.
    for base in &honest {
        loop {
            if state(base, &key).await.as_ref() == Some(&record) {
                break;
            }
            assert!(Instant::now() < deadline, "{base} lacks the record");
            sleep(Duration::from_millis(200)).await;
        }
    }

    // The chain keeps committing under the attack.
    let mut tips = Vec::new();
    for base in &honest {
        tips.push(status(base).await);
    }
    let target = tips.iter().max().copied().unwrap_or(0) + 3;
    for base in &honest {
        while status(base).await < target {
            assert!(
                Instant::now() < deadline,
                "{base} stopped before height {target}"
            );
            sleep(Duration::from_millis(200)).await;
        }
    }

    // No fork: every honest node committed the same block at every height.
    for height in 1..=target {
        let expected = block_hash(honest[0], height).await;
        for base in &honest[1..] {
            assert_eq!(
                block_hash(base, height).await,
                expected,
                "fork at height {height}"
            );
        }
    }

    for node in nodes {
        node.shutdown().await;
    }
}
