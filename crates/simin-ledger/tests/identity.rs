//! The identity module's rules: DIDs, accreditation chains, schemas, status lists.

mod common;

use common::*;
use simin_ledger::identity::{
    accreditation_chain, did_record, schema, status_chunk, status_list, status_list_bits,
    TrustError,
};
use simin_ledger::{check_call, TxError};
use simin_types::{
    limits, AccreditationTerms, BlockTime, Call, DidService, IdentityCall, Relationship, Role,
    SigningKey, StatusPurpose, StatusUpdate, VerificationMethod,
};

fn id(call: IdentityCall) -> Call {
    Call::Identity(call)
}

fn method(fragment: &str, key: &SigningKey, relationships: &[Relationship]) -> VerificationMethod {
    VerificationMethod {
        fragment: fragment.into(),
        public_key: key.public_key(),
        relationships: relationships.to_vec(),
    }
}

fn controller(fragment: &str, key: &SigningKey) -> VerificationMethod {
    method(
        fragment,
        key,
        &[
            Relationship::CapabilityInvocation,
            Relationship::AssertionMethod,
        ],
    )
}

fn create_did(org: &str, methods: Vec<VerificationMethod>) -> Call {
    id(IdentityCall::CreateDid {
        organization: org_id(org),
        verification_methods: methods,
        services: vec![],
    })
}

fn terms(issuer: &str, types: &[&str], from: u64, until: u64, may_accredit: bool) -> Call {
    id(IdentityCall::Accredit(AccreditationTerms {
        issuer: org_id(issuer),
        credential_types: types.iter().map(|t| (*t).to_owned()).collect(),
        valid_from: BlockTime(from),
        valid_until: BlockTime(until),
        may_accredit,
    }))
}

const FAR: u64 = GENESIS_TIME.0 + 1_000_000_000;

/// A chain with `seoul.agency` (key 10) and `mapo.library` (key 11), both issuers.
fn with_issuers() -> Chain {
    let mut chain = Chain::new();
    assert_success(&chain.run(
        &authority(),
        register(org(
            "seoul.agency",
            &[&key(10)],
            &[Role::Agency, Role::Issuer],
        )),
    ));
    assert_success(&chain.run(
        &authority(),
        register(org(
            "mapo.library",
            &[&key(11)],
            &[Role::Facility, Role::Issuer],
        )),
    ));
    chain
}

