//! Bitstring Status List v1.0: bit order, the encodedList format, decoding bounds,
//! entries and the status list credential.

use std::io::Write;

use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use flate2::write::GzEncoder;
use flate2::Compression;
use proptest::prelude::*;
use serde_json::json;
use simin_identity::status_list::{
    entry_status, read_status_list_credential, status_list_credential, status_list_index,
    BitstringStatusListEntry, StatusList, StatusListError, StatusPurpose, STATUS_LIST_BITS_MAX,
    STATUS_LIST_BITS_MIN,
};

/// The spec's example `encodedList`: an all-clear list of the minimum size.
const SPEC_MINIMAL_LIST: &str =
    "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA";

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).expect("vec");
    encoder.finish().expect("vec")
}

fn encoded(compressed: &[u8]) -> String {
    format!("u{}", URL_SAFE_NO_PAD.encode(compressed))
}

#[test]
fn spec_example_decodes_to_131072_clear_bits() {
    let list = StatusList::decode(SPEC_MINIMAL_LIST, STATUS_LIST_BITS_MAX).expect("decodes");
    assert_eq!(list.bit_len(), 131_072);
    assert!(list.as_bytes().iter().all(|b| *b == 0));
    assert_eq!(list, StatusList::new(STATUS_LIST_BITS_MIN).expect("new"));
    // The minimum bound is enough for it.
    StatusList::decode(SPEC_MINIMAL_LIST, STATUS_LIST_BITS_MIN).expect("exact bound");
}

#[test]
fn bit_order_is_most_significant_first() {
    let mut list = StatusList::new(STATUS_LIST_BITS_MIN).expect("new");
    list.set(0, true).expect("set 0");
    assert_eq!(list.as_bytes()[0], 0x80);
    list.set(7, true).expect("set 7");
    assert_eq!(list.as_bytes()[0], 0x81);
    list.set(8, true).expect("set 8");
    assert_eq!(list.as_bytes()[1], 0x80);
    list.set(131_071, true).expect("last");
    assert_eq!(list.as_bytes()[16_383], 0x01);
    list.set(0, false).expect("clear 0");
    assert_eq!(list.as_bytes()[0], 0x01);
    assert_eq!(list.get(7), Ok(true));
    assert_eq!(list.get(0), Ok(false));
    assert_eq!(list.get(1), Ok(false));
    // Decoding reads the same order: a first byte of 0x40 means index 1 only.
    let mut bytes = vec![0u8; 16_384];
    bytes[0] = 0x40;
    let decoded =
        StatusList::decode(&encoded(&gzip(&bytes)), STATUS_LIST_BITS_MIN).expect("decode");
    assert_eq!(
        (decoded.get(0), decoded.get(1), decoded.get(2)),
        (Ok(false), Ok(true), Ok(false))
    );
}

#[test]
fn lengths_and_indexes_are_checked() {
    let invalid = |bits| StatusListError::InvalidLength {
        bits,
        min: STATUS_LIST_BITS_MIN,
        max: STATUS_LIST_BITS_MAX,
    };
    assert_eq!(StatusList::new(0).err(), Some(invalid(0)));
    assert_eq!(StatusList::new(131_064).err(), Some(invalid(131_064)));
    assert_eq!(StatusList::new(131_073).err(), Some(invalid(131_073)));
    assert_eq!(
        StatusList::new(STATUS_LIST_BITS_MAX + 8).err(),
        Some(invalid(STATUS_LIST_BITS_MAX + 8))
    );
    assert_eq!(StatusList::new(131_080).map(|l| l.bit_len()), Ok(131_080));
    assert_eq!(
        StatusList::new(STATUS_LIST_BITS_MAX).map(|l| l.bit_len()),
        Ok(STATUS_LIST_BITS_MAX)
    );
    assert_eq!(
        StatusList::from_bytes(vec![0; 100]).err(),
        Some(invalid(800))
    );

    let mut list = StatusList::new(131_080).expect("new");
    let out = StatusListError::IndexOutOfRange {
        index: 131_080,
        len: 131_080,
    };
    assert_eq!(list.get(131_080), Err(out.clone()));
    assert_eq!(list.set(131_080, true), Err(out));
    assert!(list.get(usize::MAX).is_err());
    assert_eq!(list.set(131_079, true), Ok(()));
}

