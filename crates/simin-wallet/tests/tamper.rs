//! Damaged and tampered files: every change is reported as a typed error, never a panic
//! and never as a working wallet.

mod common;

use std::fs;
use std::path::Path;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use common::{create, record, rng, wallet_dir, PASSPHRASE};
use sha2::{Digest, Sha256};
use simin_wallet::store::{CREDENTIALS_DIR, WALLET_FILE};
use simin_wallet::{WalletError, WalletStore};

/// The index of the version digit in a file, the one byte whose change is an
/// unsupported version rather than damage.
fn version_digit(bytes: &[u8]) -> usize {
    let text = std::str::from_utf8(bytes).expect("utf-8");
    let key = "\"version\": ";
    text.find(key).expect("a version field") + key.len()
}

/// Flips `mask` in each byte of `path` in turn and checks `attempt` refuses every one.
fn every_flip_is_refused(path: &Path, attempt: impl Fn() -> Result<(), WalletError>) {
    let original = fs::read(path).expect("read");
    let version_at = version_digit(&original);
    for mask in [0x01u8, 0x20, 0x80] {
        for at in 0..original.len() {
            let mut damaged = original.clone();
            damaged[at] ^= mask;
            fs::write(path, &damaged).expect("written");
            match attempt() {
                Err(WalletError::Corrupt { .. }) => {}
                Err(WalletError::UnsupportedVersion { .. }) if at == version_at => {}
                other => panic!(
                    "flipping {mask:#04x} at byte {at} ({:?}) gave {other:?}",
                    char::from(original[at])
                ),
            }
        }
    }
    fs::write(path, &original).expect("restored");
    attempt().expect("the restored file works again");
}

#[test]
fn every_byte_of_wallet_json_is_protected() {
    let (_tmp, dir) = wallet_dir();
    create(&dir, 1);
    every_flip_is_refused(&dir.join(WALLET_FILE), || {
        WalletStore::open(&dir, PASSPHRASE).map(drop)
    });
}

#[test]
fn every_byte_of_a_record_is_protected() {
    let (_tmp, dir) = wallet_dir();
    let mut store = create(&dir, 1);
    let id = store
        .put_credential(&record(1, None), &mut rng(10))
        .expect("stored");
    let other = store
        .put_credential(&record(2, None), &mut rng(11))
        .expect("stored");
    let path = dir.join(CREDENTIALS_DIR).join(format!("{id}.json"));
    every_flip_is_refused(&path, || store.get_credential(id).map(drop));
    // A damaged record fails the listing with its path, and removing it recovers.
    let mut damaged = fs::read(&path).expect("read");
    let last = damaged.len() - 5;
    damaged[last] ^= 1;
    fs::write(&path, &damaged).expect("written");
    match store.list_credentials() {
        Err(WalletError::Corrupt { path: reported, .. }) => assert_eq!(reported, path),
        other => panic!("expected Corrupt, got {other:?}"),
    }
    store.remove_credential(id).expect("removed");
    let ids: Vec<_> = store
        .list_credentials()
        .expect("lists")
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids, [other]);
}

#[test]
fn truncated_and_empty_files_are_corrupt() {
    let (_tmp, dir) = wallet_dir();
    create(&dir, 1);
    let path = dir.join(WALLET_FILE);
    let original = fs::read(&path).expect("read");
    for len in [0, 1, original.len() / 2, original.len() - 2] {
        fs::write(&path, &original[..len]).expect("written");
        assert!(
            matches!(
                WalletStore::open(&dir, PASSPHRASE),
                Err(WalletError::Corrupt { .. })
            ),
            "truncated to {len}"
        );
    }
}

/// Recomputes the documented checksum of a `wallet.json`, as a forger would.
fn reseal_checksum(json: &mut serde_json::Value) {
    let text = |pointer: &str| {
        json.pointer(pointer)
            .and_then(|v| v.as_str())
            .expect(pointer)
    };
    let number = |pointer: &str| {
        u32::try_from(
            json.pointer(pointer)
                .and_then(|v| v.as_u64())
                .expect(pointer),
        )
        .expect("u32")
    };
    let ciphertext = BASE64.decode(text("/ciphertext")).expect("base64");
    let digest = Sha256::new()
        .chain_update(b"simin-wallet/checksum\0")
        .chain_update(1u32.to_be_bytes())
        .chain_update(hex::decode(text("/wallet_id")).expect("hex"))
        .chain_update(hex::decode(text("/holder_public")).expect("hex"))
        .chain_update(number("/kdf/m_cost_kib").to_be_bytes())
        .chain_update(number("/kdf/t_cost").to_be_bytes())
        .chain_update(number("/kdf/p_cost").to_be_bytes())
        .chain_update(BASE64.decode(text("/kdf/salt")).expect("base64"))
        .chain_update(hex::decode(text("/kdf/check")).expect("hex"))
        .chain_update(BASE64.decode(text("/nonce")).expect("base64"))
        .chain_update(u64::try_from(ciphertext.len()).expect("u64").to_be_bytes())
        .chain_update(&ciphertext)
        .finalize();
    json["checksum"] = hex::encode(digest).into();
}

