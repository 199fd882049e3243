//! The admission policy (ADR 0011): a signer that does not hold what a call needs is
//! refused before the mempool, with the module's reason; a call open to unregistered
//! keys is admitted only when it would succeed against the checked state.

mod common;

use common::*;
use simin_ledger::{check_tx, Standing, TxCheck, TxError};
use simin_types::{
    limits, AccessEntry, AccessKind, AccreditationTerms, AuthCall, Benefit, BlockTime, Call,
    ConflictingVote, ConsensusCall, Consent, DataCall, DataSource, Dataset, EligibilityDecision,
    Equivocation, Hash, IdentityCall, PersonalRecord, ReadingBatch, Relationship, Role,
    ServiceRegistration, SignedTx, SigningKey, StatusPurpose, StatusUpdate, VerificationMethod,
    VoteKind,
};

/// `mapo.welfare`: an agency that files personal records.
fn welfare() -> SigningKey {
    key(12)
}

/// A citizen's owner key for record 1; no registry holds it.
fn citizen() -> SigningKey {
    key(30)
}

fn check(chain: &Chain, tx: &SignedTx) -> Result<TxCheck, TxError> {
    check_tx(&chain.state, &chain_id(), chain.next_ctx().height, tx)
}

/// `chain` with `mapo.welfare` and its record 1, owned by [`citizen`].
fn with_record() -> Chain {
    let mut chain = Chain::new();
    let welfare_org = org("mapo.welfare", &[&welfare()], &[Role::Agency]);
    assert_success(&chain.run(&authority(), register(welfare_org)));
    let record = PersonalRecord {
        id: doc(500),
        holder: org_id("mapo.welfare"),
        owner: citizen().public_key(),
        kind: "welfare_application".into(),
        commitment: doc(501),
        created_time: BlockTime(0),
        erased_time: None,
    };
    assert_success(&chain.run(&welfare(), Call::Data(DataCall::CreateRecord(record))));
    chain
}

fn consent(record: Hash, organization: &str, expires: BlockTime) -> Call {
    Call::Data(DataCall::GrantConsent(Consent {
        record,
        organization: org_id(organization),
        purpose: "eligibility".into(),
        expires,
        revoked_time: None,
    }))
}

fn far() -> BlockTime {
    BlockTime(GENESIS_TIME.0 + 1_000_000_000)
}

/// Asserts `check_tx` refuses `tx` as not authorised with the module's `reason`.
fn assert_not_authorized(chain: &Chain, tx: &SignedTx, reason: &str) {
    match check(chain, tx) {
        Err(err @ TxError::NotAuthorized(_)) => {
            assert_eq!(err.code(), "tx.not_authorized");
            let got = err.call_error().map(|e| e.code());
            assert_eq!(got, Some(reason), "{:?}", tx.tx.call.name());
        }
        other => panic!(
            "{}: expected not_authorized/{reason}, got {other:?}",
            tx.tx.call.name()
        ),
    }
}

#[test]
fn an_anchor_by_an_unregistered_key_is_refused_and_changes_nothing() {
    let chain = Chain::new();
    let before = chain.state.clone();
    let tx = sign(&outsider(), 0, anchor(doc(1)));
    assert_not_authorized(&chain, &tx, "notary.not_a_notary");
    let err = check(&chain, &tx).expect_err("refused");
    assert!(err.to_string().contains("notary.not_a_notary"), "{err}");
    assert!(!err.is_permanent(), "a notary role may be granted later");
    assert_eq!(chain.state, before, "admission writes nothing");
    // A far nonce does not get an unregistered key past the check either.
    assert_not_authorized(
        &chain,
        &sign(&outsider(), 7, anchor(doc(2))),
        "notary.not_a_notary",
    );
}

