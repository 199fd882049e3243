//! A paperless eligibility check end to end with the binary against a real devnet: the
//! family-welfare office publishes a benefit's requirements; a citizen answers with two
//! presentations from two agencies (the registry's citizen card, the welfare office's
//! multi-child family credential) bound to one nonce; the office decides and records the
//! decision with the evidence hashes; an auditor reproduces it from the presentations
//! against proven state, and a tampered or substituted presentation is caught.

mod common;

use std::path::Path;

use common::*;
use serde_json::{json, Value};
use simin_identity::card::{self, CardIssue};
use simin_identity::jose::{Jwk, JwsSigner};
use simin_identity::sd_jwt::{self, KeyBindingRequest, PathElement};
use simin_identity::status_list::{BitstringStatusListEntry, StatusPurpose as EntryPurpose};
use simin_node::devnet_identity::org_key_paths;
use simin_types::{Call, Height, IdentityCall, SigningKey, StatusPurpose, Tx};

const WELFARE: &str = "seoul.family-welfare";
const REGISTRY: &str = "seoul.citizen-registry";
const NONCE: &str = "application-2026-0042";

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

fn key(path: &Path) -> SigningKey {
    SigningKey::from_hex(std::fs::read_to_string(path).expect("key").trim()).expect("a key")
}

fn dalek(key: &SigningKey) -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(
        &hex::decode(key.to_seed_hex())
            .expect("hex")
            .try_into()
            .expect("32 bytes"),
    )
}

/// The welfare office's status lists, as its issuer would create them.
fn create_status_lists(node: &str, org_key: &SigningKey) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let client = simin_client::Client::new(node).expect("a client");
        for (nonce, (list, purpose)) in [
            (0, StatusPurpose::Revocation),
            (1, StatusPurpose::Suspension),
        ]
        .into_iter()
        .enumerate()
        {
            let status = client.status().await.expect("status");
            let tx = Tx {
                chain_id: status.chain_id,
                signer: org_key.public_key(),
                nonce: nonce as u64,
                expiry_height: Height(status.latest_height.0 + 100),
                call: Call::Identity(IdentityCall::CreateStatusList {
                    list,
                    purpose,
                    size_bits: 131_072,
                }),
            }
            .sign(org_key);
            let answer = client.submit(&tx, true).await.expect("committed");
            assert!(answer.committed.is_some());
        }
    });
}

/// A credential of `issuer` bound to `holder`, with status entries at `index`.
fn issue(
    issuer: &str,
    assertion: &ed25519_dalek::SigningKey,
    vct: &str,
    claims: Value,
    holder: &ed25519_dalek::SigningKey,
    index: usize,
) -> String {
    let did = format!("did:simin:{issuer}");
    let mut n = 0u32;
    card::issue_sd_jwt_vc(
        &CardIssue {
            vct: vct.into(),
            iss: did.clone(),
            kid: format!("{did}#key-1"),
            claims: claims.as_object().expect("an object").clone(),
            holder_jwk: Jwk::from_ed25519(&holder.verifying_key()),
            iat: now(),
            exp: now() + 86_400,
            status: vec![
                BitstringStatusListEntry::new(
                    None,
                    EntryPurpose::Revocation,
                    index,
                    format!("{did}/status/0"),
                ),
                BitstringStatusListEntry::new(
                    None,
                    EntryPurpose::Suspension,
                    index,
                    format!("{did}/status/1"),
                ),
            ],
        },
        &JwsSigner::Ed25519(assertion.clone()),
        &mut move || {
            n += 1;
            format!("salt-{vct}-{n:03}-{index}-AAAAAAAAAA")
        },
    )
    .expect("issued")
}

/// The holder presents `claims` of `credential` to the welfare office for `NONCE`.
fn present(
    dir: &Path,
    name: &str,
    credential: &str,
    claims: &[&str],
    holder: &ed25519_dalek::SigningKey,
) -> String {
    let selection: Vec<_> = claims
        .iter()
        .map(|c| vec![PathElement::Name((*c).into())])
        .collect();
    let shown = sd_jwt::present(
        credential,
        &selection,
        Some(&KeyBindingRequest {
            signer: &JwsSigner::Ed25519(holder.clone()),
            audience: &format!("did:simin:{WELFARE}"),
            nonce: NONCE,
            issued_at: i64::try_from(now()).expect("fits"),
        }),
    )
    .expect("presented");
    let path = dir.join(name);
    std::fs::write(&path, &shown).expect("writes");
    path.to_str().expect("utf-8").to_owned()
}

