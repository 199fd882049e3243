//! A citizen card verified two ways against a real node: by the node
//! (`POST /v1/presentations/verify`) and by a client that trusts only the validator set,
//! proving every state value the verifier reads (`ProvenState`). Both agree before and
//! after the card is suspended.

mod common;

use common::{one_validator_devnet, post, wait_for_height, Signer};
use serde_json::{json, Value};
use simin_client::{Client, ProvenState, TrustAnchor};
use simin_identity::card::{self, CardIssue};
use simin_identity::jose::{Jwk, JwsSigner};
use simin_identity::sd_jwt::{self, KeyBindingRequest, PathElement};
use simin_identity::status_list::{BitstringStatusListEntry, StatusPurpose as EntryPurpose};
use simin_identity::verifier::{verify_presentation, VerifyRequest};
use simin_types::{
    AccreditationTerms, BlockTime, Call, GovernanceCall, Height, IdentityCall, OrgId, Organization,
    PublicKey, Relationship, Role, SigningKey, StatusPurpose, StatusUpdate, VerificationMethod,
};

const AUDIENCE: &str = "https://library.mapo.go.kr";

fn now() -> i64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    i64::try_from(secs).expect("fits")
}

async fn node_verdict(base: &str, presentation: &str, nonce: &str) -> Value {
    let body = json!({"presentation": presentation, "nonce": nonce, "audience": AUDIENCE});
    let (status, verdict) = post(
        &format!("{base}/v1/presentations/verify"),
        &body.to_string(),
    )
    .await;
    assert_eq!(status, 200, "{verdict}");
    verdict
}

