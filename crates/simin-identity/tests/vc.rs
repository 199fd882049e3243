//! W3C VC Data Model 2.0 credentials (eddsa-jcs-2022) against real ledger state: a
//! credential and a presentation that verify, and each refusal with its code (tampered
//! claim, bad proof, expired, not yet valid, untrusted issuer, revoked, suspended,
//! unknown type, schema violation, wrong challenge, wrong domain, holder mismatch), plus
//! enveloped SD-JWT presentations.

use ed25519_dalek::SigningKey as Ed25519Key;
use serde_json::{json, Map, Value};
use simin_identity::card::{self, CardIssue};
use simin_identity::di::{self, ProofOptions};
use simin_identity::did_key::{did_key_from_ed25519, did_key_verification_method};
use simin_identity::did_simin::xsd_datetime;
use simin_identity::jose::{did_jwk, Jwk, JwsSigner};
use simin_identity::sd_jwt::{self, KeyBindingRequest, PathElement};
use simin_identity::status_list::{BitstringStatusListEntry, StatusPurpose};
use simin_identity::vc::{
    issue_vc, verify_vc, verify_vp, within_bounds, IssueVc, VcError, VerifiedVp,
    SD_JWT_DATA_URL_PREFIX,
};
use simin_identity::verifier::Rejection;
use simin_ledger::{execute_block, genesis_writes, BlockContext, MemoryState};
use simin_types::{
    AccreditationTerms, BlockTime, Call, ChainId, Genesis, GovernanceCall, Height, IdentityCall,
    OrgId, Organization, Relationship, Role, SigningKey, StatusUpdate, Tx, TxOutcome, Validator,
    VerificationMethod,
};

const GENESIS_TIME_MS: u64 = 1_760_000_000_000;
/// "Now" for the verifier: a day after genesis, Unix seconds.
const NOW: i64 = 1_760_086_400;
const CHALLENGE: &str = "c-7f0e9a51";
const DOMAIN: &str = "https://library.mapo.go.kr";
const ISSUER: &str = "did:simin:seoul.agency";
const KID: &str = "did:simin:seoul.agency#key-1";

fn chain_id() -> ChainId {
    ChainId::new("simin-test-1").expect("valid")
}

fn org(id: &str) -> OrgId {
    OrgId::new(id).expect("valid")
}

/// A time `seconds` after genesis, as a dateTimeStamp.
fn at(seconds: u64) -> String {
    xsd_datetime(BlockTime(GENESIS_TIME_MS + seconds * 1000))
}

/// A ledger in memory with the city, an accredited agency, its DID and status lists.
struct World {
    state: MemoryState,
    height: u64,
    nonces: std::collections::BTreeMap<[u8; 32], u64>,
    agency_tx: SigningKey,
    agency_assert: Ed25519Key,
}

