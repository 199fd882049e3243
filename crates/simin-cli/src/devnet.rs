//! `simin devnet` and `simin node start`: run nodes in the foreground until Ctrl-C.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use serde::Serialize;
use simin_node::devnet::{ensure, DevnetSpec};
use simin_node::{start, Home, RunningNode};

use crate::cli::DevnetArgs;
use crate::keys::devnet_dir;
use crate::output;

/// Longest wait for one node to stop cleanly after Ctrl-C.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(15);

#[derive(Serialize)]
struct DevnetOutput {
    chain_id: String,
    data_dir: PathBuf,
    portal: String,
    api: String,
    apis: Vec<String>,
    genesis: PathBuf,
    notary_key: PathBuf,
    authority_key: PathBuf,
}

pub async fn devnet(args: DevnetArgs, json: bool) -> anyhow::Result<()> {
    let data_dir = devnet_dir(args.data_dir.as_deref())?;
    let spec = DevnetSpec {
        data_dir: data_dir.clone(),
        api_listen: args.api,
        validators: usize::try_from(args.validators).context("too many validators")?,
        full_nodes: 0,
    };
    let layout = ensure(&spec)
        .with_context(|| format!("cannot lay out the devnet in {}", data_dir.display()))?;
    let mut nodes = Vec::with_capacity(layout.homes.len());
    for home in &layout.homes {
        match start(home).await {
            Ok(node) => nodes.push(node),
            Err(e) => {
                stop_all(nodes).await;
                return Err(e).with_context(|| {
                    format!("cannot start the node in {}", home.root().display())
                });
            }
        }
    }
    let apis: Vec<String> = nodes
        .iter()
        .map(|n| format!("http://{}", n.api_addr()))
        .collect();
    let first = apis.first().cloned().context("the devnet has no node")?;
    let out = DevnetOutput {
        chain_id: layout.chain_id.to_string(),
        data_dir,
        portal: format!("{first}/"),
        api: format!("{first}/v1"),
        apis,
        genesis: layout.genesis,
        notary_key: layout.notary_key,
        authority_key: layout.authority_key,
    };
    if json {
        output::json(&out);
    } else {
        output::line(&format!("devnet {} is running", out.chain_id));
        output::line(&format!("  portal       {}", out.portal));
        output::line(&format!("  API          {}", out.api));
        if out.apis.len() > 1 {
            output::line(&format!("  all nodes    {}", out.apis.join(" ")));
        }
        output::line(&format!("  data dir     {}", out.data_dir.display()));
        output::line(&format!("  genesis      {}", out.genesis.display()));
        output::line(&format!("  notary key   {}", out.notary_key.display()));
        output::line("press Ctrl-C to stop; run again to resume the same chain");
    }
    wait_for_stop_signal().await?;
    output::notice("stopping the devnet...");
    stop_all(nodes).await;
    Ok(())
}

pub async fn node_start(home: PathBuf, json: bool) -> anyhow::Result<()> {
    let node = start(&Home::new(home.clone()))
        .await
        .with_context(|| format!("cannot start the node in {}", home.display()))?;
    let api = format!("http://{}", node.api_addr());
    if json {
        output::json(&serde_json::json!({ "home": home, "api": api }));
    } else {
        output::line(&format!("node running; API {api}/v1; press Ctrl-C to stop"));
    }
    wait_for_stop_signal().await?;
    stop_all(vec![node]).await;
    Ok(())
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM.
async fn wait_for_stop_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut terminate = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result.context("cannot watch Ctrl-C"),
        _ = terminate.recv() => Ok(()),
    }
}

/// Stops the nodes, the last started first, each within `SHUTDOWN_WAIT`.
async fn stop_all(nodes: Vec<RunningNode>) {
    for node in nodes.into_iter().rev() {
        let addr = node.api_addr();
        if tokio::time::timeout(SHUTDOWN_WAIT, node.shutdown())
            .await
            .is_err()
        {
            tracing::warn!(%addr, "node did not stop in time; exiting anyway");
        }
    }
}
