//! The wallet store's behaviour through its public API: round trips, passphrases,
//! records, permissions and limits.

mod common;

use std::fs;

use common::{create, record, rng, wallet_dir, PASSPHRASE};
use proptest::prelude::*;
use simin_wallet::store::{
    CREDENTIALS_DIR, RECORD_FILE_MAX_BYTES, WALLET_FILE, WALLET_FILE_MAX_BYTES,
};
use simin_wallet::{CredentialId, CredentialRecord, KdfParams, WalletError, WalletStore};

#[test]
fn create_then_open_gives_the_same_keys() {
    let (_tmp, dir) = wallet_dir();
    let created = create(&dir, 1);
    let opened = WalletStore::open(&dir, PASSPHRASE).expect("the wallet opens");
    assert_eq!(opened.wallet_id(), created.wallet_id());
    assert_eq!(opened.holder_public(), created.holder_public());
    assert_eq!(
        opened.holder_key().to_bytes(),
        created.holder_key().to_bytes()
    );
    assert_eq!(opened.kdf_params(), KdfParams::insecure_for_tests());
    assert!(WalletStore::exists(&dir).expect("exists runs"));
}

#[test]
fn each_wallet_gets_its_own_keys() {
    let (_tmp, dir) = wallet_dir();
    let (_tmp2, dir2) = wallet_dir();
    let one = create(&dir, 1);
    let two = create(&dir2, 2);
    assert_ne!(one.holder_public(), two.holder_public());
    assert_ne!(one.wallet_id(), two.wallet_id());
}

/// Runs once per `cargo test`: the real cost parameters, to prove they are accepted.
#[test]
fn default_params_round_trip() {
    let (_tmp, dir) = wallet_dir();
    let created = WalletStore::create(&dir, PASSPHRASE, KdfParams::default(), &mut rng(3))
        .expect("the wallet is created");
    assert_eq!(created.kdf_params(), KdfParams::OWASP);
    let opened = WalletStore::open(&dir, PASSPHRASE).expect("the wallet opens");
    assert_eq!(opened.holder_public(), created.holder_public());
    let text = fs::read_to_string(dir.join(WALLET_FILE)).expect("readable");
    assert!(
        text.contains("\"m_cost_kib\": 19456"),
        "the params are recorded: {text}"
    );
}

#[test]
fn wrong_passphrase_is_refused() {
    let (_tmp, dir) = wallet_dir();
    create(&dir, 1);
    let err = WalletStore::open(&dir, "correct horse battery stapler").expect_err("refused");
    assert!(matches!(err, WalletError::WrongPassphrase), "{err:?}");
    assert!(err.to_string().contains("wrong passphrase"), "{err}");
    assert!(matches!(
        WalletStore::open(&dir, ""),
        Err(WalletError::InvalidPassphrase { .. })
    ));
    let long = "x".repeat(2000);
    assert!(matches!(
        WalletStore::open(&dir, &long),
        Err(WalletError::InvalidPassphrase { .. })
    ));
}

#[test]
fn missing_wallet_is_not_found() {
    let (_tmp, dir) = wallet_dir();
    assert!(matches!(
        WalletStore::open(&dir, PASSPHRASE),
        Err(WalletError::NotFound { .. })
    ));
    assert!(!WalletStore::exists(&dir).expect("exists runs"));
}

#[test]
fn create_over_an_existing_wallet_is_refused() {
    let (_tmp, dir) = wallet_dir();
    let first = create(&dir, 1);
    let err = WalletStore::create(
        &dir,
        "another one",
        KdfParams::insecure_for_tests(),
        &mut rng(2),
    )
    .expect_err("refused");
    assert!(matches!(err, WalletError::AlreadyExists { .. }), "{err:?}");
    let opened = WalletStore::open(&dir, PASSPHRASE).expect("the first wallet is intact");
    assert_eq!(opened.holder_public(), first.holder_public());
}

#[test]
fn create_over_leftover_records_is_refused() {
    let (_tmp, dir) = wallet_dir();
    let mut store = create(&dir, 1);
    store
        .put_credential(&record(1, None), &mut rng(9))
        .expect("stored");
    fs::remove_file(dir.join(WALLET_FILE)).expect("removed");
    assert!(matches!(
        WalletStore::create(
            &dir,
            PASSPHRASE,
            KdfParams::insecure_for_tests(),
            &mut rng(2)
        ),
        Err(WalletError::AlreadyExists { .. })
    ));
}

#[test]
fn create_refuses_out_of_range_params() {
    let (_tmp, dir) = wallet_dir();
    let params = KdfParams {
        m_cost_kib: u32::MAX,
        ..KdfParams::OWASP
    };
    assert!(matches!(
        WalletStore::create(&dir, PASSPHRASE, params, &mut rng(1)),
        Err(WalletError::InvalidKdfParams { .. })
    ));
    assert!(!dir.exists(), "nothing is written for refused parameters");
}