impl World {
    fn new() -> World {
        let city = SigningKey::from_seed([1; 32]);
        let genesis = Genesis {
            identity: Default::default(),
            chain_id: chain_id(),
            genesis_time: BlockTime(GENESIS_TIME_MS),
            authorities: vec![city.public_key()],
            validators: vec![Validator {
                public_key: SigningKey::from_seed([100; 32]).public_key(),
                voting_power: 1,
            }],
            organizations: vec![],
        };
        let mut state = MemoryState::new();
        state.apply(&genesis_writes(&genesis).expect("valid genesis"));
        let mut world = World {
            state,
            height: 0,
            nonces: Default::default(),
            agency_tx: SigningKey::from_seed([10; 32]),
            agency_assert: Ed25519Key::from_bytes(&[11; 32]),
        };
        let agency_tx = world.agency_tx.clone();
        world.ok(
            &city,
            Call::Governance(GovernanceCall::RegisterOrganization(Organization {
                id: org("seoul.agency"),
                name: "Seoul citizen card agency".into(),
                keys: vec![agency_tx.public_key()],
                roles: vec![Role::Agency, Role::Issuer],
                active: true,
            })),
        );
        for name in ["CitizenCard", "LibraryMembership"] {
            world.ok(
                &city,
                Call::Identity(IdentityCall::RegisterSchema {
                    credential_type: name.into(),
                    schema: card::builtin_schema(name).expect("built in").into(),
                }),
            );
        }
        world.ok(
            &city,
            Call::Identity(IdentityCall::Accredit(AccreditationTerms {
                issuer: org("seoul.agency"),
                credential_types: vec!["CitizenCard".into()],
                valid_from: BlockTime(GENESIS_TIME_MS),
                valid_until: BlockTime(GENESIS_TIME_MS + 365 * 86_400_000),
                may_accredit: false,
            })),
        );
        let assert_key = simin_types::PublicKey(world.agency_assert.verifying_key().to_bytes());
        world.ok(
            &agency_tx,
            Call::Identity(IdentityCall::CreateDid {
                organization: org("seoul.agency"),
                verification_methods: vec![
                    VerificationMethod {
                        fragment: "key-1".into(),
                        public_key: assert_key,
                        relationships: vec![Relationship::AssertionMethod],
                    },
                    VerificationMethod {
                        fragment: "admin".into(),
                        public_key: agency_tx.public_key(),
                        relationships: vec![Relationship::CapabilityInvocation],
                    },
                ],
                services: vec![],
            }),
        );
        for (list, purpose) in [
            (0, simin_types::StatusPurpose::Revocation),
            (1, simin_types::StatusPurpose::Suspension),
        ] {
            world.ok(
                &agency_tx,
                Call::Identity(IdentityCall::CreateStatusList {
                    list,
                    purpose,
                    size_bits: 131_072,
                }),
            );
        }
        world
    }

    fn ok(&mut self, key: &SigningKey, call: Call) {
        let nonce = self.nonces.entry(key.public_key().0).or_insert(0);
        let tx = Tx {
            chain_id: chain_id(),
            signer: key.public_key(),
            nonce: *nonce,
            expiry_height: Height(10_000),
            call,
        }
        .sign(key);
        *nonce += 1;
        self.height += 1;
        let ctx = BlockContext {
            chain_id: chain_id(),
            height: Height(self.height),
            time: BlockTime(GENESIS_TIME_MS + self.height * 1_000),
            proposer: SigningKey::from_seed([100; 32]).public_key(),
        };
        let out = execute_block(&self.state, &ctx, &[tx]).expect("valid block");
        assert_eq!(
            out.receipts[0].outcome,
            TxOutcome::Success,
            "{:?}",
            out.receipts[0]
        );
        self.state.apply(&out.writes);
    }

    fn set_status(&mut self, list: u32, index: u32, value: bool) {
        let key = self.agency_tx.clone();
        self.ok(
            &key,
            Call::Identity(IdentityCall::SetStatus {
                list,
                updates: vec![StatusUpdate { index, value }],
            }),
        );
    }
}

fn holder_key() -> Ed25519Key {
    Ed25519Key::from_bytes(&[42; 32])
}

fn holder_did() -> String {
    did_key_from_ed25519(&holder_key().verifying_key())
}

fn citizen_subject(holder: &str) -> Value {
    json!({
        "id": holder,
        "name": "Kim Minji",
        "birthdate": "1990-05-01",
        "resident_district": "Mapo-gu",
        "photo_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "card_number": "SC-2026-000123",
        "age_over_14": true,
        "age_over_19": true,
        "age_over_65": false,
    })
}

fn status_entries(index: usize) -> Vec<BitstringStatusListEntry> {
    vec![
        BitstringStatusListEntry::new(
            None,
            StatusPurpose::Revocation,
            index,
            format!("{ISSUER}/status/0"),
        ),
        BitstringStatusListEntry::new(
            None,
            StatusPurpose::Suspension,
            index,
            format!("{ISSUER}/status/1"),
        ),
    ]
}

/// A CitizenCard request, issued a minute after genesis, valid a year.
fn request() -> IssueVc {
    IssueVc {
        credential: json!({
            "id": "urn:uuid:6f1c1c9e-3a57-4b4e-9d55-0e8f4b6a2c11",
            "type": ["VerifiableCredential", "CitizenCard"],
            "validUntil": at(365 * 86_400),
            "credentialSubject": citizen_subject(&holder_did()),
        }),
        issuer: ISSUER.into(),
        kid: KID.into(),
        valid_from: at(60),
        status: status_entries(4242),
    }
}

