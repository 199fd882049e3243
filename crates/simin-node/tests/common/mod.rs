//! Helpers of the in-process node tests: free ports and HTTP through `curl`.
#![allow(dead_code)]

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind an ephemeral port")
        .local_addr()
        .expect("has an address")
        .port()
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
