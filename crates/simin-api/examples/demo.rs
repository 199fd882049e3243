//! Serves the API and portal over the in-memory test double, for trying the portal and
//! running `tests/browser` without a devnet: `cargo run -p simin-api --example demo -- 127.0.0.1:8080`.
//!
//! The file whose bytes are exactly `certificate of residence` is anchored in the double.

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let listener = tokio::net::TcpListener::bind(&address).await?;
    let backend = Arc::new(common::FakeBackend::new());
    simin_api::serve(listener, backend, async {
        // Ctrl-C ends the demo; if the signal cannot be installed, run until killed.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    })
    .await
}