fn issue_with(world: &World, change: impl FnOnce(&mut IssueVc)) -> Value {
    let mut r = request();
    change(&mut r);
    issue_vc(&r, &world.agency_assert).expect("issued")
}

fn code<T: std::fmt::Debug>(result: Result<T, Rejection>) -> Result<(), &'static str> {
    result.map(|_| ()).map_err(|e| e.code())
}

/// Signs `presentation` as the holder of `key`, whose verification method is `vm`.
fn sign_vp(
    presentation: Value,
    key: &Ed25519Key,
    vm: &str,
    challenge: &str,
    domain: &str,
) -> Value {
    let options = ProofOptions {
        verification_method: vm.to_owned(),
        proof_purpose: "authentication".into(),
        created: Some(at(86_000)),
        challenge: Some(challenge.into()),
        domain: Some(domain.into()),
        ..ProofOptions::default()
    };
    di::create_proof_jcs(&presentation, &options, key).expect("signed")
}

fn presentation_of(credentials: Vec<Value>) -> Value {
    json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": holder_did(),
        "verifiableCredential": credentials,
    })
}

fn holder_vp(credentials: Vec<Value>, challenge: &str, domain: &str) -> Value {
    let key = holder_key();
    let vm = did_key_verification_method(&key.verifying_key());
    sign_vp(presentation_of(credentials), &key, &vm, challenge, domain)
}

/// Re-signs an edited credential with the issuer's key, so only the edit is judged.
fn resign(world: &World, mut credential: Value) -> Value {
    credential
        .as_object_mut()
        .expect("an object")
        .remove("proof");
    let options = ProofOptions {
        verification_method: KID.into(),
        proof_purpose: "assertionMethod".into(),
        created: Some(at(60)),
        ..ProofOptions::default()
    };
    di::create_proof_jcs(&credential, &options, &world.agency_assert).expect("signed")
}

#[test]
fn an_issued_credential_has_the_data_model_shape_and_verifies() {
    let world = World::new();
    let credential = issue_with(&world, |_| {});
    assert_eq!(
        credential["@context"],
        json!(["https://www.w3.org/ns/credentials/v2"])
    );
    assert_eq!(
        credential["type"],
        json!(["VerifiableCredential", "CitizenCard"])
    );
    assert_eq!(credential["issuer"], ISSUER);
    assert_eq!(credential["validFrom"], at(60));
    assert_eq!(
        credential["credentialStatus"][0]["statusPurpose"],
        "revocation"
    );
    assert_eq!(
        credential["credentialStatus"][1]["statusListCredential"],
        "did:simin:seoul.agency/status/1"
    );
    let proof = &credential["proof"];
    assert_eq!(proof["type"], "DataIntegrityProof");
    assert_eq!(proof["cryptosuite"], "eddsa-jcs-2022");
    assert_eq!(proof["proofPurpose"], "assertionMethod");
    assert_eq!(proof["verificationMethod"], KID);
    assert_eq!(proof["created"], at(60));

    let verified = verify_vc(&world.state, &credential, NOW).expect("accepted");
    assert_eq!(verified.credential_type, "CitizenCard");
    assert_eq!(verified.issuer, ISSUER);
    assert_eq!(verified.issuer_org, org("seoul.agency"));
    assert_eq!(verified.subject.as_deref(), Some(holder_did().as_str()));
    assert_eq!(verified.claims["age_over_19"], true);
    assert!(!verified.claims.contains_key("id"));
    assert_eq!(verified.status, status_entries(4242));
    assert_eq!(
        verified.id.as_deref(),
        Some("urn:uuid:6f1c1c9e-3a57-4b4e-9d55-0e8f4b6a2c11")
    );
    // Contexts appended after signing are allowed by Data Integrity.
    let mut appended = credential.clone();
    appended["@context"]
        .as_array_mut()
        .expect("an array")
        .push(json!("https://www.w3.org/ns/credentials/examples/v2"));
    assert_eq!(code(verify_vc(&world.state, &appended, NOW)), Ok(()));
    // A credential without a subject id verifies on its own.
    let anonymous = issue_with(&world, |r| {
        r.credential["credentialSubject"]
            .as_object_mut()
            .expect("object")
            .remove("id");
    });
    let verified = verify_vc(&world.state, &anonymous, NOW).expect("accepted");
    assert_eq!(verified.subject, None);
}