#[test]
fn an_organisation_creates_rotates_and_deactivates_its_did() {
    let mut chain = with_issuers();
    // Only the organisation's own key (or an authority) creates its DID.
    assert_failure(
        &chain.run(
            &key(11),
            create_did("seoul.agency", vec![controller("k1", &key(20))]),
        ),
        &key(11),
        "identity.not_did_controller",
    );
    assert_success(&chain.run(
        &key(10),
        create_did("seoul.agency", vec![controller("k1", &key(20))]),
    ));
    let created = did_record(&chain.state, &org_id("seoul.agency"))
        .expect("readable")
        .expect("created");
    assert_eq!(created.version, 1);
    assert_eq!(created.created_height, chain.height);
    assert_failure(
        &chain.run(
            &key(10),
            create_did("seoul.agency", vec![controller("k1", &key(20))]),
        ),
        &key(10),
        "identity.did_exists",
    );

    // Updates come from the DID's capability_invocation key, not the org's tx key.
    let add = id(IdentityCall::AddVerificationMethod {
        organization: org_id("seoul.agency"),
        method: method("sign-2", &key(21), &[Relationship::AssertionMethod]),
    });
    assert_failure(
        &chain.run(&key(10), add.clone()),
        &key(10),
        "identity.not_did_controller",
    );
    assert_success(&chain.run(&key(20), add));
    assert_success(&chain.run(
        &key(20),
        id(IdentityCall::RotateKey {
            organization: org_id("seoul.agency"),
            fragment: "sign-2".into(),
            public_key: key(22).public_key(),
        }),
    ));
    assert_success(&chain.run(
        &key(20),
        id(IdentityCall::AddService {
            organization: org_id("seoul.agency"),
            service: DidService {
                fragment: "issuer".into(),
                service_type: "OpenID4VCI".into(),
                endpoint: "https://issuer.seoul.go.kr".into(),
            },
        }),
    ));
    let doc = did_record(&chain.state, &org_id("seoul.agency"))
        .expect("readable")
        .expect("exists");
    assert_eq!(doc.version, 4);
    assert_eq!(
        doc.method("sign-2").map(|m| m.public_key),
        Some(key(22).public_key())
    );
    assert_eq!(doc.services.len(), 1);

    // The last capability_invocation key cannot be removed.
    assert_failure(
        &chain.run(
            &key(20),
            id(IdentityCall::RemoveVerificationMethod {
                organization: org_id("seoul.agency"),
                fragment: "k1".into(),
            }),
        ),
        &key(20),
        "identity.invalid_did",
    );
    // A city authority can recover a DID whose controller key is lost.
    assert_success(&chain.run(
        &authority(),
        id(IdentityCall::RotateKey {
            organization: org_id("seoul.agency"),
            fragment: "k1".into(),
            public_key: key(23).public_key(),
        }),
    ));
    assert_failure(
        &chain.run(
            &key(20),
            id(IdentityCall::DeactivateDid {
                organization: org_id("seoul.agency"),
            }),
        ),
        &key(20),
        "identity.not_did_controller",
    );
    assert_success(&chain.run(
        &key(23),
        id(IdentityCall::DeactivateDid {
            organization: org_id("seoul.agency"),
        }),
    ));
    let before = chain.state.clone();
    assert_failure(
        &chain.run(
            &key(23),
            id(IdentityCall::RemoveService {
                organization: org_id("seoul.agency"),
                fragment: "issuer".into(),
            }),
        ),
        &key(23),
        "identity.did_deactivated",
    );
    assert_eq!(
        did_record(&before, &org_id("seoul.agency")),
        did_record(&chain.state, &org_id("seoul.agency"))
    );
}

#[test]
fn malformed_did_documents_never_reach_a_block() {
    let no_controller = create_did(
        "seoul.agency",
        vec![method("k", &key(20), &[Relationship::AssertionMethod])],
    );
    let duplicate = create_did(
        "seoul.agency",
        vec![controller("k", &key(20)), controller("k", &key(21))],
    );
    let bad_fragment = create_did("seoul.agency", vec![controller("has space", &key(20))]);
    let too_many = create_did(
        "seoul.agency",
        (0..=limits::DID_ENTRIES_MAX)
            .map(|i| controller(&format!("k{i}"), &key(20)))
            .collect(),
    );
    let bad_service = id(IdentityCall::AddService {
        organization: org_id("seoul.agency"),
        service: DidService {
            fragment: "s".into(),
            service_type: "LinkedDomains".into(),
            endpoint: "http://seoul.go.kr".into(),
        },
    });
    for call in [
        no_controller,
        duplicate,
        bad_fragment,
        too_many,
        bad_service,
    ] {
        assert!(check_call(&call).is_err(), "{call:?} passed");
        let mut chain = with_issuers();
        let tx = sign(&key(10), 0, call);
        assert!(matches!(
            chain.try_block(&[tx]),
            Err(simin_ledger::BlockError::InvalidTx {
                source: TxError::InvalidCall(_),
                ..
            })
        ));
    }
}

