//! The identity registries through a real node and its HTTP API: an agency is accredited,
//! publishes its DID, rotates a key (and the old version still resolves at its time),
//! suspends a card in its status list, and a client checks that bit against a
//! certified header without trusting the node.

mod common;

use common::{get, one_validator_devnet, wait_for_height, Signer};
use simin_api::dto::StateLookup;
use simin_client::{verify_state_lookup, TrustAnchor};
use simin_identity::status_list;
use simin_types::{
    limits, state_keys, AccreditationTerms, BlockTime, Call, GovernanceCall, IdentityCall, OrgId,
    Organization, Relationship, Role, SigningKey, StatusPurpose, StatusUpdate, VerificationMethod,
};

fn agency() -> OrgId {
    OrgId::new("seoul.agency").expect("valid id")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dids_issuers_and_status_bits_through_the_api() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let (layout, api) = one_validator_devnet(dir.path());
    let genesis_json = std::fs::read(&layout.genesis).expect("genesis file");
    let trusted = TrustAnchor::from_genesis_json(&genesis_json).expect("a trust anchor");
    let mut city = Signer::new(
        SigningKey::from_hex(
            &std::fs::read_to_string(&layout.authority_key).expect("authority key file"),
        )
        .expect("a key"),
    );
    let base = format!("http://{api}");
    let node = simin_node::start(&layout.homes[0])
        .await
        .expect("node starts");
    wait_for_height(&base, 1).await;

    // The city registers and accredits an agency for citizen cards.
    let mut agency_key = Signer::new(SigningKey::from_seed([10; 32]));
    city.succeed(
        &base,
        Call::Governance(GovernanceCall::RegisterOrganization(Organization {
            id: agency(),
            name: "Seoul Citizen Card Agency".into(),
            keys: vec![agency_key.key.public_key()],
            roles: vec![Role::Agency, Role::Issuer],
            active: true,
        })),
    )
    .await;
    city.succeed(
        &base,
        Call::Identity(IdentityCall::Accredit(AccreditationTerms {
            issuer: agency(),
            credential_types: vec!["CitizenCard".into()],
            valid_from: BlockTime(0),
            valid_until: BlockTime(u64::MAX),
            may_accredit: true,
        })),
    )
    .await;

    // Its DID, then a key rotation.
    let first = SigningKey::from_seed([20; 32]);
    let second = SigningKey::from_seed([21; 32]);
    let mut controller = Signer::new(first.clone());
    let created_at = agency_key
        .succeed(
            &base,
            Call::Identity(IdentityCall::CreateDid {
                organization: agency(),
                verification_methods: vec![VerificationMethod {
                    fragment: "key-1".into(),
                    public_key: first.public_key(),
                    relationships: vec![
                        Relationship::AssertionMethod,
                        Relationship::CapabilityInvocation,
                    ],
                }],
                services: vec![],
            }),
        )
        .await;
    let (_, before_rotation) = get(&format!("{base}/v1/dids/did:simin:seoul.agency")).await;
    let rotated_at = controller
        .succeed(
            &base,
            Call::Identity(IdentityCall::RotateKey {
                organization: agency(),
                fragment: "key-1".into(),
                public_key: second.public_key(),
            }),
        )
        .await;
    assert!(rotated_at > created_at);

    let (status, now) = get(&format!("{base}/v1/dids/did:simin:seoul.agency")).await;
    assert_eq!(status, 200, "{now}");
    assert_eq!(now["didDocument"]["id"], "did:simin:seoul.agency");
    assert_eq!(now["didDocumentMetadata"]["versionId"], "2");
    let key_now = now["didDocument"]["verificationMethod"][0]["publicKeyMultibase"].clone();
    let key_before =
        before_rotation["didDocument"]["verificationMethod"][0]["publicKeyMultibase"].clone();
    assert_ne!(key_now, key_before);
    // As of the creation height, and as of the time of that block, the old key.
    let (status, old) = get(&format!(
        "{base}/v1/dids/did:simin:seoul.agency?height={created_at}"
    ))
    .await;
    assert_eq!(status, 200, "{old}");
    assert_eq!(
        old["didDocument"]["verificationMethod"][0]["publicKeyMultibase"],
        key_before
    );
    let created_time = before_rotation["didDocumentMetadata"]["created"]
        .as_str()
        .expect("a time")
        .to_owned();
    let (status, at_time) = get(&format!(
        "{base}/v1/dids/did:simin:seoul.agency?versionTime={created_time}"
    ))
    .await;
    assert_eq!(status, 200, "{at_time}");
    assert_eq!(at_time["didDocumentMetadata"]["versionId"], "1");
    let (status, too_early) = get(&format!(
        "{base}/v1/dids/did:simin:seoul.agency?versionTime=2000-01-01T00:00:00Z"
    ))
    .await;
    assert_eq!(status, 404, "{too_early}");
    assert_eq!(
        too_early["didResolutionMetadata"]["error"], "notFound",
        "{too_early}"
    );
    let (status, bad) = get(&format!("{base}/v1/dids/did:simin:Not_Valid")).await;
    assert_eq!(status, 400, "{bad}");
    assert_eq!(bad["didResolutionMetadata"]["error"], "invalidDid");
    let (status, other) = get(&format!("{base}/v1/dids/did:web:example.com")).await;
    assert_eq!(status, 501, "{other}");

    // The registry says the agency is trusted for citizen cards, not for residency.
    let (status, issuer) = get(&format!(
        "{base}/v1/issuers/seoul.agency?credential_type=CitizenCard"
    ))
    .await;
    assert_eq!(status, 200, "{issuer}");
    assert_eq!(issuer["trust"]["trusted"], true, "{issuer}");
    assert_eq!(issuer["trust"]["chain"][0]["accredited_by"], "city");
    let (_, issuer) = get(&format!(
        "{base}/v1/issuers/seoul.agency?credential_type=Residency"
    ))
    .await;
    assert_eq!(issuer["trust"]["trusted"], false, "{issuer}");
    let (status, _) = get(&format!("{base}/v1/issuers/nobody")).await;
    assert_eq!(status, 404);

    // A suspension list: suspend card 4242, check the bit with its proof.
    agency_key
        .succeed(
            &base,
            Call::Identity(IdentityCall::CreateStatusList {
                list: 1,
                purpose: StatusPurpose::Suspension,
                size_bits: limits::STATUS_LIST_BITS_MIN,
            }),
        )
        .await;
    let suspended_at = agency_key
        .succeed(
            &base,
            Call::Identity(IdentityCall::SetStatus {
                list: 1,
                updates: vec![StatusUpdate {
                    index: 4242,
                    value: true,
                }],
            }),
        )
        .await;
    wait_for_height(&base, suspended_at).await;
    let (status, bit) = get(&format!("{base}/v1/status-lists/seoul.agency/1/4242")).await;
    assert_eq!(status, 200, "{bit}");
    assert_eq!(bit["value"], true);
    assert_eq!(bit["purpose"], "suspension");
    let lookup: StateLookup = serde_json::from_value(bit["state"].clone()).expect("a lookup");
    let chunk_key = state_keys::status_chunk(&agency(), 1, 0);
    let proven = verify_state_lookup(&lookup, &chunk_key, &trusted).expect("the proof verifies");
    let chunk: Vec<u8> = simin_types::decode(
        "status chunk",
        proven.value.as_deref().expect("the chunk was written"),
        1 << 16,
    )
    .expect("a chunk");
    assert_eq!(chunk[4242 / 8] & (0x80 >> (4242 % 8)), 0x80 >> (4242 % 8));
    // A lookup for another key does not pass as this one.
    let other_key = state_keys::status_chunk(&agency(), 1, 1);
    assert!(verify_state_lookup(&lookup, &other_key, &trusted).is_err());
    let (_, neighbour) = get(&format!("{base}/v1/status-lists/seoul.agency/1/4243")).await;
    assert_eq!(neighbour["value"], false);
    let (status, _) = get(&format!("{base}/v1/status-lists/seoul.agency/1/131072")).await;
    assert_eq!(status, 400);
    let (status, _) = get(&format!("{base}/v1/status-lists/seoul.agency/9/0")).await;
    assert_eq!(status, 404);

    // The whole list as a W3C BitstringStatusListCredential.
    let (status, credential) = get(&format!("{base}/v1/status-lists/seoul.agency/1")).await;
    assert_eq!(status, 200, "{credential}");
    assert_eq!(credential["id"], "did:simin:seoul.agency/status/1");
    let published = status_list::read_status_list_credential(&credential, 1 << 24)
        .expect("a status list credential");
    assert_eq!(published.list.get(4242), Ok(true));
    assert_eq!(published.list.get(4243), Ok(false));
    assert_eq!(published.list.bit_len(), 131_072);

    // Lifting the suspension takes effect from the next block.
    agency_key
        .succeed(
            &base,
            Call::Identity(IdentityCall::SetStatus {
                list: 1,
                updates: vec![StatusUpdate {
                    index: 4242,
                    value: false,
                }],
            }),
        )
        .await;
    let (_, bit) = get(&format!("{base}/v1/status-lists/seoul.agency/1/4242")).await;
    assert_eq!(bit["value"], false);

    node.shutdown().await;
}