#[test]
fn suspension_is_lifted_and_revocation_is_final() {
    let mut world = World::new();
    let credential = issue_with(&world, |_| {});
    world.set_status(1, 4241, true);
    assert_eq!(code(verify_vc(&world.state, &credential, NOW)), Ok(()));
    world.set_status(1, 4242, true);
    assert_eq!(
        code(verify_vc(&world.state, &credential, NOW)),
        Err("suspended")
    );
    world.set_status(1, 4242, false);
    assert_eq!(code(verify_vc(&world.state, &credential, NOW)), Ok(()));
    world.set_status(0, 4242, true);
    assert_eq!(
        code(verify_vc(&world.state, &credential, NOW)),
        Err("revoked")
    );
}

#[test]
fn each_credential_refusal_names_its_reason() {
    let world = World::new();
    let check = |credential: &Value| code(verify_vc(&world.state, credential, NOW));
    let credential = issue_with(&world, |_| {});

    // A claim changed after signing.
    let mut tampered = credential.clone();
    tampered["credentialSubject"]["age_over_19"] = json!(false);
    assert_eq!(check(&tampered), Err("bad_signature"));
    // validUntil pushed out after signing.
    let mut extended = credential.clone();
    extended["validUntil"] = json!(at(10 * 365 * 86_400));
    assert_eq!(check(&extended), Err("bad_signature"));
    // A proof value that is not the issuer's signature.
    let mut forged = credential.clone();
    let other = di::create_proof_jcs(
        &json!({"@context": ["https://www.w3.org/ns/credentials/v2"]}),
        &ProofOptions {
            verification_method: KID.into(),
            proof_purpose: "assertionMethod".into(),
            ..ProofOptions::default()
        },
        &world.agency_assert,
    )
    .expect("signed");
    forged["proof"]["proofValue"] = other["proof"]["proofValue"].clone();
    assert_eq!(check(&forged), Err("bad_signature"));
    // Signed by another key under the issuer's kid.
    let mut r = request();
    r.credential["credentialSubject"]["card_number"] = json!("SC-2026-999999");
    let impostor = issue_vc(&r, &Ed25519Key::from_bytes(&[99; 32])).expect("issued");
    assert_eq!(check(&impostor), Err("bad_signature"));
    // Signed with a key that is not an assertionMethod of the DID.
    let by_admin = issue_with(&world, |r| r.kid = format!("{ISSUER}#admin"));
    assert_eq!(check(&by_admin), Err("untrusted_issuer"));
    // A DID that does not exist.
    let unknown_issuer = issue_with(&world, |r| {
        r.issuer = "did:simin:nobody".into();
        r.kid = "did:simin:nobody#key-1".into();
        r.status = vec![BitstringStatusListEntry::new(
            None,
            StatusPurpose::Revocation,
            1,
            "did:simin:nobody/status/0".into(),
        )];
    });
    assert_eq!(check(&unknown_issuer), Err("untrusted_issuer"));

    // Validity period.
    let expired = issue_with(&world, |r| {
        r.credential["validUntil"] = json!(at(3_600));
    });
    assert_eq!(check(&expired), Err("expired"));
    let future = issue_with(&world, |r| r.valid_from = at(3 * 86_400));
    assert_eq!(check(&future), Err("not_yet_valid"));

    // Trust: a registered type the issuer is not accredited for, and a credential
    // dated before the accreditation began.
    let library = issue_with(&world, |r| {
        r.credential["type"] = json!(["VerifiableCredential", "LibraryMembership"]);
        r.credential["credentialSubject"] = json!({"id": holder_did(), "library_member": true});
    });
    assert_eq!(check(&library), Err("untrusted_issuer"));
    let early = issue_with(&world, |r| {
        r.valid_from = xsd_datetime(BlockTime(GENESIS_TIME_MS - 86_400_000));
    });
    assert_eq!(check(&early), Err("untrusted_issuer"));

    // Types and schemas.
    let unknown = issue_with(&world, |r| {
        r.credential["type"] = json!(["VerifiableCredential", "Diploma"]);
    });
    assert_eq!(check(&unknown), Err("unknown_type"));
    let bad_claim = issue_with(&world, |r| {
        r.credential["credentialSubject"]["age_over_19"] = json!("yes");
    });
    assert_eq!(check(&bad_claim), Err("schema_violation"));
    // Not selectively disclosed: a missing required claim is refused.
    let partial = issue_with(&world, |r| {
        r.credential["credentialSubject"]
            .as_object_mut()
            .expect("object")
            .remove("card_number");
    });
    assert_eq!(check(&partial), Err("schema_violation"));

    // Status that cannot be checked is never taken as "not revoked".
    let missing_list = issue_with(&world, |r| {
        r.status[0].status_list_credential = format!("{ISSUER}/status/7");
    });
    assert_eq!(check(&missing_list), Err("bad_status"));
    let crossed = issue_with(&world, |r| {
        r.status[0].status_list_credential = format!("{ISSUER}/status/1");
    });
    assert_eq!(check(&crossed), Err("bad_status"));
    let mut unrevocable = credential.clone();
    unrevocable
        .as_object_mut()
        .expect("object")
        .remove("credentialStatus");
    assert_eq!(check(&resign(&world, unrevocable)), Err("bad_status"));

    // Shape.
    for member in [
        "@context",
        "type",
        "issuer",
        "credentialSubject",
        "proof",
        "validFrom",
    ] {
        let mut broken = credential.clone();
        broken.as_object_mut().expect("object").remove(member);
        assert_eq!(check(&broken), Err("malformed"), "without {member}");
    }
    for (member, value) in [
        ("@context", json!("https://www.w3.org/ns/credentials/v2")),
        (
            "@context",
            json!(["https://www.w3.org/2018/credentials/v1"]),
        ),
        ("type", json!("VerifiableCredential")),
        ("type", json!(["VerifiableCredential"])),
        (
            "type",
            json!(["VerifiableCredential", "CitizenCard", "Residency"]),
        ),
        ("issuer", json!(10)),
        ("credentialSubject", json!([])),
        ("validFrom", json!("yesterday")),
        ("proof", json!([])),
    ] {
        let mut broken = credential.clone();
        broken[member] = value.clone();
        assert_eq!(check(&broken), Err("malformed"), "{member}: {value}");
    }
    let mut wrong_purpose = credential.clone();
    wrong_purpose
        .as_object_mut()
        .expect("object")
        .remove("proof");
    let wrong_purpose = di::create_proof_jcs(
        &wrong_purpose,
        &ProofOptions {
            verification_method: KID.into(),
            proof_purpose: "authentication".into(),
            ..ProofOptions::default()
        },
        &world.agency_assert,
    )
    .expect("signed");
    assert_eq!(check(&wrong_purpose), Err("malformed"));
}

