//! `simin devnet` and `simin node start`: run nodes in the foreground until Ctrl-C.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use serde::Serialize;
use simin_issuer::{HomeKeys, IssuerConfig, IssuerHome, IssuerService};
use simin_node::devnet::{ensure, DevnetSpec};
use simin_node::devnet_identity::{org_key_paths, DEVNET_CARD_ISSUER};
use simin_node::{start, Home, RunningNode};
use simin_types::OrgId;

use crate::cli::DevnetArgs;
use crate::devnet_ready::Wait;
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
    issuer: String,
    issuer_home: PathBuf,
    issuer_admin_token: PathBuf,
    gateway: String,
    demo_service: String,
    records_vault: String,
    records_admin_token: PathBuf,
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
    let issuer = match start_issuer(&data_dir, &first, args.issuer).await {
        Ok(issuer) => issuer,
        Err(e) => {
            stop_all(nodes).await;
            return Err(e);
        }
    };
    let gateway = match crate::gateway::start_devnet_gateway(
        &data_dir,
        &first,
        args.gateway,
        args.demo_service,
    )
    .await
    {
        Ok(gateway) => gateway,
        Err(e) => {
            issuer.stop().await;
            stop_all(nodes).await;
            return Err(e);
        }
    };
    let dataset = {
        let (node, keys) = (first.clone(), data_dir.join("keys"));
        crate::devnet_ready::retrying("the demo dataset seoul.air-quality", move || {
            let (node, keys) = (node.clone(), keys.clone());
            async move { crate::feeds::ensure_demo_dataset(&node, &keys).await }
        })
    };
    let vault = match crate::records::start_devnet_vault(&data_dir, &first, args.records).await {
        Ok(vault) => vault,
        Err(e) => {
            dataset.abort();
            gateway.stop().await;
            issuer.stop().await;
            stop_all(nodes).await;
            return Err(e);
        }
    };
    // The summary promises working services: it waits until each one is ready.
    let mut gateway = gateway;
    let mut waits = vec![
        Wait::Health {
            name: "the card issuer",
            url: issuer.url.clone(),
        },
        Wait::Health {
            name: "the login provider",
            url: gateway.url.clone(),
        },
        Wait::Health {
            name: "the records vault",
            url: vault.url.clone(),
        },
        Wait::Task {
            name: "the demo dataset",
            task: dataset,
        },
    ];
    if let Some(task) = gateway.demo_registration.take() {
        waits.push(Wait::Task {
            name: "the demo library's registration",
            task,
        });
    }
    // Ctrl-C while waiting stops the devnet as cleanly as after the summary.
    let ready = tokio::select! {
        ready = crate::devnet_ready::wait_until_ready(waits) => ready.map(|()| true),
        signal = wait_for_stop_signal() => signal.map(|()| false),
    };
    if !matches!(ready, Ok(true)) {
        output::notice("stopping the devnet...");
        vault.stop().await;
        gateway.stop().await;
        issuer.stop().await;
        stop_all(nodes).await;
        return ready.map(|_| ()).context("the devnet did not get ready");
    }
    let out = DevnetOutput {
        chain_id: layout.chain_id.to_string(),
        data_dir,
        portal: format!("{first}/"),
        api: format!("{first}/v1"),
        apis,
        genesis: layout.genesis,
        notary_key: layout.notary_key,
        authority_key: layout.authority_key,
        issuer: issuer.url.clone(),
        issuer_home: issuer.home.clone(),
        issuer_admin_token: IssuerHome::new(&issuer.home).admin_token(),
        gateway: gateway.url.clone(),
        demo_service: gateway.demo_url.clone(),
        records_vault: vault.url.clone(),
        records_admin_token: vault.admin_token_file.clone(),
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
        output::line(&format!(
            "  card issuer  {} ({}, OpenID4VCI)",
            out.issuer,
            simin_types::identity::did_of(&issuer.org)
        ));
        output::line(&format!(
            "  login (OIDC) {} (Sign in with Citizen Card)",
            out.gateway
        ));
        output::line(&format!(
            "  demo service {} (Mapo Public Library)",
            out.demo_service
        ));
        output::line(&format!(
            "  records      {} ({} vault: consented reads, erasure)",
            out.records_vault,
            crate::records::DEVNET_RECORDS_HOLDER
        ));
        output::line("press Ctrl-C to stop; run again to resume the same chain");
    }
    let failure = tokio::select! {
        signal = wait_for_stop_signal() => {
            signal?;
            None
        }
        failed = first_failure(&mut nodes) => Some(failed),
    };
    match &failure {
        None => output::notice("stopping the devnet..."),
        Some((addr, err)) => output::notice(&format!(
            "the node of {addr} failed ({err}); stopping the devnet..."
        )),
    }
    vault.stop().await;
    gateway.stop().await;
    issuer.stop().await;
    stop_all(nodes).await;
    match failure {
        None => Ok(()),
        Some((addr, err)) => Err(anyhow::Error::new(err))
            .with_context(|| format!("the devnet stopped because its node of {addr} failed")),
    }
}