/// Every organisation call of every module, signed by a key nobody registered, against a
/// chain where the objects they name exist where that matters.
fn organisation_calls() -> Vec<(Call, &'static str)> {
    let notary_org = org_id("city.notary");
    let registration = ServiceRegistration {
        client_id: "notary.portal".into(),
        organization: notary_org.clone(),
        name: "The portal".into(),
        redirect_uris: vec!["https://portal.example.kr/cb".into()],
        scopes: vec![],
        secret_hash: None,
        active: true,
    };
    let entry = AccessEntry {
        kind: AccessKind::Login,
        client_id: "notary.portal".into(),
        subject: "abc".into(),
        claims: vec![],
        commitment: doc(9),
        released_at: GENESIS_TIME,
    };
    let source = DataSource {
        id: "mapo.aq-1".into(),
        organization: org_id("mapo.welfare"),
        key: key(40).public_key(),
        datasets: vec!["seoul.air".into()],
        district: "Mapo-gu".into(),
        active: true,
    };
    let batch = ReadingBatch {
        dataset: "seoul.air".into(),
        source: "mapo.aq-1".into(),
        seq: 1,
        root: doc(3),
        count: 1,
        first_time: GENESIS_TIME,
        last_time: GENESIS_TIME,
    };
    let benefit = Benefit {
        id: "seoul.allowance".into(),
        organization: org_id("mapo.welfare"),
        name: "Allowance".into(),
        policy: r#"{"all":[]}"#.into(),
    };
    let decision = EligibilityDecision {
        id: doc(10),
        benefit: "seoul.allowance".into(),
        policy_hash: doc(11),
        applicant: doc(12),
        eligible: true,
        evidence: vec![doc(13)],
        decided_time: BlockTime(0),
    };
    let id = Call::Identity;
    let data = Call::Data;
    vec![
        (
            register(org("x.org", &[&key(41)], &[])),
            "governance.unauthorized",
        ),
        (deactivate("city.notary"), "governance.unauthorized"),
        (anchor_batch(vec![doc(1), doc(2)]), "notary.not_a_notary"),
        (
            id(IdentityCall::CreateDid {
                organization: notary_org.clone(),
                verification_methods: vec![VerificationMethod {
                    fragment: "key-1".into(),
                    public_key: outsider().public_key(),
                    relationships: vec![Relationship::CapabilityInvocation],
                }],
                services: vec![],
            }),
            "identity.not_did_controller",
        ),
        (
            id(IdentityCall::DeactivateDid {
                organization: notary_org.clone(),
            }),
            "identity.unknown_did",
        ),
        (
            id(IdentityCall::Accredit(AccreditationTerms {
                issuer: notary_org.clone(),
                credential_types: vec!["card".into()],
                valid_from: GENESIS_TIME,
                valid_until: far(),
                may_accredit: false,
            })),
            "identity.not_an_accreditor",
        ),
        (
            id(IdentityCall::RegisterSchema {
                credential_type: "card".into(),
                schema: "{}".into(),
            }),
            "identity.not_an_issuer",
        ),
        (
            id(IdentityCall::CreateStatusList {
                list: 0,
                purpose: StatusPurpose::Revocation,
                size_bits: limits::STATUS_LIST_BITS_MIN,
            }),
            "identity.not_an_issuer",
        ),
        (
            id(IdentityCall::SetStatus {
                list: 0,
                updates: vec![StatusUpdate {
                    index: 1,
                    value: true,
                }],
            }),
            "identity.unknown_status_list",
        ),
        (
            Call::Auth(AuthCall::RegisterService(registration)),
            "auth.not_service_controller",
        ),
        (
            Call::Auth(AuthCall::DeregisterService {
                client_id: "notary.portal".into(),
            }),
            "auth.unknown_service",
        ),
        (
            Call::Auth(AuthCall::RecordAccess {
                entries: vec![entry],
            }),
            "auth.not_an_identity_provider",
        ),
        (
            data(DataCall::RegisterDataset(Dataset {
                id: "seoul.air".into(),
                owner: notary_org,
                name: "Air".into(),
                schema: r#"{"type":"object"}"#.into(),
            })),
            "data.not_a_dataset_registrar",
        ),
        (
            data(DataCall::RegisterSource(source)),
            "data.not_source_controller",
        ),
        (data(DataCall::SubmitBatch(batch)), "data.unknown_source"),
        (
            data(DataCall::LogAccess {
                record: doc(500),
                purpose: "eligibility".into(),
            }),
            "data.not_an_organization_key",
        ),
        (
            data(DataCall::PublishBenefit(benefit)),
            "data.not_a_benefit_publisher",
        ),
        (
            data(DataCall::RecordDecision(decision)),
            "data.unknown_benefit",
        ),
    ]
}

#[test]
fn every_organisation_call_by_a_non_holder_is_refused_as_execution_would() {
    let chain = with_record();
    for (call, reason) in organisation_calls() {
        simin_ledger::check_call(&call).expect("the fixture calls are well formed");
        let tx = sign(&outsider(), 0, call);
        assert_not_authorized(&chain, &tx, reason);
        // Execution runs the same check first, so a block carrying it fails the same way.
        let mut replay = Chain {
            state: chain.state.clone(),
            height: chain.height,
        };
        assert_failure(&replay.block(&[tx]), &outsider(), reason);
    }
}