#[test]
fn credentials_outlive_a_key_rotation_but_not_a_deactivation() {
    let mut world = World::new();
    let before = issue_with(&world, |r| r.valid_from = at(6));
    let admin = world.agency_tx.clone();
    let second = Ed25519Key::from_bytes(&[12; 32]);
    world.ok(
        &admin,
        Call::Identity(IdentityCall::RotateKey {
            organization: org("seoul.agency"),
            fragment: "key-1".into(),
            public_key: simin_types::PublicKey(second.verifying_key().to_bytes()),
        }),
    );
    let rotated_at = world.height;
    // The key is the one listed at validFrom.
    assert_eq!(code(verify_vc(&world.state, &before, NOW)), Ok(()));
    let mut r = request();
    r.valid_from = at(rotated_at + 10);
    let fresh = issue_vc(&r, &second).expect("issued");
    assert_eq!(code(verify_vc(&world.state, &fresh, NOW)), Ok(()));
    let stale = issue_vc(&r, &world.agency_assert).expect("issued");
    assert_eq!(
        code(verify_vc(&world.state, &stale, NOW)),
        Err("bad_signature")
    );
    let mut backdated = request();
    backdated.valid_from = at(6);
    let backdated = issue_vc(&backdated, &second).expect("issued");
    assert_eq!(
        code(verify_vc(&world.state, &backdated, NOW)),
        Err("bad_signature")
    );
    world.ok(
        &admin,
        Call::Identity(IdentityCall::DeactivateDid {
            organization: org("seoul.agency"),
        }),
    );
    for credential in [&before, &fresh] {
        assert_eq!(
            code(verify_vc(&world.state, credential, NOW)),
            Err("untrusted_issuer")
        );
    }
}

