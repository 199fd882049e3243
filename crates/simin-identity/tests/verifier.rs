//! The citizen-card verifier against real ledger state: every accepted path and every
//! named refusal (expired, revoked, suspended, untrusted issuer, tampered disclosure,
//! wrong nonce, wrong audience, unknown type, schema violation).

use serde_json::{json, Map, Value};
use simin_identity::card::{self, CardIssue};
use simin_identity::jose::{Jwk, JwsSigner};
use simin_identity::sd_jwt::{self, KeyBindingRequest, PathElement};
use simin_identity::status_list::{BitstringStatusListEntry, StatusPurpose};
use simin_identity::verifier::{verify_presentation, Rejection, VerifyRequest};
use simin_ledger::{execute_block, genesis_writes, BlockContext, MemoryState};
use simin_types::{
    AccreditationTerms, BlockTime, Call, ChainId, Genesis, GovernanceCall, Height, IdentityCall,
    OrgId, Organization, Relationship, Role, SigningKey, StatusUpdate, Tx, TxOutcome, Validator,
    VerificationMethod,
};

const GENESIS_TIME_MS: u64 = 1_760_000_000_000;
/// "Now" for the verifier: a day after genesis.
const NOW: i64 = 1_760_086_400;
const NONCE: &str = "n-0S6_WzA2Mj";
const AUDIENCE: &str = "https://library.mapo.go.kr";

fn chain_id() -> ChainId {
    ChainId::new("simin-test-1").expect("valid")
}

fn org(id: &str) -> OrgId {
    OrgId::new(id).expect("valid")
}