#[test]
fn a_decision_from_two_agencies_credentials_is_recorded_and_reproduced() {
    let home = tempfile::tempdir().expect("a temp dir");
    let data_dir = home.path().join("devnet");
    let api = format!("127.0.0.1:{}", free_port());
    let issuer = format!("127.0.0.1:{}", free_port());
    let node = format!("http://{api}");
    let (h, d) = (home.path(), data_dir.as_path());
    let run = |args: &[&str]| simin(h, d, &node, args);
    let devnet = Devnet::start_with_issuer(h, d, &api, &issuer);
    // Ready means the registry's status lists, created by the devnet's issuer, are on
    // chain: the registry's card below points at them.
    devnet.wait_ready();

    let keys = data_dir.join("keys");
    let welfare_key = key(&org_key_paths(&keys, WELFARE).0);
    create_status_lists(&node, &welfare_key);
    let welfare_assert = dalek(&key(&org_key_paths(&keys, WELFARE).1));
    let registry_assert = dalek(&key(&org_key_paths(&keys, REGISTRY).1));
    // The benefit: 19 to 34 years old, living in Seoul, with two children or more.
    let policy = home.path().join("policy.json");
    std::fs::write(
        &policy,
        json!({"requirements": [
            {"credential_type": "CitizenCard", "claim": "birthdate", "age_between": [19, 34]},
            {"credential_type": "CitizenCard", "claim": "resident_district", "present": true},
            {"credential_type": "MultiChildFamily", "claim": "children_count", "at_least": 2}
        ]})
        .to_string(),
    )
    .expect("writes");
    let published = run(&[
        "eligibility",
        "publish",
        "--org",
        WELFARE,
        "--id",
        "seoul.young-family-support",
        "--name",
        "Young family support",
        "--policy",
        policy.to_str().expect("utf-8"),
    ]);
    assert!(published.status.success(), "{}", text(&published));

    // The citizen holds a card (registry) and a family credential (welfare office).
    let holder = ed25519_dalek::SigningKey::from_bytes(&[21; 32]);
    let card = issue(
        REGISTRY,
        &registry_assert,
        "CitizenCard",
        json!({
            "name": "Kim Minji", "birthdate": "1998-03-14", "resident_district": "Mapo-gu",
            "photo_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "card_number": "SC-2026-000999", "age_over_14": true, "age_over_19": true, "age_over_65": false,
        }),
        &holder,
        50_001,
    );
    let family = issue(
        WELFARE,
        &welfare_assert,
        "MultiChildFamily",
        json!({"multi_child_family": true, "children_count": 3}),
        &holder,
        7,
    );
    let shown_card = present(
        h,
        "card.txt",
        &card,
        &["birthdate", "resident_district"],
        &holder,
    );
    let shown_family = present(h, "family.txt", &family, &["children_count"], &holder);

    let decided = run(&[
        "--json",
        "eligibility",
        "decide",
        "--benefit",
        "seoul.young-family-support",
        "--nonce",
        NONCE,
        &shown_card,
        &shown_family,
    ]);
    assert!(decided.status.success(), "{}", text(&decided));
    let decision: Value = serde_json::from_slice(&decided.stdout).expect("JSON");
    assert_eq!(decision["eligible"], true, "{decision}");
    let id = decision["decision"].as_str().expect("an id").to_owned();

    // On chain: hashes and a pseudonym, nothing the citizen disclosed.
    let state = std::process::Command::new("curl")
        .args([
            "-fs",
            &format!(
                "{node}/v1/state/{}",
                hex::encode(simin_types::state_keys::decision(&simin_types::Hash(
                    hex::decode(&id).expect("hex").try_into().expect("32 bytes")
                ),))
            ),
        ])
        .output()
        .expect("curl");
    let raw = String::from_utf8_lossy(&state.stdout).to_string();
    assert!(raw.contains("\"value\""), "{raw}");
    for private in ["1998-03-14", "Mapo-gu", "SC-2026-000999"] {
        assert!(
            !raw.contains(&hex::encode(private)),
            "{private} is on chain"
        );
    }

    // The auditor reproduces the decision from the presentations.
    let audited = run(&[
        "--json",
        "eligibility",
        "audit",
        &id,
        &shown_card,
        &shown_family,
    ]);
    assert!(audited.status.success(), "{}", text(&audited));
    let audit: Value = serde_json::from_slice(&audited.stdout).expect("JSON");
    assert_eq!(audit["reproduced"], true, "{audit}");

    // A presentation that is not the evidence (another disclosure of the same card).
    let other = present(
        h,
        "other.txt",
        &card,
        &["birthdate", "resident_district", "name"],
        &holder,
    );
    let refused = run(&["eligibility", "audit", &id, &other, &shown_family]);
    assert!(!refused.status.success(), "{}", text(&refused));
    assert!(text(&refused).contains("evidence"), "{}", text(&refused));

    // Another person's family credential cannot be combined with this card.
    let stranger = ed25519_dalek::SigningKey::from_bytes(&[22; 32]);
    let their_family = issue(
        WELFARE,
        &welfare_assert,
        "MultiChildFamily",
        json!({"multi_child_family": true, "children_count": 2}),
        &stranger,
        8,
    );
    let theirs = present(
        h,
        "theirs.txt",
        &their_family,
        &["children_count"],
        &stranger,
    );
    let refused = run(&[
        "eligibility",
        "decide",
        "--benefit",
        "seoul.young-family-support",
        "--nonce",
        NONCE,
        &shown_card,
        &theirs,
    ]);
    assert!(!refused.status.success(), "{}", text(&refused));
    assert!(
        text(&refused).contains("same wallet key"),
        "{}",
        text(&refused)
    );

    // Without the family credential: recorded as not eligible, with the reason.
    let decided = run(&[
        "--json",
        "eligibility",
        "decide",
        "--benefit",
        "seoul.young-family-support",
        "--nonce",
        NONCE,
        &shown_card,
    ]);
    assert!(decided.status.success(), "{}", text(&decided));
    let decision: Value = serde_json::from_slice(&decided.stdout).expect("JSON");
    assert_eq!(decision["eligible"], false);
    assert_eq!(
        decision["unmet"],
        json!(["MultiChildFamily.children_count: not presented"])
    );
}
