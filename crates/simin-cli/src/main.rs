//! The `simin` command: thin glue (clap + anyhow) over simin-client and simin-node.

mod bench;
mod bench_report;
mod cli;
mod credential;
mod devnet;
mod devnet_ready;
mod eligibility;
mod feeds;
mod feeds_bench;
mod gateway;
mod issuer;
mod keys;
mod kiosk;
mod notary;
mod output;
mod records;
mod testnet;
mod verify;
mod wallet;
mod wallet_login;

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::cli::{Cli, Command, NodeCommand, TestnetCommand};

/// Log filter of commands that run a node, unless `RUST_LOG` says otherwise. Tracing
/// targets are crate paths, so each engine crate is named.
const NODE_LOG_DEFAULT: &str = "info,arc_malachitebft_engine=warn,arc_malachitebft_network=warn,\
arc_malachitebft_sync=warn,arc_malachitebft_discovery=warn,arc_malachitebft_core_consensus=warn,arc_malachitebft_wal=warn,libp2p=warn";
/// Added for a devnet of one validator: it has no peers by construction, so the
/// engine's "no peers subscribed" errors on every publish are noise there.
const SOLO_LOG_EXTRA: &str = ",arc_malachitebft_network=off";
/// Log filter of client commands: their stdout is the result, stderr stays quiet.
const CLIENT_LOG_DEFAULT: &str = "warn";

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runs_node = matches!(
        cli.command,
        Command::Devnet(_)
            | Command::Node(_)
            | Command::Issuer(issuer::IssuerCommand::Serve { .. })
            | Command::Gateway(gateway::GatewayCommand::Serve(_))
    );
    let solo = matches!(&cli.command, Command::Devnet(args) if args.validators == 1);
    init_logging(&match (runs_node, solo) {
        (true, true) => format!("{NODE_LOG_DEFAULT}{SOLO_LOG_EXTRA}"),
        (true, false) => NODE_LOG_DEFAULT.to_owned(),
        (false, _) => CLIENT_LOG_DEFAULT.to_owned(),
    });
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            output::error(&format!("cannot start the async runtime: {e}"));
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            output::error(&format!("{e:#}"));
            ExitCode::FAILURE
        }
    }
}

fn init_logging(default: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let json = cli.json;
    match cli.command {
        Command::Keys(command) => keys::run(command, json),
        Command::Status => notary::status(&cli.node, json).await,
        Command::Notary(command) => notary::run(&cli.node, command, json).await,
        Command::Bench(args) => bench::run(&cli.node, args, json).await,
        Command::Devnet(args) => devnet::devnet(args, json).await,
        Command::Node(NodeCommand::Start { home }) => devnet::node_start(home, json).await,
        Command::Testnet(TestnetCommand::Init(args)) => testnet::init(args, json),
        Command::Wallet(args) => wallet::run(args, &cli.node, json).await,
        Command::Issuer(command) => issuer::run(command, &cli.node, json).await,
        Command::Kiosk(command) => kiosk::run(command, &cli.node, json).await,
        Command::Data(command) => records::run(&cli.node, command, json).await,
        Command::Gateway(command) => gateway::run(&cli.node, command, json).await,
        Command::Eligibility(command) => eligibility::run(&cli.node, command, json).await,
        Command::Feeds(command) => feeds::run(&cli.node, command, json).await,
        Command::Verify(args) => {
            let client = simin_client::Client::new(&cli.node)?;
            let sources = verify::TrustSources {
                genesis: args.genesis,
                trust_dir: args.trust_dir,
                devnet_dir: args.devnet_dir,
            };
            credential::verify(
                &client,
                &args.file,
                &args.nonce,
                &args.audience,
                &sources,
                json,
            )
            .await
        }
    }
}