#[test]
fn record_round_trip() {
    let (_tmp, dir) = wallet_dir();
    let mut store = create(&dir, 1);
    let with_label = record(1_700_000_000, Some("my card"));
    let without = record(1_700_000_001, None);
    let id1 = store
        .put_credential(&with_label, &mut rng(10))
        .expect("stored");
    let id2 = store
        .put_credential(&without, &mut rng(11))
        .expect("stored");
    assert_ne!(id1, id2);
    assert_eq!(store.get_credential(id1).expect("read"), with_label);
    assert_eq!(store.get_credential(id2).expect("read"), without);

    let reopened = WalletStore::open(&dir, PASSPHRASE).expect("opens");
    assert_eq!(
        reopened.get_credential(id1).expect("read after reopening"),
        with_label
    );

    let on_disk = fs::read_to_string(dir.join(CREDENTIALS_DIR).join(format!("{id1}.json")))
        .expect("the record file is named by its id");
    assert!(
        !on_disk.contains("citizen-card") && !on_disk.contains("my card"),
        "{on_disk}"
    );
}

#[test]
fn list_and_remove() {
    let (_tmp, dir) = wallet_dir();
    let mut store = create(&dir, 1);
    assert!(store.list_credentials().expect("lists").is_empty());
    let late = store
        .put_credential(&record(300, None), &mut rng(10))
        .expect("stored");
    let early = store
        .put_credential(&record(100, Some("first")), &mut rng(11))
        .expect("stored");
    let middle = store
        .put_credential(&record(200, None), &mut rng(12))
        .expect("stored");
    // A temporary left by an interrupted write is not a record.
    fs::write(dir.join(CREDENTIALS_DIR).join(".junk.json.tmp"), b"x").expect("written");

    let list = store.list_credentials().expect("lists");
    let ids: Vec<_> = list.iter().map(|summary| summary.id).collect();
    assert_eq!(ids, [early, middle, late], "oldest first");
    assert_eq!(list[0].label.as_deref(), Some("first"));
    assert_eq!(list[0].format, "dc+sd-jwt");
    assert_eq!(list[0].received_at, 100);

    store.remove_credential(middle).expect("removed");
    let ids: Vec<_> = store
        .list_credentials()
        .expect("lists")
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids, [early, late]);
    assert!(matches!(
        store.get_credential(middle),
        Err(WalletError::CredentialNotFound { id }) if id == middle
    ));
    assert!(matches!(
        store.remove_credential(middle),
        Err(WalletError::CredentialNotFound { .. })
    ));
}

#[test]
fn change_passphrase_rewraps_and_keeps_records() {
    let (_tmp, dir) = wallet_dir();
    let mut store = create(&dir, 1);
    let id = store
        .put_credential(&record(5, None), &mut rng(10))
        .expect("stored");
    let record_before =
        fs::read(dir.join(CREDENTIALS_DIR).join(format!("{id}.json"))).expect("read");

    let wallet_before = fs::read(dir.join(WALLET_FILE)).expect("read");
    assert!(matches!(
        store.change_passphrase("not it", "new passphrase", &mut rng(20)),
        Err(WalletError::WrongPassphrase)
    ));
    assert_eq!(
        fs::read(dir.join(WALLET_FILE)).expect("read"),
        wallet_before,
        "unchanged"
    );

    store
        .change_passphrase(PASSPHRASE, "new passphrase", &mut rng(21))
        .expect("changed");
    assert!(matches!(
        WalletStore::open(&dir, PASSPHRASE),
        Err(WalletError::WrongPassphrase)
    ));
    let reopened = WalletStore::open(&dir, "new passphrase").expect("opens with the new one");
    assert_eq!(reopened.holder_public(), store.holder_public());
    assert_eq!(reopened.wallet_id(), store.wallet_id());
    assert_eq!(reopened.get_credential(id).expect("read"), record(5, None));
    let record_after =
        fs::read(dir.join(CREDENTIALS_DIR).join(format!("{id}.json"))).expect("read");
    assert_eq!(record_before, record_after, "records are not rewritten");
}

#[test]
fn change_passphrase_refuses_a_replaced_wallet() {
    let (_tmp, dir) = wallet_dir();
    let (_tmp2, other) = wallet_dir();
    let mut store = create(&dir, 1);
    create(&other, 2);
    fs::copy(other.join(WALLET_FILE), dir.join(WALLET_FILE)).expect("copied");
    assert!(matches!(
        store.change_passphrase(PASSPHRASE, "new passphrase", &mut rng(3)),
        Err(WalletError::Corrupt { .. })
    ));
}

#[cfg(unix)]
#[test]
fn files_are_private() {
    use std::os::unix::fs::PermissionsExt;

    let (_tmp, dir) = wallet_dir();
    let mut store = create(&dir, 1);
    let id = store
        .put_credential(&record(1, None), &mut rng(10))
        .expect("stored");
    store
        .change_passphrase(PASSPHRASE, "new passphrase", &mut rng(11))
        .expect("changed");
    let mode =
        |path: &std::path::Path| fs::metadata(path).expect("metadata").permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join(CREDENTIALS_DIR)), 0o700);
    assert_eq!(mode(&dir.join(WALLET_FILE)), 0o600);
    assert_eq!(
        mode(&dir.join(CREDENTIALS_DIR).join(format!("{id}.json"))),
        0o600
    );
}

