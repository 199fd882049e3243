//! `simin testnet init`: lays out a local network whose nodes run as separate processes.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use anyhow::Context;
use serde::Serialize;
use simin_node::devnet::{ensure, DevnetSpec, NodeRole};

use crate::cli::TestnetInitArgs;
use crate::output;

/// One node of the network, as printed.
#[derive(Serialize)]
struct NodeOutput {
    role: NodeRole,
    home: PathBuf,
    /// Base URL of its HTTP API.
    api: String,
    /// Its consensus network address.
    p2p: SocketAddr,
}

#[derive(Serialize)]
struct TestnetOutput {
    chain_id: String,
    dir: PathBuf,
    genesis: PathBuf,
    notary_key: PathBuf,
    authority_key: PathBuf,
    nodes: Vec<NodeOutput>,
}

pub fn init(args: TestnetInitArgs, json: bool) -> anyhow::Result<()> {
    let spec = DevnetSpec {
        data_dir: args.out.clone(),
        api_listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), args.base_port),
        validators: usize::try_from(args.validators).context("too many validators")?,
        full_nodes: usize::try_from(args.full_nodes).context("too many full nodes")?,
    };
    let layout = ensure(&spec)
        .with_context(|| format!("cannot lay out the testnet in {}", args.out.display()))?;
    let out = TestnetOutput {
        chain_id: layout.chain_id.to_string(),
        dir: args.out,
        genesis: layout.genesis,
        notary_key: layout.notary_key,
        authority_key: layout.authority_key,
        nodes: layout
            .nodes
            .into_iter()
            .map(|n| NodeOutput {
                role: n.role,
                home: n.home.root().to_owned(),
                api: format!("http://{}", n.api),
                p2p: n.p2p,
            })
            .collect(),
    };
    if json {
        output::json(&out);
        return Ok(());
    }
    output::line(&format!(
        "testnet {} laid out in {}",
        out.chain_id,
        out.dir.display()
    ));
    for node in &out.nodes {
        let role = match node.role {
            NodeRole::Validator => "validator",
            NodeRole::FullNode => "full node",
        };
        output::line(&format!(
            "  {role:<10} {}  API {}",
            node.home.display(),
            node.api
        ));
    }
    output::line(&format!("  genesis    {}", out.genesis.display()));
    output::line(&format!("  notary key {}", out.notary_key.display()));
    output::line("start each node with `simin node start --home HOME`");
    Ok(())
}