#[test]
fn accreditation_runs_from_the_city_through_an_agency_to_a_facility() {
    let mut chain = with_issuers();
    let now = chain.next_ctx().time.0;
    // Nobody but the city starts a chain.
    assert_failure(
        &chain.run(
            &key(10),
            terms("mapo.library", &["LibraryMembership"], now, FAR, false),
        ),
        &key(10),
        "identity.not_an_accreditor",
    );
    assert_success(&chain.run(
        &authority(),
        terms(
            "seoul.agency",
            &["LibraryMembership", "CitizenCard"],
            GENESIS_TIME.0,
            FAR,
            true,
        ),
    ));
    // The agency may accredit only within its own types and period.
    assert_failure(
        &chain.run(
            &key(10),
            terms("mapo.library", &["Residency"], now, FAR, false),
        ),
        &key(10),
        "identity.not_an_accreditor",
    );
    assert_failure(
        &chain.run(
            &key(10),
            terms("mapo.library", &["LibraryMembership"], now, FAR + 1, false),
        ),
        &key(10),
        "identity.invalid_accreditation",
    );
    assert_success(&chain.run(
        &key(10),
        terms("mapo.library", &["LibraryMembership"], now, FAR, false),
    ));
    let at = BlockTime(now + 5_000);
    let links = accreditation_chain(
        &chain.state,
        &org_id("mapo.library"),
        "LibraryMembership",
        at,
    )
    .expect("trusted");
    assert_eq!(links.len(), 2);
    assert_eq!(links[0].accredited_by, Some(org_id("seoul.agency")));
    assert_eq!(links[1].accredited_by, None);
    // Not for another type, nor before its period.
    assert!(matches!(
        accreditation_chain(&chain.state, &org_id("mapo.library"), "CitizenCard", at),
        Err(TrustError::NotCovered { .. })
    ));
    assert!(matches!(
        accreditation_chain(
            &chain.state,
            &org_id("mapo.library"),
            "LibraryMembership",
            BlockTime(now - 1)
        ),
        Err(TrustError::NotCovered { .. })
    ));
    // A facility that may not accredit cannot pass it on.
    assert_success(&chain.run(
        &authority(),
        register(org("gym", &[&key(12)], &[Role::Facility, Role::Issuer])),
    ));
    assert_failure(
        &chain.run(
            &key(11),
            terms("gym", &["LibraryMembership"], now, FAR, false),
        ),
        &key(11),
        "identity.not_an_accreditor",
    );

    // Revoking the agency breaks the facility's chain from then on, not before.
    assert_success(&chain.run(
        &authority(),
        id(IdentityCall::RevokeAccreditation {
            issuer: org_id("seoul.agency"),
        }),
    ));
    let revoked_at = chain.next_ctx().time.0 - 1_000;
    assert!(matches!(
        accreditation_chain(
            &chain.state,
            &org_id("mapo.library"),
            "LibraryMembership",
            BlockTime(revoked_at)
        ),
        Err(TrustError::BrokenChain { .. })
    ));
    assert!(accreditation_chain(
        &chain.state,
        &org_id("mapo.library"),
        "LibraryMembership",
        BlockTime(revoked_at - 1)
    )
    .is_ok());
    // Only an organisation with the issuer role can be accredited.
    assert_failure(
        &chain.run(
            &authority(),
            terms("city.notary", &["CitizenCard"], now, FAR, false),
        ),
        &authority(),
        "identity.invalid_accreditation",
    );
}