#[test]
fn a_holder_presents_credentials_about_itself() {
    let world = World::new();
    let credential = issue_with(&world, |_| {});
    let vp = holder_vp(vec![credential.clone()], CHALLENGE, DOMAIN);
    let VerifiedVp::DataIntegrity {
        holder,
        credentials,
    } = verify_vp(&world.state, &vp, CHALLENGE, DOMAIN, NOW).expect("accepted")
    else {
        panic!("a Data Integrity presentation");
    };
    assert_eq!(holder, holder_did());
    assert_eq!(credentials.len(), 1);
    assert_eq!(credentials[0].claims["resident_district"], "Mapo-gu");

    // A did:jwk holder (Ed25519), with one credential given as an object, no `holder`.
    let jwk_key = Ed25519Key::from_bytes(&[43; 32]);
    let jwk_did = did_jwk(&Jwk::from_ed25519(&jwk_key.verifying_key()));
    let about_jwk = issue_with(&world, |r| {
        r.credential["credentialSubject"]["id"] = json!(jwk_did);
    });
    let vp = sign_vp(
        json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": "VerifiablePresentation",
            "verifiableCredential": about_jwk,
        }),
        &jwk_key,
        &format!("{jwk_did}#0"),
        CHALLENGE,
        DOMAIN,
    );
    match verify_vp(&world.state, &vp, CHALLENGE, DOMAIN, NOW) {
        Ok(VerifiedVp::DataIntegrity { holder, .. }) => assert_eq!(holder, jwk_did),
        other => panic!("{other:?}"),
    }

    // DID authentication alone: a presentation without credentials.
    let empty = holder_vp(vec![], CHALLENGE, DOMAIN);
    assert_eq!(
        code(verify_vp(&world.state, &empty, CHALLENGE, DOMAIN, NOW)),
        Ok(())
    );
}