/// The light-client path of `simin verify`: prove what the verifier reads, then verify.
async fn proven_verdict(
    client: &Client,
    trusted: &TrustAnchor,
    presentation: &str,
    nonce: &str,
) -> Result<(), &'static str> {
    let height = client.status().await.expect("status").latest_height;
    let mut state = ProvenState::at(height);
    let request = VerifyRequest {
        presentation,
        nonce,
        audience: AUDIENCE,
        now: now(),
        accepted_types: &["CitizenCard"],
    };
    let outcome = state
        .resolve(client, trusted, |s| verify_presentation(s, &request))
        .await
        .expect("every value the verifier reads is proven");
    assert!(
        outcome.is_err() || state.values().len() >= 6,
        "the verifier read DID, schema, accreditation, lists and chunks: {:?} ({outcome:?})",
        state
            .values()
            .keys()
            .map(|k| String::from_utf8_lossy(k).into_owned())
            .collect::<Vec<_>>()
    );
    outcome.map(|_| ()).map_err(|e| e.code())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_is_verified_by_the_node_and_by_a_light_client() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let (layout, api) = one_validator_devnet(dir.path());
    let trusted = TrustAnchor::from_genesis_json(&std::fs::read(&layout.genesis).expect("genesis"))
        .expect("a trust anchor");
    let mut city = Signer::new(
        SigningKey::from_hex(&std::fs::read_to_string(&layout.authority_key).expect("key file"))
            .expect("a key"),
    );
    let base = format!("http://{api}");
    let node = simin_node::start(&layout.homes[0])
        .await
        .expect("node starts");
    wait_for_height(&base, 1).await;
    let client = Client::new(&base).expect("a client");

    // The city: an accredited agency, the CitizenCard schema.
    let agency = OrgId::new("seoul.agency").expect("valid");
    let mut agency_tx = Signer::new(SigningKey::from_seed([10; 32]));
    let assertion = ed25519_dalek::SigningKey::from_bytes(&[11; 32]);
    city.succeed(
        &base,
        Call::Governance(GovernanceCall::RegisterOrganization(Organization {
            id: agency.clone(),
            name: "Seoul citizen card agency".into(),
            keys: vec![agency_tx.key.public_key()],
            roles: vec![Role::Agency, Role::Issuer],
            active: true,
        })),
    )
    .await;
    city.succeed(
        &base,
        Call::Identity(IdentityCall::RegisterSchema {
            credential_type: "CitizenCard".into(),
            schema: card::builtin_schema("CitizenCard")
                .expect("built in")
                .into(),
        }),
    )
    .await;
    city.succeed(
        &base,
        Call::Identity(IdentityCall::Accredit(AccreditationTerms {
            issuer: agency.clone(),
            credential_types: vec!["CitizenCard".into()],
            valid_from: BlockTime(0),
            valid_until: BlockTime(u64::MAX),
            may_accredit: false,
        })),
    )
    .await;
    agency_tx
        .succeed(
            &base,
            Call::Identity(IdentityCall::CreateDid {
                organization: agency.clone(),
                verification_methods: vec![VerificationMethod {
                    fragment: "key-1".into(),
                    public_key: PublicKey(assertion.verifying_key().to_bytes()),
                    relationships: vec![
                        Relationship::AssertionMethod,
                        Relationship::CapabilityInvocation,
                    ],
                }],
                services: vec![],
            }),
        )
        .await;
    for (list, purpose) in [
        (0, StatusPurpose::Revocation),
        (1, StatusPurpose::Suspension),
    ] {
        agency_tx
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

    // The agency issues a card to a wallet's key; the wallet shows age and district.
    let holder = ed25519_dalek::SigningKey::from_bytes(&[42; 32]);
    let index = 77_001;
    let issued = card::issue_sd_jwt_vc(
        &CardIssue {
            vct: "CitizenCard".into(),
            iss: "did:simin:seoul.agency".into(),
            kid: "did:simin:seoul.agency#key-1".into(),
            claims: json!({
                "name": "Kim Minji", "birthdate": "1990-05-01", "resident_district": "Mapo-gu",
                "photo_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                "card_number": "SC-2026-000123",
                "age_over_14": true, "age_over_19": true, "age_over_65": false,
            })
            .as_object()
            .expect("an object")
            .clone(),
            holder_jwk: Jwk::from_ed25519(&holder.verifying_key()),
            // Now: after the DID was created (the key it names was listed from then on).
            iat: u64::try_from(now()).expect("positive"),
            exp: u64::try_from(now() + 86_400).expect("positive"),
            status: vec![
                BitstringStatusListEntry::new(
                    None,
                    EntryPurpose::Revocation,
                    index,
                    "did:simin:seoul.agency/status/0".into(),
                ),
                BitstringStatusListEntry::new(
                    None,
                    EntryPurpose::Suspension,
                    index,
                    "did:simin:seoul.agency/status/1".into(),
                ),
            ],
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
    let present = |nonce: &str| {
        sd_jwt::present(
            &issued,
            &[
                vec![PathElement::Name("age_over_19".into())],
                vec![PathElement::Name("resident_district".into())],
            ],
            Some(&KeyBindingRequest {
                signer: &JwsSigner::Ed25519(holder.clone()),
                audience: AUDIENCE,
                nonce,
                issued_at: now(),
            }),
        )
        .expect("presented")
    };

    let shown = present("nonce-1");
    let verdict = node_verdict(&base, &shown, "nonce-1").await;
    assert_eq!(verdict["verified"], true, "{verdict}");
    assert_eq!(
        verdict["claims"],
        json!({"age_over_19": true, "resident_district": "Mapo-gu"})
    );
    assert_eq!(
        proven_verdict(&client, &trusted, &shown, "nonce-1").await,
        Ok(())
    );
    // Replayed to another verifier session (another nonce): refused by both.
    let verdict = node_verdict(&base, &shown, "nonce-2").await;
    assert_eq!(verdict["reason"], "wrong_nonce", "{verdict}");
    assert_eq!(
        proven_verdict(&client, &trusted, &shown, "nonce-2").await,
        Err("wrong_nonce")
    );

    // The phone is lost: the agency suspends the card; from the next block both refuse.
    let suspended_at = agency_tx
        .succeed(
            &base,
            Call::Identity(IdentityCall::SetStatus {
                list: 1,
                updates: vec![StatusUpdate {
                    index: u32::try_from(index).expect("fits"),
                    value: true,
                }],
            }),
        )
        .await;
    wait_for_height(&base, suspended_at).await;
    let shown = present("nonce-3");
    let verdict = node_verdict(&base, &shown, "nonce-3").await;
    assert_eq!(verdict["reason"], "suspended", "{verdict}");
    assert!(verdict["height"].as_u64().expect("a height") >= suspended_at);
    assert_eq!(
        proven_verdict(&client, &trusted, &shown, "nonce-3").await,
        Err("suspended")
    );
    // A light client trusting another validator set refuses to rely on this node at all.
    let stranger = TrustAnchor {
        chain_id: trusted.chain_id.clone(),
        validators: simin_types::ValidatorSet::new(vec![simin_types::Validator {
            public_key: SigningKey::from_seed([7; 32]).public_key(),
            voting_power: 1,
        }])
        .expect("a set"),
    };
    let mut state = ProvenState::at(Height(suspended_at));
    let request = VerifyRequest {
        presentation: &shown,
        nonce: "nonce-3",
        audience: AUDIENCE,
        now: now(),
        accepted_types: &[],
    };
    assert!(state
        .resolve(&client, &stranger, |s| verify_presentation(s, &request))
        .await
        .is_err());

    node.shutdown().await;
}