#[test]
fn decoding_is_strict() {
    let list = StatusList::new(STATUS_LIST_BITS_MIN).expect("new");
    let good = list.encode();
    assert!(good.starts_with('u'));
    // Unprefixed (StatusList2021 style) and other multibases.
    assert_eq!(
        StatusList::decode(&good[1..], STATUS_LIST_BITS_MAX),
        Err(StatusListError::MissingMultibasePrefix)
    );
    assert_eq!(
        StatusList::decode(&format!("z{}", &good[1..]), STATUS_LIST_BITS_MAX),
        Err(StatusListError::MissingMultibasePrefix)
    );
    // Padding and standard base64 are refused.
    let compressed = URL_SAFE_NO_PAD.decode(&good[1..]).expect("b64");
    let padded = format!("u{}", URL_SAFE.encode(&compressed));
    if padded.ends_with('=') {
        assert!(matches!(
            StatusList::decode(&padded, STATUS_LIST_BITS_MAX),
            Err(StatusListError::Base64(_))
        ));
    }
    assert!(matches!(
        StatusList::decode("uH4s+/", STATUS_LIST_BITS_MAX),
        Err(StatusListError::Base64(_))
    ));
    // Not GZIP, truncated GZIP, a corrupted checksum.
    assert!(matches!(
        StatusList::decode(&encoded(b"not gzip at all"), STATUS_LIST_BITS_MAX),
        Err(StatusListError::Gzip(_))
    ));
    let truncated = &compressed[..compressed.len() - 4];
    assert!(matches!(
        StatusList::decode(&encoded(truncated), STATUS_LIST_BITS_MAX),
        Err(StatusListError::Gzip(_))
    ));
    let mut bad_crc = compressed.clone();
    let crc_at = bad_crc.len() - 8;
    bad_crc[crc_at] ^= 0xff;
    assert!(matches!(
        StatusList::decode(&encoded(&bad_crc), STATUS_LIST_BITS_MAX),
        Err(StatusListError::Gzip(_))
    ));
    // Data after the GZIP member.
    let mut trailing = compressed.clone();
    trailing.extend_from_slice(b"extra");
    assert_eq!(
        StatusList::decode(&encoded(&trailing), STATUS_LIST_BITS_MAX),
        Err(StatusListError::TrailingData)
    );
    // Too short a list, and a bound below the minimum.
    let short = encoded(&gzip(&[0u8; 16_383]));
    assert!(matches!(
        StatusList::decode(&short, STATUS_LIST_BITS_MAX),
        Err(StatusListError::InvalidLength { bits: 131_064, .. })
    ));
    assert!(matches!(
        StatusList::decode(&good, 1024),
        Err(StatusListError::LimitBelowMinimum { .. })
    ));
}

#[test]
fn decompression_bombs_are_refused() {
    // 64 MiB of zeros compress to about 64 KiB: far above any allowed list.
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..64 {
        encoder.write_all(&chunk).expect("vec");
    }
    let bomb = encoded(&encoder.finish().expect("vec"));
    assert_eq!(
        StatusList::decode(&bomb, STATUS_LIST_BITS_MAX),
        Err(StatusListError::DecompressedTooLarge {
            max_bits: STATUS_LIST_BITS_MAX
        })
    );
    // A list one byte larger than the caller's bound is refused too.
    let just_over = encoded(&gzip(&[0u8; 16_385]));
    assert_eq!(
        StatusList::decode(&just_over, STATUS_LIST_BITS_MIN),
        Err(StatusListError::DecompressedTooLarge {
            max_bits: STATUS_LIST_BITS_MIN
        })
    );
    assert_eq!(
        StatusList::decode(&just_over, STATUS_LIST_BITS_MIN + 8).map(|l| l.bit_len()),
        Ok(131_080)
    );
    // An oversized text is refused before decoding.
    let huge = format!("u{}", "A".repeat(4 << 20));
    assert!(matches!(
        StatusList::decode(&huge, STATUS_LIST_BITS_MAX),
        Err(StatusListError::EncodedTooLong { .. })
    ));
}