#[test]
fn each_presentation_refusal_names_its_reason() {
    let mut world = World::new();
    let credential = issue_with(&world, |_| {});
    let vp = holder_vp(vec![credential.clone()], CHALLENGE, DOMAIN);
    let check =
        |world: &World, vp: &Value| code(verify_vp(&world.state, vp, CHALLENGE, DOMAIN, NOW));

    assert_eq!(
        code(verify_vp(&world.state, &vp, "another", DOMAIN, NOW)),
        Err("wrong_challenge")
    );
    assert_eq!(
        code(verify_vp(
            &world.state,
            &vp,
            CHALLENGE,
            "https://evil.example",
            NOW
        )),
        Err("wrong_domain")
    );
    let mut no_challenge = presentation_of(vec![credential.clone()]);
    let key = holder_key();
    let vm = did_key_verification_method(&key.verifying_key());
    no_challenge = di::create_proof_jcs(
        &no_challenge,
        &ProofOptions {
            verification_method: vm.clone(),
            proof_purpose: "authentication".into(),
            domain: Some(DOMAIN.into()),
            ..ProofOptions::default()
        },
        &key,
    )
    .expect("signed");
    assert_eq!(check(&world, &no_challenge), Err("wrong_challenge"));

    // A credential changed inside a signed presentation breaks the holder's proof.
    let mut tampered = vp.clone();
    tampered["verifiableCredential"][0]["credentialSubject"]["age_over_19"] = json!(false);
    assert_eq!(check(&world, &tampered), Err("bad_signature"));
    // Signed by someone else than the stated holder.
    let thief = Ed25519Key::from_bytes(&[77; 32]);
    let stolen = sign_vp(
        presentation_of(vec![credential.clone()]),
        &thief,
        &did_key_verification_method(&thief.verifying_key()),
        CHALLENGE,
        DOMAIN,
    );
    assert_eq!(check(&world, &stolen), Err("holder_mismatch"));
    // ... and without a `holder`, the credential is still about someone else.
    let mut unattributed = presentation_of(vec![credential.clone()]);
    unattributed
        .as_object_mut()
        .expect("object")
        .remove("holder");
    let unattributed = sign_vp(
        unattributed,
        &thief,
        &did_key_verification_method(&thief.verifying_key()),
        CHALLENGE,
        DOMAIN,
    );
    assert_eq!(check(&world, &unattributed), Err("holder_mismatch"));
    // A credential that names no subject cannot be bound to the holder.
    let anonymous = issue_with(&world, |r| {
        r.credential["credentialSubject"]
            .as_object_mut()
            .expect("object")
            .remove("id");
    });
    assert_eq!(
        check(&world, &holder_vp(vec![anonymous], CHALLENGE, DOMAIN)),
        Err("holder_mismatch")
    );
    // A proof made for another purpose.
    let asserted = di::create_proof_jcs(
        &presentation_of(vec![credential.clone()]),
        &ProofOptions {
            verification_method: vm,
            proof_purpose: "assertionMethod".into(),
            challenge: Some(CHALLENGE.into()),
            domain: Some(DOMAIN.into()),
            ..ProofOptions::default()
        },
        &key,
    )
    .expect("signed");
    assert_eq!(check(&world, &asserted), Err("malformed"));
    // A holder key that cannot be resolved offline.
    let mut web = vp.clone();
    web["proof"]["verificationMethod"] = json!("did:web:example.com#key-1");
    assert_eq!(check(&world, &web), Err("malformed"));
    // Too many credentials.
    let many = holder_vp(vec![credential.clone(); 9], CHALLENGE, DOMAIN);
    assert_eq!(check(&world, &many), Err("malformed"));
    // An embedded credential's own refusal is the presentation's.
    let expired = issue_with(&world, |r| {
        r.credential["validUntil"] = json!(at(3_600));
    });
    assert_eq!(
        check(&world, &holder_vp(vec![expired], CHALLENGE, DOMAIN)),
        Err("expired")
    );
    world.set_status(0, 4242, true);
    assert_eq!(check(&world, &vp), Err("revoked"));
}

fn sd_jwt_card(world: &World, holder: &Ed25519Key) -> String {
    let mut claims = citizen_subject("unused");
    let claims: Map<String, Value> = {
        let map = claims.as_object_mut().expect("object");
        map.remove("id");
        map.clone()
    };
    let request = CardIssue {
        vct: "CitizenCard".into(),
        iss: ISSUER.into(),
        kid: KID.into(),
        claims,
        holder_jwk: Jwk::from_ed25519(&holder.verifying_key()),
        iat: GENESIS_TIME_MS / 1000 + 60,
        exp: GENESIS_TIME_MS / 1000 + 365 * 86_400,
        status: status_entries(17),
    };
    let mut n = 0u32;
    card::issue_sd_jwt_vc(
        &request,
        &JwsSigner::Ed25519(world.agency_assert.clone()),
        &mut || {
            n += 1;
            format!("salt-{n:04}-c2FsdHNhbHRzYWx0")
        },
    )
    .expect("issued")
}

fn enveloped(sd_jwt: &str) -> Value {
    json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": "EnvelopedVerifiablePresentation",
        "id": format!("{SD_JWT_DATA_URL_PREFIX}{sd_jwt}"),
    })
}

