//! The command line: every command, flag and environment variable of `simin`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// simin: a permissioned blockchain for a city's citizen services.
#[derive(Debug, Parser)]
#[command(name = "simin", version, about, propagate_version = true)]
pub struct Cli {
    /// Base URL of the node's HTTP API.
    #[arg(
        long,
        global = true,
        env = "SIMIN_NODE",
        default_value = "http://127.0.0.1:8080"
    )]
    pub node: String,
    /// Print machine-readable JSON on stdout instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create and inspect Ed25519 key files.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Show the node's view of the chain.
    Status,
    /// Anchor documents and verify anchorings.
    #[command(subcommand)]
    Notary(NotaryCommand),
    /// Load-test a running node with notary anchorings.
    Bench(BenchArgs),
    /// Run a local network in the foreground (created on first run, resumed after).
    Devnet(DevnetArgs),
    /// Run one node from its home directory.
    #[command(subcommand)]
    Node(NodeCommand),
    /// Lay out a local network of one process per node (`simin node start --home`).
    #[command(subcommand)]
    Testnet(TestnetCommand),
    /// Verify a citizen-card presentation (SD-JWT VC with key binding) without trusting
    /// the node: exit 0 printing the disclosed claims, exit 1 printing the reason.
    Verify(VerifyPresentationArgs),
    /// The citizen's wallet: receive credentials (OpenID4VCI), keep them encrypted, and
    /// present chosen claims (SD-JWT with key binding).
    Wallet(WalletArgs),
    /// An organisation's credential issuer (OpenID4VCI): set it up, run it, offer
    /// credentials and change their status.
    #[command(subcommand)]
    Issuer(crate::issuer::IssuerCommand),
    /// The city's OpenID Connect provider ("Sign in with Citizen Card"): run it, and
    /// register the services that use it.
    #[command(subcommand)]
    Gateway(crate::gateway::GatewayCommand),
    /// Paperless eligibility: publish a benefit's requirements, decide an application
    /// from credential presentations, audit a recorded decision.
    #[command(subcommand)]
    Eligibility(crate::eligibility::EligibilityCommand),
    /// Urban data feeds: datasets, sources, a simulated sensor fleet, queries,
    /// aggregates, open-data export and single-reading proofs.
    #[command(subcommand)]
    Feeds(crate::feeds::FeedsCommand),
    /// Personal administrative records: consents (grant, revoke), the access log,
    /// erasure; filing in a vault and consented reads.
    #[command(subcommand)]
    Data(crate::records::DataCommand),
    /// A facility's check-in kiosk: sync a proven snapshot of the chain while online,
    /// then verify wallets' check-in payloads offline.
    #[command(subcommand)]
    Kiosk(crate::kiosk::KioskCommand),
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Generate a key; writes its secret seed (hex, mode 0600) and prints the public key.
    New {
        /// Where to write the secret key; without it, the secret is printed.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Print the public key of a key file.
    Show {
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
    },
}