#[test]
fn schemas_come_from_the_city_or_an_accredited_issuer() {
    let mut chain = with_issuers();
    let register_schema = |t: &str, s: &str| {
        id(IdentityCall::RegisterSchema {
            credential_type: t.into(),
            schema: s.into(),
        })
    };
    let card = r#"{"type":"object","required":["given_name"]}"#;
    assert_failure(
        &chain.run(&key(10), register_schema("CitizenCard", card)),
        &key(10),
        "identity.not_an_issuer",
    );
    assert!(check_call(&register_schema("CitizenCard", "[1]")).is_err());
    assert!(check_call(&register_schema("CitizenCard", "{not json")).is_err());
    assert_success(&chain.run(&authority(), register_schema("CitizenCard", card)));
    let stored = schema(&chain.state, "CitizenCard")
        .expect("readable")
        .expect("stored");
    assert_eq!(stored.schema, card);
    assert_eq!(stored.registered_by, None);
    // An accredited issuer registers its own type, and others cannot replace it.
    assert_success(&chain.run(
        &authority(),
        terms("seoul.agency", &["Residency"], GENESIS_TIME.0, FAR, false),
    ));
    assert_success(&chain.run(&key(10), register_schema("Residency", "{}")));
    assert_success(&chain.run(
        &authority(),
        terms("mapo.library", &["Residency"], GENESIS_TIME.0, FAR, false),
    ));
    assert_failure(
        &chain.run(&key(11), register_schema("Residency", r#"{"x":1}"#)),
        &key(11),
        "identity.invalid_schema",
    );
}

#[test]
fn status_bits_are_set_by_their_issuer_and_revocation_is_final() {
    let mut chain = with_issuers();
    let create = |list, purpose| {
        id(IdentityCall::CreateStatusList {
            list,
            purpose,
            size_bits: limits::STATUS_LIST_BITS_MIN,
        })
    };
    let set = |list, updates: &[(u32, bool)]| {
        id(IdentityCall::SetStatus {
            list,
            updates: updates
                .iter()
                .map(|&(index, value)| StatusUpdate { index, value })
                .collect(),
        })
    };
    // Unaccredited organisations have no status lists.
    assert_failure(
        &chain.run(&key(10), create(0, StatusPurpose::Revocation)),
        &key(10),
        "identity.not_an_issuer",
    );
    assert_success(&chain.run(
        &authority(),
        terms("seoul.agency", &["CitizenCard"], GENESIS_TIME.0, FAR, false),
    ));
    assert_success(&chain.run(&key(10), create(0, StatusPurpose::Revocation)));
    assert_success(&chain.run(&key(10), create(1, StatusPurpose::Suspension)));
    assert_failure(
        &chain.run(&key(10), create(1, StatusPurpose::Suspension)),
        &key(10),
        "identity.invalid_status",
    );
    assert!(check_call(&id(IdentityCall::CreateStatusList {
        list: 2,
        purpose: StatusPurpose::Revocation,
        size_bits: 8,
    }))
    .is_err());

    assert_success(&chain.run(
        &key(10),
        set(0, &[(0, true), (9_003, true), (131_071, true)]),
    ));
    let agency = org_id("seoul.agency");
    let record = status_list(&chain.state, &agency, 0)
        .expect("readable")
        .expect("exists");
    let bits = status_list_bits(&chain.state, &record).expect("readable");
    assert_eq!(bits.len(), 131_072 / 8);
    assert_eq!(bits[0], 0x80);
    assert_eq!(bits[9_003 / 8], 0x10);
    assert_eq!(bits[bits.len() - 1], 0x01);
    assert_eq!(bits.iter().map(|b| b.count_ones()).sum::<u32>(), 3);
    // Unwritten chunks read as zeros.
    assert_eq!(
        status_chunk(&chain.state, &agency, 0, 5).expect("readable"),
        vec![0; 1024]
    );

    // A revocation is final; a suspension is lifted.
    assert_failure(
        &chain.run(&key(10), set(0, &[(0, false)])),
        &key(10),
        "identity.invalid_status",
    );
    assert_success(&chain.run(&key(10), set(1, &[(7, true)])));
    assert_success(&chain.run(&key(10), set(1, &[(7, false)])));
    let suspension = status_list(&chain.state, &agency, 1)
        .expect("readable")
        .expect("exists");
    assert!(status_list_bits(&chain.state, &suspension)
        .expect("readable")
        .iter()
        .all(|b| *b == 0));
    // Out of range, and another organisation's list, are refused and change nothing.
    let before = status_list_bits(&chain.state, &record).expect("readable");
    assert_failure(
        &chain.run(&key(10), set(0, &[(5, true), (131_072, true)])),
        &key(10),
        "identity.invalid_status",
    );
    assert_failure(
        &chain.run(&key(11), set(0, &[(5, true)])),
        &key(11),
        "identity.unknown_status_list",
    );
    assert_eq!(
        status_list_bits(&chain.state, &record).expect("readable"),
        before
    );
    assert!(check_call(&set(0, &[(1, true), (1, false)])).is_err());
}