#[test]
fn an_enveloped_sd_jwt_presentation_is_checked_by_the_card_verifier() {
    let mut world = World::new();
    let holder = holder_key();
    let issued = sd_jwt_card(&world, &holder);
    let shown = sd_jwt::present(
        &issued,
        &[vec![PathElement::Name("age_over_19".into())]],
        Some(&KeyBindingRequest {
            signer: &JwsSigner::Ed25519(holder.clone()),
            audience: DOMAIN,
            nonce: CHALLENGE,
            issued_at: NOW - 5,
        }),
    )
    .expect("presented");
    let vp = enveloped(&shown);
    match verify_vp(&world.state, &vp, CHALLENGE, DOMAIN, NOW) {
        Ok(VerifiedVp::SdJwt(verified)) => {
            assert_eq!(verified.credential_type, "CitizenCard");
            assert_eq!(Value::Object(verified.claims), json!({"age_over_19": true}));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        code(verify_vp(&world.state, &vp, "another", DOMAIN, NOW)),
        Err("wrong_nonce")
    );
    assert_eq!(
        code(verify_vp(
            &world.state,
            &vp,
            CHALLENGE,
            "https://evil.example",
            NOW
        )),
        Err("wrong_audience")
    );
    let mut other_media = vp.clone();
    other_media["id"] = json!(format!("data:application/vp+jwt,{shown}"));
    assert_eq!(
        code(verify_vp(
            &world.state,
            &other_media,
            CHALLENGE,
            DOMAIN,
            NOW
        )),
        Err("malformed")
    );
    world.set_status(1, 17, true);
    assert_eq!(
        code(verify_vp(&world.state, &vp, CHALLENGE, DOMAIN, NOW)),
        Err("suspended")
    );
}

#[test]
fn the_issuer_refuses_what_no_verifier_would_accept() {
    let key = Ed25519Key::from_bytes(&[11; 32]);
    let issue = |change: &dyn Fn(&mut IssueVc)| {
        let mut r = request();
        change(&mut r);
        issue_vc(&r, &key)
    };
    assert!(matches!(
        issue(&|r| r.issuer = "did:web:example.com".into()),
        Err(VcError::InvalidIssuer(_))
    ));
    assert!(matches!(
        issue(&|r| r.kid = "did:simin:other#key-1".into()),
        Err(VcError::InvalidKid { .. })
    ));
    assert!(matches!(
        issue(&|r| r.credential["issuer"] = json!("did:simin:other")),
        Err(VcError::InvalidIssuer(_))
    ));
    assert!(issue(&|r| r.credential["issuer"] = json!({"id": ISSUER, "name": "Seoul"})).is_ok());
    assert!(matches!(
        issue(&|r| {
            r.credential
                .as_object_mut()
                .expect("object")
                .remove("validUntil");
        }),
        Err(VcError::InvalidValidity { .. })
    ));
    assert!(matches!(
        issue(&|r| r.credential["validUntil"] = json!(at(30))),
        Err(VcError::InvalidValidity { .. })
    ));
    assert!(matches!(
        issue(&|r| r.valid_from = "2026-01-01".into()),
        Err(VcError::Malformed {
            field: "validFrom",
            ..
        })
    ));
    assert!(matches!(
        issue(&|r| r.credential["validFrom"] = json!(at(0))),
        Err(VcError::Malformed {
            field: "validFrom",
            ..
        })
    ));
    for member in ["proof", "credentialStatus"] {
        assert!(matches!(
            issue(&|r| r.credential[member] = json!({})),
            Err(VcError::Malformed { .. })
        ));
    }
    assert!(matches!(
        issue(&|r| r.status.clear()),
        Err(VcError::StatusEntryCount(0))
    ));
    assert!(matches!(
        issue(&|r| r.status[0].status_list_credential = "did:simin:other/status/0".into()),
        Err(VcError::ForeignStatusList { .. })
    ));
    assert!(matches!(
        issue(&|r| r.credential["credentialSubject"]["id"] = json!("did:web:citizen.example")),
        Err(VcError::Malformed {
            field: "credentialSubject.id",
            ..
        })
    ));
    assert!(matches!(
        issue(&|r| r.credential["type"] = json!(["CitizenCard"])),
        Err(VcError::Malformed { .. })
    ));
    assert!(matches!(
        issue(&|r| r.credential["@context"] = json!(["https://example.com/ctx"])),
        Err(VcError::Malformed { .. })
    ));
}

#[test]
fn nesting_and_size_are_bounded() {
    let mut deep = json!(1);
    for _ in 0..20 {
        deep = json!([deep]);
    }
    assert!(!within_bounds(&deep, 16, 1_000));
    assert!(within_bounds(&deep, 20, 1_000));
    let wide = Value::Array(vec![json!(0); 10_000]);
    assert!(!within_bounds(&wide, 16, 8_192));
    let world = World::new();
    let mut credential = issue_with(&world, |_| {});
    credential["credentialSubject"]["name"] = deep;
    assert_eq!(
        code(verify_vc(&world.state, &credential, NOW)),
        Err("malformed")
    );
}
