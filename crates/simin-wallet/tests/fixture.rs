//! The committed version-1 wallet in `tests/fixtures/wallet-v1` pins the on-disk format:
//! this build must keep opening it, with the same keys and records.
//!
//! To regenerate it (a deliberate, reviewed format change), run
//! `SIMIN_WALLET_FIXTURE_OUT=<empty dir> cargo test -p simin-wallet --test fixture -- --ignored`
//! and update the constants below.

mod common;

use std::path::{Path, PathBuf};

use common::{record, rng, PASSPHRASE};
use simin_wallet::{CredentialId, KdfParams, WalletStore};

const WALLET_ID: &str = "d8297b04fa143f3073148b2aeb01a52a";
const HOLDER_PUBLIC: &str = "e2c6390d6c99be0df224bda725bfcdfa1177f78e67b3421c01aaaee66ccb7d2b";
const RECORD_ID: &str = "ddaf9416def9dc9a2729d3ddd631508f";

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wallet-v1")
}

#[test]
fn the_version_1_fixture_opens() {
    let store = WalletStore::open(&fixture_dir(), PASSPHRASE).expect("the fixture opens");
    assert_eq!(store.wallet_id().to_string(), WALLET_ID);
    assert_eq!(hex::encode(store.holder_public().as_bytes()), HOLDER_PUBLIC);
    assert_eq!(store.kdf_params(), KdfParams::insecure_for_tests());
    let id: CredentialId = RECORD_ID.parse().expect("a valid id");
    let summaries = store.list_credentials().expect("lists");
    assert_eq!(summaries.len(), 1);
    assert_eq!(summaries[0].id, id);
    assert_eq!(
        store.get_credential(id).expect("read"),
        record(1_700_000_000, Some("fixture"))
    );
}

#[test]
#[ignore = "writes a new fixture; run by hand when the format changes on purpose"]
fn write_fixture() {
    let out = std::env::var_os("SIMIN_WALLET_FIXTURE_OUT").expect("SIMIN_WALLET_FIXTURE_OUT");
    let dir = Path::new(&out).join("wallet-v1");
    let mut store = WalletStore::create(
        &dir,
        PASSPHRASE,
        KdfParams::insecure_for_tests(),
        &mut rng(2024),
    )
    .expect("created");
    let id = store
        .put_credential(&record(1_700_000_000, Some("fixture")), &mut rng(2025))
        .expect("stored");
    std::fs::write(
        Path::new(&out).join("constants.txt"),
        format!(
            "{}\n{}\n{id}\n",
            store.wallet_id(),
            hex::encode(store.holder_public().as_bytes())
        ),
    )
    .expect("written");
}