/// Resolves when the first of `nodes` fails (an essential task ended), with its API
/// address and why; never while all run. Cancel safe, as `RunningNode::failed` is.
async fn first_failure(nodes: &mut [RunningNode]) -> (SocketAddr, simin_node::NodeError) {
    use std::future::Future;
    use std::task::Poll;
    let mut waits: Vec<_> = nodes
        .iter_mut()
        .map(|node| {
            let addr = node.api_addr();
            Box::pin(async move { (addr, node.failed().await) })
        })
        .collect();
    std::future::poll_fn(|cx| {
        for wait in &mut waits {
            if let Poll::Ready(failed) = wait.as_mut().poll(cx) {
                return Poll::Ready(failed);
            }
        }
        Poll::Pending
    })
    .await
}

/// The devnet's citizen-card issuer, running in this process.
struct RunningIssuer {
    org: OrgId,
    url: String,
    home: PathBuf,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningIssuer {
    async fn stop(self) {
        let _ = self.stop.send(());
        match tokio::time::timeout(SHUTDOWN_WAIT, self.task).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => tracing::warn!(%e, "the issuer stopped with an error"),
            Ok(Err(e)) => tracing::warn!(%e, "the issuer task failed"),
            Err(_) => tracing::warn!("the issuer did not stop in time"),
        }
    }
}

/// Starts the demo issuer of `DEVNET_CARD_ISSUER` (registered, accredited and with its
/// DID from genesis), creating its home from the genesis keys on the first run.
async fn start_issuer(
    data_dir: &Path,
    node_api: &str,
    listen: SocketAddr,
) -> anyhow::Result<RunningIssuer> {
    let org = OrgId::new(DEVNET_CARD_ISSUER).expect("a valid constant id");
    let home_dir = devnet_issuer_home(data_dir);
    let home = IssuerHome::new(&home_dir);
    let mut config = IssuerConfig::new(org.clone(), node_api, &format!("http://{listen}"), listen);
    config.display_name = "Seoul Citizen Registry".into();
    if !home.config().exists() {
        let (org_path, assert_path) = org_key_paths(&data_dir.join("keys"), org.as_str());
        let keys = HomeKeys {
            signing_key: crate::keys::load_key(&assert_path)?,
            org_key: crate::keys::load_key(&org_path)?,
        };
        simin_issuer::init_home(&home_dir, &config, keys, &mut rand::rngs::OsRng)
            .context("cannot create the devnet issuer's home")?;
    } else {
        // The API address may differ from the last run's; keys and data stay.
        let text = toml::to_string(&config).context("the issuer configuration")?;
        std::fs::write(home.config(), text)
            .with_context(|| format!("cannot write {}", home.config().display()))?;
    }
    let service = Arc::new(
        IssuerService::open(&home_dir)
            .with_context(|| format!("cannot open the issuer home {}", home_dir.display()))?,
    );
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("the devnet issuer cannot listen on {listen}"))?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(simin_issuer::serve(
        listener,
        Arc::clone(&service),
        async move {
            let _ = stopped.await;
        },
    ));
    // Its status lists are created on chain once, in the background (a fresh devnet
    // needs a block or two); it offers and issues nothing until they are committed.
    service.start_preparing();
    Ok(RunningIssuer {
        org,
        url: format!("http://{listen}"),
        home: home_dir,
        stop,
        task,
    })
}

/// The home of the devnet's citizen-card issuer.
pub fn devnet_issuer_home(data_dir: &Path) -> PathBuf {
    data_dir.join("issuers").join(DEVNET_CARD_ISSUER)
}

pub async fn node_start(home: PathBuf, json: bool) -> anyhow::Result<()> {
    let mut node = start(&Home::new(home.clone()))
        .await
        .with_context(|| format!("cannot start the node in {}", home.display()))?;
    let api = format!("http://{}", node.api_addr());
    if json {
        output::json(&serde_json::json!({ "home": home, "api": api }));
    } else {
        output::line(&format!("node running; API {api}/v1; press Ctrl-C to stop"));
    }
    // A node whose consensus or API task died must not linger answering 500s: the
    // failure ends the process with an error, after stopping what still runs.
    let failure = tokio::select! {
        signal = wait_for_stop_signal() => {
            signal?;
            None
        }
        err = node.failed() => Some(err),
    };
    if let Some(err) = &failure {
        output::notice(&format!("the node failed ({err}); stopping it..."));
    }
    stop_all(vec![node]).await;
    match failure {
        None => Ok(()),
        Some(err) => Err(anyhow::Error::new(err))
            .with_context(|| format!("the node in {} stopped after a failure", home.display())),
    }
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
