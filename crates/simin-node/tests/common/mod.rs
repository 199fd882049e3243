//! Helpers of the in-process node tests: free ports and HTTP through `curl`.
#![allow(dead_code)]

/// A loopback port free right now, with its `+ 100` neighbour (a devnet's peer port),
/// below Linux's ephemeral range (32768 and up): binding port 0 gave ephemeral ports,
/// which outgoing connections of parallel tests could take before the server bound them.
pub fn free_port() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    let free = |port: u16| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok();
    for _ in 0..1_000 {
        // RandomState is seeded afresh per instance: a random start in every process.
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u32(std::process::id());
        let offset = u16::try_from(hasher.finish() % 9_800).expect("below 9,800 fits in u16");
        let port = 2_000 + offset;
        if free(port) && free(port + 100) {
            return port;
        }
    }
    panic!("no free loopback port below the ephemeral range");
}

pub async fn get(url: &str) -> (u16, serde_json::Value) {
    let out = tokio::process::Command::new("curl")
        .args(["-s", "-w", "\n%{http_code}", url])
        .output()
        .await
        .expect("curl runs");
    parse(&out.stdout)
}

pub async fn post(url: &str, body: &str) -> (u16, serde_json::Value) {
    let out = tokio::process::Command::new("curl")
        .args([
            "-s",
            "-w",
            "\n%{http_code}",
            "-H",
            "content-type: application/json",
            "--data-binary",
            body,
            url,
        ])
        .output()
        .await
        .expect("curl runs");
    parse(&out.stdout)
}

fn parse(stdout: &[u8]) -> (u16, serde_json::Value) {
    let text = String::from_utf8_lossy(stdout);
    let (body, status) = text.rsplit_once('\n').expect("curl prints the status last");
    (
        status.trim().parse().expect("a status code"),
        serde_json::from_str(body).unwrap_or(serde_json::Value::Null),
    )
}

/// The JSON body of `POST /v1/txs` for `tx`.
pub fn body(tx: &simin_types::SignedTx) -> String {
    format!(r#"{{"tx":"{}"}}"#, hex::encode(tx.encode()))
}

/// Waits until the node at `base` has committed `height`; panics after 60 s.
pub async fn wait_for_height(base: &str, height: u64) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let (status, json) = get(&format!("{base}/v1/status")).await;
        if status == 200 && json["latest_height"].as_u64().unwrap_or(0) >= height {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "height {height} not committed within 60 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// A key with its next nonce, committing calls on a devnet node.
pub struct Signer {
    pub key: simin_types::SigningKey,
    pub nonce: u64,
}

impl Signer {
    pub fn new(key: simin_types::SigningKey) -> Signer {
        Signer { key, nonce: 0 }
    }

    /// Signs `call` with the next nonce, commits it and returns (height, outcome).
    pub async fn commit(
        &mut self,
        base: &str,
        call: simin_types::Call,
    ) -> (u64, serde_json::Value) {
        let tx = simin_types::Tx {
            chain_id: simin_types::ChainId::new(simin_node::devnet::DEVNET_CHAIN_ID)
                .expect("valid id"),
            signer: self.key.public_key(),
            nonce: self.nonce,
            expiry_height: simin_types::Height(100_000),
            call,
        }
        .sign(&self.key);
        self.nonce += 1;
        let (status, json) = post(&format!("{base}/v1/txs?wait=commit"), &body(&tx)).await;
        assert_eq!(status, 200, "{json}");
        let height = json["committed"]["height"].as_u64().expect("a height");
        (height, json["committed"]["receipt"]["outcome"].clone())
    }

    pub async fn succeed(&mut self, base: &str, call: simin_types::Call) -> u64 {
        let (height, outcome) = self.commit(base, call).await;
        assert_eq!(outcome["status"], "success", "{outcome}");
        height
    }
}

/// A devnet of one validator laid out in `dir`, its API on a free loopback port.
pub fn one_validator_devnet(
    dir: &std::path::Path,
) -> (simin_node::devnet::DevnetLayout, std::net::SocketAddr) {
    let api: std::net::SocketAddr = format!("127.0.0.1:{}", free_port())
        .parse()
        .expect("valid address");
    let layout = simin_node::devnet::ensure(&simin_node::devnet::DevnetSpec {
        data_dir: dir.to_owned(),
        api_listen: api,
        validators: 1,
        full_nodes: 0,
    })
    .expect("devnet laid out");
    (layout, api)
}
