//! The W3C VC API (VCALM) verifier endpoints of a real one-validator node: a VC Data
//! Model 2.0 credential issued with `simin_identity::vc::issue_vc` by the devnet's
//! citizen registry, verified by `POST /credentials/verify` (accepted, then refused as
//! suspended once its bit is set), a holder-signed presentation and an enveloped SD-JWT
//! presentation verified by `POST /presentations/verify`.

mod common;

use std::path::Path;

use common::{one_validator_devnet, post, wait_for_height, Signer};
use ed25519_dalek::SigningKey as Ed25519Key;
use serde_json::{json, Value};
use simin_identity::card::{self, CardIssue};
use simin_identity::di::{self, ProofOptions};
use simin_identity::did_key::{did_key_from_ed25519, did_key_verification_method};
use simin_identity::did_simin::xsd_datetime;
use simin_identity::jose::{Jwk, JwsSigner};
use simin_identity::sd_jwt::{self, KeyBindingRequest, PathElement};
use simin_identity::status_list::{BitstringStatusListEntry, StatusPurpose as EntryPurpose};
use simin_identity::vc::{issue_vc, IssueVc, SD_JWT_DATA_URL_PREFIX};
use simin_node::devnet_identity::{org_key_paths, DEVNET_CARD_ISSUER};
use simin_types::{
    BlockTime, Call, Genesis, IdentityCall, SigningKey, StatusPurpose, StatusUpdate,
};

const DOMAIN: &str = "https://library.mapo.go.kr";
const INDEX: u32 = 91_234;

fn now() -> i64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    i64::try_from(secs).expect("fits")
}

fn read_seed(path: &Path) -> [u8; 32] {
    let text = std::fs::read_to_string(path).expect("a key file");
    let bytes = hex::decode(text.trim()).expect("hex");
    <[u8; 32]>::try_from(bytes.as_slice()).expect("a 32-byte seed")
}

fn entries(issuer: &str) -> Vec<BitstringStatusListEntry> {
    vec![
        BitstringStatusListEntry::new(
            None,
            EntryPurpose::Revocation,
            usize::try_from(INDEX).expect("fits"),
            format!("{issuer}/status/0"),
        ),
        BitstringStatusListEntry::new(
            None,
            EntryPurpose::Suspension,
            usize::try_from(INDEX).expect("fits"),
            format!("{issuer}/status/1"),
        ),
    ]
}

fn citizen_claims() -> Value {
    json!({
        "name": "Kim Minji", "birthdate": "1990-05-01", "resident_district": "Mapo-gu",
        "photo_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "card_number": "SC-2026-000123",
        "age_over_14": true, "age_over_19": true, "age_over_65": false,
    })
}

async fn verify_credential(base: &str, credential: &Value, options: Value) -> (u16, Value) {
    let body = json!({"verifiableCredential": credential, "options": options});
    post(&format!("{base}/credentials/verify"), &body.to_string()).await
}