#[test]
fn encoding_is_deterministic() {
    let mut list = StatusList::new(STATUS_LIST_BITS_MIN).expect("new");
    list.set(42, true).expect("set");
    assert_eq!(list.encode(), list.clone().encode());
    // The header carries no time or name: bytes 4..8 (mtime) are zero.
    let compressed = URL_SAFE_NO_PAD.decode(&list.encode()[1..]).expect("b64");
    assert_eq!(&compressed[..4], &[0x1f, 0x8b, 0x08, 0x00]);
    assert_eq!(&compressed[4..8], &[0, 0, 0, 0]);
}

proptest! {
    #[test]
    fn encode_decode_round_trip(
        extra_bytes in 0usize..64,
        set in prop::collection::vec(any::<prop::sample::Index>(), 0..200),
    ) {
        let bits = STATUS_LIST_BITS_MIN + extra_bytes * 8;
        let mut list = StatusList::new(bits).expect("new");
        let mut expected = std::collections::BTreeSet::new();
        for index in &set {
            let i = index.index(bits);
            list.set(i, true).expect("in range");
            expected.insert(i);
        }
        let decoded = StatusList::decode(&list.encode(), STATUS_LIST_BITS_MAX).expect("decode");
        prop_assert_eq!(&decoded, &list);
        let ones: usize = decoded.as_bytes().iter().map(|b| b.count_ones() as usize).sum();
        prop_assert_eq!(ones, expected.len());
        for i in &expected {
            prop_assert_eq!(decoded.get(*i), Ok(true));
        }
    }

    #[test]
    fn index_strings_round_trip(index in any::<u32>()) {
        let index = index as usize;
        prop_assert_eq!(status_list_index(&index.to_string()), Ok(index));
    }
}

#[test]
fn index_strings_are_strict() {
    assert_eq!(status_list_index("0"), Ok(0));
    assert_eq!(status_list_index("94567"), Ok(94_567));
    for bad in ["", "-1", "+1", "01", " 1", "1 ", "1.0", "0x10", "１", "1e3"] {
        assert!(
            matches!(
                status_list_index(bad),
                Err(StatusListError::InvalidIndex { .. })
            ),
            "{bad:?}"
        );
    }
    assert!(matches!(
        status_list_index(&"9".repeat(21)),
        Err(StatusListError::InvalidIndex { .. })
    ));
    assert_eq!(
        status_list_index("99999999999999999999"),
        Err(StatusListError::IndexOverflow)
    );
    assert_eq!(status_list_index(&usize::MAX.to_string()), Ok(usize::MAX));
}

#[test]
fn entry_serde_matches_the_spec() {
    let spec_entry = json!({
        "id": "https://example.com/credentials/status/3#94567",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",
        "statusListCredential": "https://example.com/credentials/status/3"
    });
    let entry: BitstringStatusListEntry =
        serde_json::from_value(spec_entry.clone()).expect("entry");
    assert_eq!(entry.index(), Ok(94_567));
    assert_eq!(entry.status_purpose, StatusPurpose::Revocation);
    assert_eq!(serde_json::to_value(&entry).expect("ser"), spec_entry);
    let built = BitstringStatusListEntry::new(
        Some("https://example.com/credentials/status/3#94567".into()),
        StatusPurpose::Revocation,
        94_567,
        "https://example.com/credentials/status/3".into(),
    );
    assert_eq!(built, entry);
    // Another type or an unknown purpose does not deserialize.
    let mut wrong_type = spec_entry.clone();
    wrong_type["type"] = json!("StatusList2021Entry");
    assert!(serde_json::from_value::<BitstringStatusListEntry>(wrong_type).is_err());
    let mut wrong_purpose = spec_entry.clone();
    wrong_purpose["statusPurpose"] = json!("deleted");
    assert!(serde_json::from_value::<BitstringStatusListEntry>(wrong_purpose).is_err());
    let mut numeric_index = spec_entry;
    numeric_index["statusListIndex"] = json!(94567);
    assert!(serde_json::from_value::<BitstringStatusListEntry>(numeric_index).is_err());
}