#[test]
fn a_granted_role_admits_and_a_deactivation_refuses_again() {
    let mut chain = Chain::new();
    let clerk = key(20);
    let tx = sign(&clerk, 0, anchor(doc(1)));
    assert_not_authorized(&chain, &tx, "notary.not_a_notary");
    let registry = org("gu.registry", &[&clerk], &[Role::Notary]);
    assert_success(&chain.run(&authority(), register(registry)));
    let admitted = check(&chain, &tx).expect("a notary key is admitted");
    assert_eq!(admitted.standing, Standing::Holder);
    // Keys of a deactivated organisation stay bound to it but hold no role.
    assert_success(&chain.run(&authority(), deactivate("gu.registry")));
    assert_not_authorized(&chain, &tx, "notary.not_a_notary");
    // A key of an organisation without the notary role holds nothing for anchors.
    let other = org("gu.office", &[&key(21)], &[Role::Agency]);
    assert_success(&chain.run(&authority(), register(other)));
    assert_not_authorized(
        &chain,
        &sign(&key(21), 0, anchor(doc(1))),
        "notary.not_a_notary",
    );
}

#[test]
fn a_citizen_consent_is_admitted_only_when_it_would_succeed() {
    let chain = with_record();
    let refused = |tx: &SignedTx| match check(&chain, tx) {
        Err(err @ TxError::CallRefused(_)) => {
            assert_eq!(err.code(), "tx.call_refused");
            err.call_error().map(|e| e.code()).expect("a reason")
        }
        other => panic!("expected call_refused, got {other:?}"),
    };
    let unknown = sign(&citizen(), 0, consent(doc(999), "mapo.welfare", far()));
    assert_eq!(refused(&unknown), "data.unknown_record");
    let wrong_key = sign(&key(31), 0, consent(doc(500), "mapo.welfare", far()));
    assert_eq!(refused(&wrong_key), "data.not_record_owner");
    let for_nobody = sign(&citizen(), 0, consent(doc(500), "no.such-org", far()));
    assert_eq!(refused(&for_nobody), "governance.unknown_organization");
    let expired = sign(
        &citizen(),
        0,
        consent(doc(500), "mapo.welfare", GENESIS_TIME),
    );
    assert_eq!(refused(&expired), "data.invalid_consent");
    let revoke_nothing = Call::Data(DataCall::RevokeConsent {
        record: doc(500),
        organization: org_id("mapo.welfare"),
        purpose: "eligibility".into(),
    });
    assert_eq!(
        refused(&sign(&citizen(), 0, revoke_nothing)),
        "data.unknown_consent"
    );
    let valid = sign(&citizen(), 0, consent(doc(500), "mapo.welfare", far()));
    let admitted = check(&chain, &valid).expect("a valid consent is admitted");
    assert_eq!(admitted.standing, Standing::Open);
    // The owner's erasure is open too, and valid; a stranger's is refused.
    let erase = Call::Data(DataCall::EraseRecord { record: doc(500) });
    assert!(check(&chain, &sign(&citizen(), 0, erase.clone())).is_ok());
    assert_eq!(
        refused(&sign(&key(31), 0, erase)),
        "data.not_record_controller"
    );
}

fn report(validator: &SigningKey, second_signer: &SigningKey) -> Call {
    let vote = |signer: &SigningKey, value: Option<Hash>| {
        let bytes = simin_types::signed_vote_bytes(
            &chain_id(),
            VoteKind::Prevote,
            simin_types::Height(1),
            0,
            value.as_ref(),
        );
        ConflictingVote {
            value,
            signature: signer.sign(&bytes),
        }
    };
    Call::Consensus(ConsensusCall::ReportEquivocation(Equivocation {
        validator: validator.public_key(),
        height: simin_types::Height(1),
        round: 0,
        kind: VoteKind::Prevote,
        first: vote(validator, Some(doc(1))),
        second: vote(second_signer, None),
    }))
}

#[test]
fn an_equivocation_report_is_admitted_from_any_key_only_when_it_proves_something() {
    let mut chain = Chain::new();
    chain.block(&[]);
    let validator = key(100);
    let forged = sign(&outsider(), 0, report(&validator, &outsider()));
    assert!(
        matches!(check(&chain, &forged), Err(TxError::CallRefused(ref e)) if e.code() == "consensus.evidence_bad_signature")
    );
    let stranger = sign(&outsider(), 0, report(&key(101), &key(101)));
    assert!(
        matches!(check(&chain, &stranger), Err(TxError::CallRefused(ref e)) if e.code() == "consensus.not_a_validator")
    );
    let proven = sign(&outsider(), 0, report(&validator, &validator));
    let admitted = check(&chain, &proven).expect("a proven equivocation is admitted");
    assert_eq!(admitted.standing, Standing::Open);
    assert_success(&chain.block(&[proven]));
    // Recorded once: the same evidence from another reporter no longer gets in.
    let again = sign(&key(42), 0, report(&validator, &validator));
    assert!(
        matches!(check(&chain, &again), Err(TxError::CallRefused(ref e)) if e.code() == "consensus.evidence_exists")
    );
}