/// A ledger in memory with the city, an accredited agency and its DID and lists.
struct World {
    state: MemoryState,
    height: u64,
    nonces: std::collections::BTreeMap<[u8; 32], u64>,
    city: SigningKey,
    agency_tx: SigningKey,
    agency_assert: ed25519_dalek::SigningKey,
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
            city,
            agency_tx: SigningKey::from_seed([10; 32]),
            agency_assert: ed25519_dalek::SigningKey::from_bytes(&[11; 32]),
        };
        let agency_tx = world.agency_tx.clone();
        world.ok(
            &world.city.clone(),
            Call::Governance(GovernanceCall::RegisterOrganization(Organization {
                id: org("seoul.agency"),
                name: "Seoul citizen card agency".into(),
                keys: vec![agency_tx.public_key()],
                roles: vec![Role::Agency, Role::Issuer],
                active: true,
            })),
        );
        for (name, schema) in [
            ("CitizenCard", card::builtin_schema("CitizenCard")),
            (
                "LibraryMembership",
                card::builtin_schema("LibraryMembership"),
            ),
        ] {
            world.ok(
                &world.city.clone(),
                Call::Identity(IdentityCall::RegisterSchema {
                    credential_type: name.into(),
                    schema: schema.expect("built in").into(),
                }),
            );
        }
        world.ok(
            &world.city.clone(),
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

struct Wallet {
    key: ed25519_dalek::SigningKey,
}

impl Wallet {
    fn new() -> Wallet {
        Wallet {
            key: ed25519_dalek::SigningKey::from_bytes(&[42; 32]),
        }
    }

    fn jwk(&self) -> Jwk {
        Jwk::from_ed25519(&self.key.verifying_key())
    }
}

fn citizen_claims() -> Map<String, Value> {
    json!({
        "name": "Kim Minji",
        "birthdate": "1990-05-01",
        "resident_district": "Mapo-gu",
        "photo_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "card_number": "SC-2026-000123",
        "age_over_14": true,
        "age_over_19": true,
        "age_over_65": false,
    })
    .as_object()
    .expect("an object")
    .clone()
}

fn status_entries(index: usize) -> Vec<BitstringStatusListEntry> {
    vec![
        BitstringStatusListEntry::new(
            None,
            StatusPurpose::Revocation,
            index,
            "did:simin:seoul.agency/status/0".into(),
        ),
        BitstringStatusListEntry::new(
            None,
            StatusPurpose::Suspension,
            index,
            "did:simin:seoul.agency/status/1".into(),
        ),
    ]
}

fn issue_with(world: &World, wallet: &Wallet, change: impl FnOnce(&mut CardIssue)) -> String {
    let mut request = CardIssue {
        vct: "CitizenCard".into(),
        iss: "did:simin:seoul.agency".into(),
        kid: "did:simin:seoul.agency#key-1".into(),
        claims: citizen_claims(),
        holder_jwk: wallet.jwk(),
        iat: GENESIS_TIME_MS / 1000 + 60,
        exp: GENESIS_TIME_MS / 1000 + 365 * 86_400,
        status: status_entries(4242),
    };
    change(&mut request);
    let signer = JwsSigner::Ed25519(world.agency_assert.clone());
    let mut counter = 0u32;
    card::issue_sd_jwt_vc(&request, &signer, &mut || {
        counter += 1;
        format!("salt-{counter:04}-c2FsdHNhbHRzYWx0")
    })
    .expect("issued")
}

fn present(wallet: &Wallet, issued: &str, claims: &[&str], nonce: &str, aud: &str) -> String {
    let paths: Vec<Vec<PathElement>> = claims
        .iter()
        .map(|c| vec![PathElement::Name((*c).to_owned())])
        .collect();
    let signer = JwsSigner::Ed25519(wallet.key.clone());
    sd_jwt::present(
        issued,
        &paths,
        Some(&KeyBindingRequest {
            signer: &signer,
            audience: aud,
            nonce,
            issued_at: NOW - 5,
        }),
    )
    .expect("presented")
}

fn verify(world: &World, presentation: &str) -> Result<Map<String, Value>, Rejection> {
    verify_presentation(
        &world.state,
        &VerifyRequest {
            presentation,
            nonce: NONCE,
            audience: AUDIENCE,
            now: NOW,
            accepted_types: &[],
        },
    )
    .map(|v| v.claims)
}

#[test]
fn a_citizen_proves_age_and_district_and_nothing_else() {
    let world = World::new();
    let wallet = Wallet::new();
    let issued = issue_with(&world, &wallet, |_| {});
    let shown = present(
        &wallet,
        &issued,
        &["age_over_19", "resident_district"],
        NONCE,
        AUDIENCE,
    );
    let verified = verify_presentation(
        &world.state,
        &VerifyRequest {
            presentation: &shown,
            nonce: NONCE,
            audience: AUDIENCE,
            now: NOW,
            accepted_types: &["CitizenCard"],
        },
    )
    .expect("accepted");
    assert_eq!(
        Value::Object(verified.claims),
        json!({"age_over_19": true, "resident_district": "Mapo-gu"})
    );
    assert_eq!(verified.credential_type, "CitizenCard");
    assert_eq!(verified.issuer, "did:simin:seoul.agency");
    assert_eq!(verified.holder_thumbprint, wallet.jwk().thumbprint());
    // A verifier that accepts only library cards refuses it.
    let only_library = verify_presentation(
        &world.state,
        &VerifyRequest {
            presentation: &shown,
            nonce: NONCE,
            audience: AUDIENCE,
            now: NOW,
            accepted_types: &["LibraryMembership"],
        },
    );
    assert!(matches!(only_library, Err(Rejection::UnknownType(_))));
}

#[test]
fn suspension_is_lifted_and_revocation_is_final() {
    let mut world = World::new();
    let wallet = Wallet::new();
    let issued = issue_with(&world, &wallet, |_| {});
    let shown = present(&wallet, &issued, &["age_over_19"], NONCE, AUDIENCE);
    assert!(verify(&world, &shown).is_ok());
    // Another card's bit says nothing about this one.
    world.set_status(1, 4241, true);
    assert!(verify(&world, &shown).is_ok());
    world.set_status(1, 4242, true);
    assert_eq!(
        verify(&world, &shown).map_err(|e| e.code()),
        Err("suspended")
    );
    world.set_status(1, 4242, false);
    assert!(verify(&world, &shown).is_ok());
    world.set_status(0, 4242, true);
    assert_eq!(verify(&world, &shown).map_err(|e| e.code()), Err("revoked"));
}

#[test]
fn each_refusal_names_its_reason() {
    let world = World::new();
    let wallet = Wallet::new();
    let issued = issue_with(&world, &wallet, |_| {});
    let code = |presentation: &str| verify(&world, presentation).map_err(|e| e.code());

    assert_eq!(
        code(&present(
            &wallet,
            &issued,
            &["name"],
            "other-nonce",
            AUDIENCE
        )),
        Err("wrong_nonce")
    );
    assert_eq!(
        code(&present(
            &wallet,
            &issued,
            &["name"],
            NONCE,
            "https://evil.example"
        )),
        Err("wrong_audience")
    );
    // Without a key binding JWT.
    let bare = sd_jwt::present(&issued, &[vec![PathElement::Name("name".into())]], None)
        .expect("presented");
    assert_eq!(code(&bare), Err("key_binding_missing"));

    // A disclosure edited after issuance: its digest is nowhere in the signed payload.
    let shown = present(&wallet, &issued, &["age_over_19"], NONCE, AUDIENCE);
    let parts: Vec<&str> = shown.split('~').collect();
    let forged = sd_jwt::Disclosure::new(
        "salt-0007-c2FsdHNhbHRzYWx0",
        Some("age_over_19"),
        &json!(false),
        sd_jwt::JsonStyle::Compact,
    );
    let mut tampered = parts.clone();
    tampered[1] = forged.encoded();
    let tampered = tampered.join("~");
    assert_eq!(code(&tampered), Err("tampered_disclosure"));
    // Replacing the payload breaks the issuer's signature.
    let (jwt, rest) = shown.split_once('~').expect("has disclosures");
    let mut jws: Vec<String> = jwt.split('.').map(str::to_owned).collect();
    let mut payload: Value = serde_json::from_slice(
        &simin_identity::jose::b64url_decode(&jws[1], "payload").expect("base64url"),
    )
    .expect("json");
    payload["exp"] = json!(NOW + 10 * 365 * 86_400);
    jws[1] = simin_identity::jose::b64url_encode(payload.to_string().as_bytes());
    assert_eq!(
        code(&format!("{}~{rest}", jws.join("."))),
        Err("bad_signature")
    );

    // Expired.
    let old = issue_with(&world, &wallet, |r| r.exp = (NOW - 3600) as u64);
    assert_eq!(
        code(&present(&wallet, &old, &["name"], NONCE, AUDIENCE)),
        Err("expired")
    );
    // A type without a registered schema.
    let unknown = issue_with(&world, &wallet, |r| r.vct = "Diploma".into());
    assert_eq!(
        code(&present(&wallet, &unknown, &["name"], NONCE, AUDIENCE)),
        Err("unknown_type")
    );
    // A registered type the issuer is not accredited for.
    let library = issue_with(&world, &wallet, |r| {
        r.vct = "LibraryMembership".into();
        r.claims = json!({"library_member": true})
            .as_object()
            .expect("obj")
            .clone();
    });
    assert_eq!(
        code(&present(
            &wallet,
            &library,
            &["library_member"],
            NONCE,
            AUDIENCE
        )),
        Err("untrusted_issuer")
    );
    // Issued before the accreditation began.
    let early = issue_with(&world, &wallet, |r| r.iat = GENESIS_TIME_MS / 1000 - 86_400);
    assert_eq!(
        code(&present(&wallet, &early, &["name"], NONCE, AUDIENCE)),
        Err("untrusted_issuer")
    );
    // Signed by a key that is not an assertionMethod of the issuer's DID.
    let forged_key = ed25519_dalek::SigningKey::from_bytes(&[99; 32]);
    let request = CardIssue {
        vct: "CitizenCard".into(),
        iss: "did:simin:seoul.agency".into(),
        kid: "did:simin:seoul.agency#admin".into(),
        claims: citizen_claims(),
        holder_jwk: wallet.jwk(),
        iat: GENESIS_TIME_MS / 1000 + 60,
        exp: GENESIS_TIME_MS / 1000 + 365 * 86_400,
        status: status_entries(1),
    };
    let mut n = 0;
    let by_admin = card::issue_sd_jwt_vc(&request, &JwsSigner::Ed25519(forged_key), &mut || {
        n += 1;
        format!("salt-{n:04}-c2FsdHNhbHRzYWx0")
    })
    .expect("issued");
    assert_eq!(
        code(&present(&wallet, &by_admin, &["name"], NONCE, AUDIENCE)),
        Err("untrusted_issuer")
    );
    // A disclosed claim that breaks the schema.
    let bad_claims = issue_with(&world, &wallet, |r| {
        r.claims.insert("age_over_19".into(), json!("yes"));
    });
    let result = verify(
        &world,
        &present(&wallet, &bad_claims, &["age_over_19"], NONCE, AUDIENCE),
    );
    assert_eq!(result.map_err(|e| e.code()), Err("schema_violation"));
    // Status entries pointing at a list that does not exist, or at a list of the
    // other purpose, cannot be checked: refused, never taken as "not revoked".
    let missing = issue_with(&world, &wallet, |r| {
        r.status[0].status_list_credential = "did:simin:seoul.agency/status/7".into();
    });
    assert_eq!(
        code(&present(&wallet, &missing, &["name"], NONCE, AUDIENCE)),
        Err("bad_status")
    );
    // Signed by the real issuer key but without status: the issuer library refuses to
    // make one, so it is made with the bare SD-JWT issuer.
    let mut claims = citizen_claims();
    claims.insert("iss".into(), json!("did:simin:seoul.agency"));
    claims.insert("vct".into(), json!("CitizenCard"));
    claims.insert("iat".into(), json!(GENESIS_TIME_MS / 1000 + 60));
    claims.insert("exp".into(), json!(GENESIS_TIME_MS / 1000 + 365 * 86_400));
    let policy = sd_jwt::SdPolicy::plain().member("name", sd_jwt::SdPolicy::sd());
    let header = json!({"typ": "dc+sd-jwt", "kid": "did:simin:seoul.agency#key-1"});
    let holder = wallet.jwk();
    let mut n = 0;
    let unrevocable = sd_jwt::issue(
        &sd_jwt::IssueRequest {
            claims: &claims,
            policy: &policy,
            header: header.as_object().expect("obj"),
            holder_key: Some(&holder),
            style: sd_jwt::JsonStyle::Compact,
        },
        &JwsSigner::Ed25519(world.agency_assert.clone()),
        &mut || {
            n += 1;
            format!("salt-{n:04}-c2FsdHNhbHRzYWx0")
        },
    )
    .expect("issued")
    .sd_jwt;
    assert_eq!(
        code(&present(&wallet, &unrevocable, &["name"], NONCE, AUDIENCE)),
        Err("bad_status")
    );
    let crossed = issue_with(&world, &wallet, |r| {
        r.status[0].status_list_credential = "did:simin:seoul.agency/status/1".into();
    });
    assert_eq!(
        code(&present(&wallet, &crossed, &["name"], NONCE, AUDIENCE)),
        Err("bad_status")
    );
}

#[test]
fn credentials_outlive_a_key_rotation_but_not_a_deactivation() {
    let mut world = World::new();
    let wallet = Wallet::new();
    let second = ed25519_dalek::SigningKey::from_bytes(&[12; 32]);
    let at = |seconds: u64| GENESIS_TIME_MS / 1000 + seconds;
    let issue_by = |world: &World, key: &ed25519_dalek::SigningKey, iat: u64| {
        let request = CardIssue {
            vct: "CitizenCard".into(),
            iss: "did:simin:seoul.agency".into(),
            kid: "did:simin:seoul.agency#key-1".into(),
            claims: citizen_claims(),
            holder_jwk: wallet.jwk(),
            iat,
            exp: at(365 * 86_400),
            status: status_entries(9),
        };
        let _ = world;
        let mut n = 0;
        card::issue_sd_jwt_vc(&request, &JwsSigner::Ed25519(key.clone()), &mut || {
            n += 1;
            format!("salt-{n:04}-c2FsdHNhbHRzYWx0")
        })
        .expect("issued")
    };
    // The DID was created at block 5 (genesis + 5 s); the card is issued at + 6 s.
    let before = issue_by(&world, &world.agency_assert, at(6));
    let before = present(&wallet, &before, &["name"], NONCE, AUDIENCE);
    assert!(verify(&world, &before).is_ok());

    let rotated_in_block = world.height + 1;
    let admin = world.agency_tx.clone();
    world.ok(
        &admin,
        Call::Identity(IdentityCall::RotateKey {
            organization: org("seoul.agency"),
            fragment: "key-1".into(),
            public_key: simin_types::PublicKey(second.verifying_key().to_bytes()),
        }),
    );
    let rotated_at = rotated_in_block; // seconds after genesis
                                       // Issued before the rotation: still valid.
    assert!(verify(&world, &before).is_ok());
    // The old key after the rotation: key-1 is the new key by then, so the old key's
    // signature does not verify.
    let stale = issue_by(&world, &world.agency_assert, at(rotated_at + 10));
    assert_eq!(
        verify(
            &world,
            &present(&wallet, &stale, &["name"], NONCE, AUDIENCE)
        )
        .map_err(|e| e.code()),
        Err("bad_signature")
    );
    // The new key: valid from the rotation on, not backdated before it.
    let fresh = issue_by(&world, &second, at(rotated_at + 10));
    let fresh = present(&wallet, &fresh, &["name"], NONCE, AUDIENCE);
    assert!(verify(&world, &fresh).is_ok());
    // Backdated: at + 6 s, key-1 was the old key, which did not sign this.
    let backdated = issue_by(&world, &second, at(6));
    assert_eq!(
        verify(
            &world,
            &present(&wallet, &backdated, &["name"], NONCE, AUDIENCE)
        )
        .map_err(|e| e.code()),
        Err("bad_signature")
    );

    // Deactivating the DID ends every credential it issued.
    world.ok(
        &admin,
        Call::Identity(IdentityCall::DeactivateDid {
            organization: org("seoul.agency"),
        }),
    );
    for shown in [&before, &fresh] {
        assert_eq!(
            verify(&world, shown).map_err(|e| e.code()),
            Err("untrusted_issuer")
        );
    }
}

#[test]
fn a_deaccredited_issuer_keeps_what_it_issued_before_and_nothing_after() {
    let mut world = World::new();
    let wallet = Wallet::new();
    let issued = issue_with(&world, &wallet, |r| r.iat = GENESIS_TIME_MS / 1000 + 6);
    let shown = present(&wallet, &issued, &["name"], NONCE, AUDIENCE);
    assert!(verify(&world, &shown).is_ok());
    let city = world.city.clone();
    world.ok(
        &city,
        Call::Identity(IdentityCall::RevokeAccreditation {
            issuer: org("seoul.agency"),
        }),
    );
    let revoked_at = world.height;
    assert!(verify(&world, &shown).is_ok(), "issued while accredited");
    let after = issue_with(&world, &wallet, |r| {
        r.iat = GENESIS_TIME_MS / 1000 + revoked_at + 5
    });
    assert_eq!(
        verify(
            &world,
            &present(&wallet, &after, &["name"], NONCE, AUDIENCE)
        )
        .map_err(|e| e.code()),
        Err("untrusted_issuer")
    );
}