#[test]
fn status_list_credential_and_lookup() {
    let id = "https://city.example/status/1";
    let mut list = StatusList::new(STATUS_LIST_BITS_MIN).expect("new");
    list.set(94_567, true).expect("set");
    let credential = status_list_credential(
        id,
        "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
        StatusPurpose::Revocation,
        &list,
        Some("2025-01-01T00:00:00Z"),
    )
    .expect("credential");
    assert_eq!(
        credential,
        json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": id,
            "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
            "validFrom": "2025-01-01T00:00:00Z",
            "credentialSubject": {
                "id": "https://city.example/status/1#list",
                "type": "BitstringStatusList",
                "statusPurpose": "revocation",
                "encodedList": list.encode(),
            }
        })
    );
    let published = read_status_list_credential(&credential, STATUS_LIST_BITS_MAX).expect("read");
    assert_eq!(published.purpose, StatusPurpose::Revocation);
    assert_eq!(published.list, list);

    let revoked = BitstringStatusListEntry::new(None, StatusPurpose::Revocation, 94_567, id.into());
    let fine = BitstringStatusListEntry::new(None, StatusPurpose::Revocation, 94_566, id.into());
    assert_eq!(entry_status(&revoked, &published), Ok(true));
    assert_eq!(entry_status(&fine, &published), Ok(false));
    let elsewhere =
        BitstringStatusListEntry::new(None, StatusPurpose::Revocation, 1, "https://other/".into());
    assert_eq!(
        entry_status(&elsewhere, &published),
        Err(StatusListError::CredentialMismatch)
    );
    let suspension = BitstringStatusListEntry::new(None, StatusPurpose::Suspension, 1, id.into());
    assert!(matches!(
        entry_status(&suspension, &published),
        Err(StatusListError::PurposeMismatch { .. })
    ));
    let out_of_range =
        BitstringStatusListEntry::new(None, StatusPurpose::Revocation, 131_072, id.into());
    assert!(matches!(
        entry_status(&out_of_range, &published),
        Err(StatusListError::IndexOutOfRange { .. })
    ));
    let mut wide = revoked.clone();
    wide.status_size = Some(2);
    assert_eq!(
        entry_status(&wide, &published),
        Err(StatusListError::UnsupportedStatusSize(2))
    );

    // Without validFrom, and with a bad one.
    let plain = status_list_credential(id, "did:example:1", StatusPurpose::Suspension, &list, None)
        .expect("ok");
    assert!(plain.get("validFrom").is_none());
    assert!(matches!(
        status_list_credential(
            id,
            "did:example:1",
            StatusPurpose::Suspension,
            &list,
            Some("2025-01-01")
        ),
        Err(StatusListError::InvalidDateTime { .. })
    ));
    // Reading refuses other credentials.
    let mut other = credential.clone();
    other["type"] = json!(["VerifiableCredential"]);
    assert!(matches!(
        read_status_list_credential(&other, STATUS_LIST_BITS_MAX),
        Err(StatusListError::MalformedCredential { .. })
    ));
    let mut no_list = credential;
    no_list["credentialSubject"]["encodedList"] = json!(null);
    assert!(matches!(
        read_status_list_credential(&no_list, STATUS_LIST_BITS_MAX),
        Err(StatusListError::MalformedCredential { .. })
    ));
}