async fn verify_presentation(base: &str, presentation: &Value, challenge: &str) -> (u16, Value) {
    let body = json!({
        "verifiablePresentation": presentation,
        "options": {"challenge": challenge, "domain": DOMAIN},
    });
    post(&format!("{base}/presentations/verify"), &body.to_string()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn w3c_credentials_and_presentations_are_verified_by_the_node() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let (layout, api) = one_validator_devnet(dir.path());
    let genesis: Genesis =
        serde_json::from_slice(&std::fs::read(&layout.genesis).expect("genesis")).expect("JSON");
    let base = format!("http://{api}");
    let node = simin_node::start(&layout.homes[0])
        .await
        .expect("node starts");
    wait_for_height(&base, 1).await;

    // The devnet's citizen registry: accredited for CitizenCard, with a DID, from genesis.
    let keys = layout.authority_key.parent().expect("a keys directory");
    let (tx_path, assert_path) = org_key_paths(keys, DEVNET_CARD_ISSUER);
    let mut registry = Signer::new(SigningKey::from_seed(read_seed(&tx_path)));
    let assertion = Ed25519Key::from_bytes(&read_seed(&assert_path));
    let issuer = format!("did:simin:{DEVNET_CARD_ISSUER}");
    for (list, purpose) in [
        (0, StatusPurpose::Revocation),
        (1, StatusPurpose::Suspension),
    ] {
        registry
            .succeed(
                &base,
                Call::Identity(IdentityCall::CreateStatusList {
                    list,
                    purpose,
                    size_bits: 131_072,
                }),
            )
            .await;
    }

    // A CitizenCard as a W3C credential, about the wallet's did:key.
    let holder = Ed25519Key::from_bytes(&[42; 32]);
    let holder_did = did_key_from_ed25519(&holder.verifying_key());
    let mut subject = citizen_claims();
    subject["id"] = json!(holder_did);
    let issued_at = BlockTime(genesis.genesis_time.0 + 1_000);
    let credential = issue_vc(
        &IssueVc {
            credential: json!({
                "type": ["VerifiableCredential", "CitizenCard"],
                "validUntil": xsd_datetime(BlockTime(
                    u64::try_from(now() + 86_400).expect("positive") * 1000
                )),
                "credentialSubject": subject,
            }),
            issuer: issuer.clone(),
            kid: format!("{issuer}#key-1"),
            valid_from: xsd_datetime(issued_at),
            status: entries(&issuer),
        },
        &assertion,
    )
    .expect("issued");

    let (status, result) = verify_credential(
        &base,
        &credential,
        json!({"returnResults": true, "checks": ["proof"]}),
    )
    .await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["verified"], true, "{result}");
    assert_eq!(result["problemDetails"], json!([]));
    assert_eq!(result["results"]["proof"][0]["verified"], true);
    assert_eq!(result["results"]["credentialStatus"][1]["value"], 0);
    assert!(
        result.get("credential").is_none(),
        "only with returnCredential"
    );
    // A claim changed after issuance: refused, with the spec's error type.
    let mut tampered = credential.clone();
    tampered["credentialSubject"]["age_over_19"] = json!(false);
    let (status, problem) = verify_credential(&base, &tampered, json!({})).await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(problem["verified"], false);
    assert_eq!(
        problem["problemDetails"][0]["type"],
        "https://www.w3.org/TR/vc-data-model#CRYPTOGRAPHIC_SECURITY_ERROR"
    );
    assert_eq!(problem["problemDetails"][0]["code"], "bad_signature");
    // An option the API does not know.
    let (status, problem) =
        verify_credential(&base, &credential, json!({"skipStatus": true})).await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(
        problem["type"],
        "https://www.w3.org/TR/vcalm#UNKNOWN_OPTION_PROVIDED"
    );

    // The holder presents it for this verifier's challenge and domain.
    let presentation = di::create_proof_jcs(
        &json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiablePresentation"],
            "holder": holder_did,
            "verifiableCredential": [credential.clone()],
        }),
        &ProofOptions {
            verification_method: did_key_verification_method(&holder.verifying_key()),
            proof_purpose: "authentication".into(),
            challenge: Some("challenge-1".into()),
            domain: Some(DOMAIN.into()),
            ..ProofOptions::default()
        },
        &holder,
    )
    .expect("signed");
    let (status, result) = verify_presentation(&base, &presentation, "challenge-1").await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["verified"], true, "{result}");
    assert_eq!(
        result["results"]["presentation"]["holder"]["input"],
        holder_did
    );
    assert_eq!(result["results"]["credentials"][0]["verified"], true);
    // Replayed to another session: a verdict, not an HTTP error (VCALM).
    let (status, result) = verify_presentation(&base, &presentation, "challenge-2").await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["verified"], false);
    assert_eq!(result["problemDetails"][0]["code"], "wrong_challenge");
    assert_eq!(
        result["problemDetails"][0]["type"],
        "https://w3id.org/security#INVALID_CHALLENGE_ERROR"
    );
    // Without a challenge the request itself is refused.
    let body = json!({"verifiablePresentation": presentation, "options": {"domain": DOMAIN}});
    let (status, _) = post(&format!("{base}/presentations/verify"), &body.to_string()).await;
    assert_eq!(status, 400);

    // The same citizen's SD-JWT card, enveloped.
    let mut claims = citizen_claims();
    let sd_card = card::issue_sd_jwt_vc(
        &CardIssue {
            vct: "CitizenCard".into(),
            iss: issuer.clone(),
            kid: format!("{issuer}#key-1"),
            claims: claims.as_object_mut().expect("an object").clone(),
            holder_jwk: Jwk::from_ed25519(&holder.verifying_key()),
            iat: issued_at.0 / 1000 + 1,
            exp: u64::try_from(now() + 86_400).expect("positive"),
            status: entries(&issuer),
        },
        &JwsSigner::Ed25519(assertion.clone()),
        &mut {
            let mut n = 0u32;
            move || {
                n += 1;
                format!("test-salt-{n:04}-AAAAAAAAAAAAAAA")
            }
        },
    )
    .expect("issued");
    let envelope = |challenge: &str| {
        let shown = sd_jwt::present(
            &sd_card,
            &[vec![PathElement::Name("age_over_19".into())]],
            Some(&KeyBindingRequest {
                signer: &JwsSigner::Ed25519(holder.clone()),
                audience: DOMAIN,
                nonce: challenge,
                issued_at: now(),
            }),
        )
        .expect("presented");
        json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": "EnvelopedVerifiablePresentation",
            "id": format!("{SD_JWT_DATA_URL_PREFIX}{shown}"),
        })
    };
    let (status, result) =
        verify_presentation(&base, &envelope("challenge-3"), "challenge-3").await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["verified"], true, "{result}");

    // The phone is lost: the registry suspends the card; from the next block, refused.
    let suspended_at = registry
        .succeed(
            &base,
            Call::Identity(IdentityCall::SetStatus {
                list: 1,
                updates: vec![StatusUpdate {
                    index: INDEX,
                    value: true,
                }],
            }),
        )
        .await;
    wait_for_height(&base, suspended_at).await;
    let (status, problem) = verify_credential(&base, &credential, json!({})).await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(problem["verified"], false);
    assert_eq!(problem["code"], "suspended");
    assert_eq!(problem["problemDetails"][0]["code"], "suspended");
    assert_eq!(
        problem["type"],
        "https://simin.dev/problems/credential-suspended"
    );
    let (status, result) = verify_presentation(&base, &presentation, "challenge-1").await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["verified"], false);
    assert_eq!(
        result["results"]["credentials"][0]["problemDetails"][0]["code"],
        "suspended"
    );
    let (_, result) = verify_presentation(&base, &envelope("challenge-4"), "challenge-4").await;
    assert_eq!(result["verified"], false, "{result}");
    assert_eq!(result["problemDetails"][0]["code"], "suspended");

    node.shutdown().await;
}