#[test]
fn oversized_files_are_refused() {
    let (_tmp, dir) = wallet_dir();
    let mut store = create(&dir, 1);
    let id = store
        .put_credential(&record(1, None), &mut rng(10))
        .expect("stored");

    let record_path = dir.join(CREDENTIALS_DIR).join(format!("{id}.json"));
    // usize from a 1 MiB constant.
    let big = vec![b' '; usize::try_from(RECORD_FILE_MAX_BYTES).expect("1 MiB fits") + 1];
    fs::write(&record_path, &big).expect("written");
    assert!(matches!(
        store.get_credential(id),
        Err(WalletError::FileTooLarge {
            limit_bytes: RECORD_FILE_MAX_BYTES,
            ..
        })
    ));

    let big = vec![b' '; usize::try_from(WALLET_FILE_MAX_BYTES).expect("1 MiB fits") + 1];
    fs::write(dir.join(WALLET_FILE), &big).expect("written");
    assert!(matches!(
        WalletStore::open(&dir, PASSPHRASE),
        Err(WalletError::FileTooLarge {
            limit_bytes: WALLET_FILE_MAX_BYTES,
            ..
        })
    ));
}

#[test]
fn oversized_records_are_not_stored() {
    let (_tmp, dir) = wallet_dir();
    let mut store = create(&dir, 1);
    let limit = usize::try_from(RECORD_FILE_MAX_BYTES).expect("1 MiB fits");
    for size in [limit + 1, limit - 1000] {
        let big = CredentialRecord {
            credential: "a".repeat(size),
            ..record(1, None)
        };
        // The second one fits before encryption but not once base64-encoded.
        assert!(matches!(
            store.put_credential(&big, &mut rng(10)),
            Err(WalletError::RecordTooLarge {
                limit_bytes: RECORD_FILE_MAX_BYTES,
                ..
            })
        ));
    }
    assert!(store.list_credentials().expect("lists").is_empty());
    let fits = CredentialRecord {
        credential: "a".repeat(limit / 2),
        ..record(1, None)
    };
    let id = store
        .put_credential(&fits, &mut rng(11))
        .expect("half a MiB fits");
    assert_eq!(store.get_credential(id).expect("read"), fits);
}

#[test]
fn unknown_version_is_typed() {
    let (_tmp, dir) = wallet_dir();
    create(&dir, 1);
    let path = dir.join(WALLET_FILE);
    let text = fs::read_to_string(&path).expect("read");
    fs::write(&path, text.replace("\"version\": 1,", "\"version\": 2,")).expect("written");
    let err = WalletStore::open(&dir, PASSPHRASE).expect_err("refused");
    assert!(
        matches!(
            err,
            WalletError::UnsupportedVersion {
                found: 2,
                supported: 1,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn debug_shows_no_secret() {
    let (_tmp, dir) = wallet_dir();
    let store = create(&dir, 1);
    let debug = format!("{store:?}");
    let secret = hex::encode(store.holder_key().to_bytes());
    assert!(!debug.contains(&secret), "{debug}");
    assert!(
        debug.contains(&hex::encode(store.holder_public().as_bytes())),
        "{debug}"
    );
    let shown = format!("{:?}", record(1, None));
    assert!(
        !shown.contains("eyJ"),
        "the credential itself is not shown: {shown}"
    );
}

#[test]
fn holder_key_is_wiped_on_drop() {
    fn zeroized_on_drop<T: zeroize::ZeroizeOnDrop>() {}
    zeroized_on_drop::<ed25519_dalek::SigningKey>();
}

#[test]
fn credential_ids_parse_from_user_input() {
    let (_tmp, dir) = wallet_dir();
    let mut store = create(&dir, 1);
    let id = store
        .put_credential(&record(1, None), &mut rng(10))
        .expect("stored");
    let parsed: CredentialId = id.to_string().parse().expect("parses");
    assert_eq!(parsed, id);
    assert!(matches!(
        "../wallet".parse::<CredentialId>(),
        Err(WalletError::InvalidCredentialId { .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn any_record_round_trips(
        format in ".{0,20}",
        credential in ".{0,300}",
        type_name in ".{0,40}",
        issuer in ".{0,40}",
        received_at in any::<u64>(),
        label in proptest::option::of(".{0,20}"),
        seed in any::<u64>(),
    ) {
        let (_tmp, dir) = wallet_dir();
        let mut store = create(&dir, seed);
        let stored = CredentialRecord { format, credential, type_name, issuer, received_at, label };
        let id = store.put_credential(&stored, &mut rng(seed ^ 1)).expect("stored");
        prop_assert_eq!(store.get_credential(id).expect("read"), stored);
    }
}

#[test]
fn the_same_seed_writes_the_same_bytes() {
    let (_tmp, one) = wallet_dir();
    let (_tmp2, two) = wallet_dir();
    create(&one, 7);
    create(&two, 7);
    assert_eq!(
        fs::read(one.join(WALLET_FILE)).expect("read"),
        fs::read(two.join(WALLET_FILE)).expect("read")
    );
}