fn edit_wallet(dir: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = dir.join(WALLET_FILE);
    let mut json: serde_json::Value =
        serde_json::from_slice(&fs::read(&path).expect("read")).expect("json");
    edit(&mut json);
    reseal_checksum(&mut json);
    fs::write(&path, serde_json::to_vec_pretty(&json).expect("json")).expect("written");
}

#[test]
fn the_documented_checksum_is_the_one_written() {
    let (_tmp, dir) = wallet_dir();
    create(&dir, 1);
    edit_wallet(&dir, |_| {});
    WalletStore::open(&dir, PASSPHRASE).expect("a re-encoded file with the same checksum opens");
}

#[test]
fn forged_ciphertext_is_corrupt_not_a_wrong_passphrase() {
    let (_tmp, dir) = wallet_dir();
    create(&dir, 1);
    edit_wallet(&dir, |json| {
        let mut ciphertext = BASE64
            .decode(json["ciphertext"].as_str().expect("text"))
            .expect("base64");
        ciphertext[3] ^= 1;
        json["ciphertext"] = BASE64.encode(ciphertext).into();
    });
    let err = WalletStore::open(&dir, PASSPHRASE).expect_err("refused");
    assert!(matches!(err, WalletError::Corrupt { .. }), "{err:?}");
}

#[test]
fn forged_holder_key_is_refused() {
    let (_tmp, dir) = wallet_dir();
    let (_tmp2, other) = wallet_dir();
    create(&dir, 1);
    let other_public = hex::encode(create(&other, 2).holder_public().as_bytes());
    edit_wallet(&dir, |json| json["holder_public"] = other_public.into());
    let err = WalletStore::open(&dir, PASSPHRASE).expect_err("refused");
    assert!(matches!(err, WalletError::Corrupt { .. }), "{err:?}");
}

#[test]
fn forged_huge_kdf_params_are_refused_before_allocating() {
    let (_tmp, dir) = wallet_dir();
    create(&dir, 1);
    edit_wallet(&dir, |json| json["kdf"]["m_cost_kib"] = u32::MAX.into());
    let err = WalletStore::open(&dir, PASSPHRASE).expect_err("refused");
    assert!(matches!(err, WalletError::Corrupt { .. }), "{err:?}");
}

#[test]
fn records_cannot_be_renamed_or_moved_between_wallets() {
    let (_tmp, dir) = wallet_dir();
    let (_tmp2, other_dir) = wallet_dir();
    let mut store = create(&dir, 1);
    let mut other = create(&other_dir, 2);
    let id = store
        .put_credential(&record(1, None), &mut rng(10))
        .expect("stored");
    let file = format!("{id}.json");

    // Moved to another wallet under the same name: another wallet id in the AAD, and
    // another data key.
    fs::copy(
        dir.join(CREDENTIALS_DIR).join(&file),
        other_dir.join(CREDENTIALS_DIR).join(&file),
    )
    .expect("copied");
    assert!(matches!(
        other.get_credential(id),
        Err(WalletError::Corrupt { .. })
    ));

    // Renamed within the wallet, with the id inside the file rewritten to match.
    let new_id = other
        .put_credential(&record(2, None), &mut rng(11))
        .expect("stored");
    let text = fs::read_to_string(dir.join(CREDENTIALS_DIR).join(&file)).expect("read");
    let renamed = text.replace(&id.to_string(), &new_id.to_string());
    fs::write(
        dir.join(CREDENTIALS_DIR).join(format!("{new_id}.json")),
        renamed,
    )
    .expect("written");
    assert!(matches!(
        store.get_credential(new_id),
        Err(WalletError::Corrupt { .. })
    ));
}

#[cfg(unix)]
#[test]
fn a_fifo_is_not_read() {
    let (_tmp, dir) = wallet_dir();
    create(&dir, 1);
    let path = dir.join(WALLET_FILE);
    fs::remove_file(&path).expect("removed");
    let status = std::process::Command::new("mkfifo").arg(&path).status();
    if !matches!(status, Ok(s) if s.success()) {
        return; // No mkfifo here; nothing to test.
    }
    assert!(matches!(
        WalletStore::open(&dir, PASSPHRASE),
        Err(WalletError::Corrupt { .. })
    ));
}