/// Which key signs, and where the devnet lives (for the default key and genesis).
#[derive(Debug, Args)]
pub struct KeyArgs {
    /// The signing key file [default: the devnet notary key].
    #[arg(long, env = "SIMIN_KEY", value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// The devnet data directory [default: ~/.simin/devnet].
    #[arg(long, env = "SIMIN_DEVNET_DIR", value_name = "DIR")]
    pub devnet_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum NotaryCommand {
    /// Anchor the SHA-256 of one file, or of several files as one batch (up to 1024).
    Anchor {
        /// The files to anchor; they never leave this machine, only their hashes do.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        #[command(flatten)]
        key: KeyArgs,
    },
    /// Check, without trusting the node, that a file was anchored; exit 1 if not.
    Verify {
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Trust the validators of this genesis file [default: the devnet's genesis if it
        /// is the node's chain, else the set pinned on first use].
        #[arg(long, value_name = "FILE")]
        genesis: Option<PathBuf>,
        /// Where validator sets pinned on first use are kept [default: ~/.simin/trusted].
        #[arg(long, env = "SIMIN_TRUST_DIR", value_name = "DIR")]
        trust_dir: Option<PathBuf>,
        /// The devnet data directory [default: ~/.simin/devnet].
        #[arg(long, env = "SIMIN_DEVNET_DIR", value_name = "DIR")]
        devnet_dir: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct VerifyPresentationArgs {
    /// The presentation file (`<issuer-jwt>~<disclosures>~<kb-jwt>`).
    #[arg(value_name = "PRESENTATION_FILE")]
    pub file: PathBuf,
    /// The nonce this verifier gave the wallet.
    #[arg(long)]
    pub nonce: String,
    /// This verifier's identifier (the key binding's audience).
    #[arg(long)]
    pub audience: String,
    /// Trust the validators of this genesis file [default: the devnet's genesis if it
    /// is the node's chain, else the set pinned on first use].
    #[arg(long, value_name = "FILE")]
    pub genesis: Option<PathBuf>,
    /// Where validator sets pinned on first use are kept [default: ~/.simin/trusted].
    #[arg(long, env = "SIMIN_TRUST_DIR", value_name = "DIR")]
    pub trust_dir: Option<PathBuf>,
    /// The devnet data directory [default: ~/.simin/devnet].
    #[arg(long, env = "SIMIN_DEVNET_DIR", value_name = "DIR")]
    pub devnet_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// How many transactions to send.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub txs: u64,
    /// How many requests in flight at once.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub concurrency: u64,
    /// Give up waiting for commits after this many seconds.
    #[arg(long, default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub timeout_secs: u64,
    #[command(flatten)]
    pub key: KeyArgs,
}

#[derive(Debug, Args)]
pub struct DevnetArgs {
    /// Where the devnet's keys, genesis and node homes live [default: ~/.simin/devnet].
    #[arg(long, env = "SIMIN_DEVNET_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// The first validator's API address; the others take the next ports.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub api: SocketAddr,
    /// Number of validators (fixed when the devnet is first created).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub validators: u64,
    /// Where the demo citizen-card issuer (OpenID4VCI) listens.
    #[arg(long, default_value = "127.0.0.1:8090", value_name = "ADDR")]
    pub issuer: SocketAddr,
    /// Where the OpenID Connect provider ("Sign in with Citizen Card") listens.
    #[arg(long, default_value = "127.0.0.1:8091", value_name = "ADDR")]
    pub gateway: SocketAddr,
    /// Where the demo library service (an OpenID Connect client) listens.
    #[arg(long, default_value = "127.0.0.1:8092", value_name = "ADDR")]
    pub demo_service: SocketAddr,
    /// Where the family-welfare office's records vault listens.
    #[arg(long, default_value = "127.0.0.1:8094", value_name = "ADDR")]
    pub records: SocketAddr,
}

#[derive(Debug, Subcommand)]
pub enum NodeCommand {
    /// Start the node whose home is DIR (config.toml, genesis.json, node.key).
    Start {
        #[arg(long, value_name = "DIR")]
        home: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum TestnetCommand {
    /// Write one home per node (keys, shared genesis, config on 127.0.0.1 ports); run
    /// again to rewrite the configs of the same chain.
    Init(TestnetInitArgs),
}

#[derive(Debug, Args)]
pub struct TestnetInitArgs {
    /// Number of validators (fixed when the network is first laid out).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub validators: u64,
    /// Number of full nodes: they follow the chain and relay to the validators.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=99))]
    pub full_nodes: u64,
    /// Where the network's keys, genesis and node homes are written.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Node i's API listens on 127.0.0.1:(P + i), its peer-to-peer port on P + 100 + i.
    #[arg(long, default_value_t = 26_000, value_name = "P")]
    pub base_port: u16,
}

/// Where the wallet is; its passphrase comes from `SIMIN_WALLET_PASSPHRASE` or is typed
/// on the terminal.
#[derive(Debug, Args)]
pub struct WalletArgs {
    /// The wallet directory [default: ~/.simin/wallet].
    #[arg(long, global = true, env = "SIMIN_WALLET_DIR", value_name = "DIR")]
    pub wallet: Option<PathBuf>,
    #[command(subcommand)]
    pub command: WalletCommand,
}

#[derive(Debug, Subcommand)]
pub enum WalletCommand {
    /// Create a wallet with a new holder key; prints the holder's did:jwk.
    Create,
    /// Print the holder's did:jwk.
    Did,
    /// Receive the credentials of an offer (openid-credential-offer://...) and store them.
    Receive {
        /// The offer link, as scanned or clicked.
        #[arg(value_name = "OFFER_URI")]
        offer: String,
        /// The transaction code the issuer sent by another channel, if the offer asks.
        #[arg(long, value_name = "CODE")]
        tx_code: Option<String>,
        /// Store the credential without checking the issuer's signature against its DID
        /// document on the node (--node).
        #[arg(long)]
        no_verify_issuer: bool,
    },
    /// List the stored credentials.
    List,
    /// Show a credential's claims.
    Show {
        /// The credential's id (see `simin wallet list`).
        #[arg(value_name = "ID")]
        id: String,
    },
    /// Present a credential to a verifier, disclosing only the chosen claims.
    Present {
        /// The credential's id (see `simin wallet list`).
        #[arg(value_name = "ID")]
        id: String,
        /// The verifier's nonce.
        #[arg(long)]
        nonce: String,
        /// The verifier's identifier (the key binding's audience).
        #[arg(long)]
        audience: String,
        /// The claims to disclose, comma-separated (see `simin wallet show ID`).
        #[arg(long, value_delimiter = ',', value_name = "NAMES")]
        disclose: Vec<String>,
        /// Write the presentation to FILE (mode 0600) instead of printing it.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// A short-lived check-in payload for a facility's offline kiosk (audience
    /// did:simin:<facility>, a fresh random nonce, signed now), optionally as a QR code.
    Checkin(crate::kiosk::CheckinArgs),
    /// Sign in to a city service with the citizen card (OpenID4VP): shows who asks for
    /// which claims, asks for confirmation, and presents only those claims.
    Login(crate::wallet_login::LoginArgs),
    /// Show which services received claims from your card: the city's access log, read
    /// at the gateway with a presentation of your card number.
    AccessLog(crate::wallet_login::AccessLogArgs),
    /// Keys for personal records: one per record, so your records cannot be linked.
    #[command(subcommand)]
    Records(crate::records::WalletRecordsCommand),
    /// Delete a stored credential.
    Remove {
        /// The credential's id (see `simin wallet list`).
        #[arg(value_name = "ID")]
        id: String,
    },
}
