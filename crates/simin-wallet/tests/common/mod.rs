//! Helpers shared by the wallet store's integration tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use rand::rngs::StdRng;
use rand::SeedableRng;
use simin_wallet::{CredentialRecord, KdfParams, WalletStore};

/// The passphrase of the test wallets.
pub const PASSPHRASE: &str = "correct horse battery staple";

/// A seeded generator, so each test sees the same keys on every run.
pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// A fresh temporary directory and the (not yet existing) wallet directory inside it.
pub fn wallet_dir() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let dir = tmp.path().join("wallet");
    (tmp, dir)
}

/// A wallet created in `dir` with the fast test parameters.
pub fn create(dir: &Path, seed: u64) -> WalletStore {
    WalletStore::create(
        dir,
        PASSPHRASE,
        KdfParams::insecure_for_tests(),
        &mut rng(seed),
    )
    .expect("the wallet is created")
}

/// A small SD-JWT-like record. The committed fixture holds `record(1_700_000_000,
/// Some("fixture"))`, so changing this changes what `tests/fixture.rs` expects.
pub fn record(received_at: u64, label: Option<&str>) -> CredentialRecord {
    CredentialRecord {
        format: "dc+sd-jwt".to_owned(),
        credential:
            "eyJhbGciOiJFZERTQSJ9.eyJ2Y3QiOiJjaXR5LWNhcmQifQ.c2ln~WyJzYWx0IiwibmFtZSIsIkFkYSJd~"
                .to_owned(),
        type_name: "https://city.example/vct/citizen-card".to_owned(),
        issuer: "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK".to_owned(),
        received_at,
        label: label.map(str::to_owned),
    }
}

pub mod card;
