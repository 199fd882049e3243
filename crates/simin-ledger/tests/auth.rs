//! The auth module's rules: the service registry and the citizens' access log.

mod common;

use common::*;
use simin_ledger::auth::{access_count, access_records, service, services};
use simin_ledger::{check_call, BlockError, TxError, WriteSet};
use simin_types::{
    encode, limits, state_keys, AccessEntry, AccessKind, AuthCall, BlockTime, Call, Hash, Role,
    ServiceRegistration, SigningKey,
};

fn auth(call: AuthCall) -> Call {
    Call::Auth(call)
}

fn library() -> SigningKey {
    key(11)
}

fn sports() -> SigningKey {
    key(12)
}

fn provider() -> SigningKey {
    key(13)
}

fn agency() -> SigningKey {
    key(10)
}

fn registration(client_id: &str, organization: &str) -> ServiceRegistration {
    ServiceRegistration {
        client_id: client_id.into(),
        organization: org_id(organization),
        name: format!("The {client_id} portal"),
        redirect_uris: vec![
            format!("https://{client_id}.example.kr/callback"),
            "http://127.0.0.1:8080/callback".into(),
        ],
        scopes: vec!["profile".into(), "age_over_19".into()],
        secret_hash: Some(Hash::digest(b"a client secret of 32 bytes ....")),
        // Ignored in calls: the ledger sets it.
        active: false,
    }
}

fn register_service(reg: ServiceRegistration) -> Call {
    auth(AuthCall::RegisterService(reg))
}

fn deregister_service(client_id: &str) -> Call {
    auth(AuthCall::DeregisterService {
        client_id: client_id.into(),
    })
}

fn entry(client_id: &str, subject: &str, claims: &[&str], n: u64) -> AccessEntry {
    AccessEntry {
        kind: AccessKind::Login,
        client_id: client_id.into(),
        subject: subject.into(),
        claims: claims.iter().map(|c| (*c).to_owned()).collect(),
        commitment: doc(n),
        released_at: BlockTime(GENESIS_TIME.0 + n),
    }
}

fn record(entries: Vec<AccessEntry>) -> Call {
    auth(AuthCall::RecordAccess { entries })
}

/// A chain with `seoul.agency` (key 10, no service role), `mapo.library` (key 11) and
/// `seoul.sports-centre` (key 12), services, and `seoul.citizen-auth` (key 13), the
/// identity provider.
fn with_orgs() -> Chain {
    let mut chain = Chain::new();
    for (id, signer, roles) in [
        ("seoul.agency", agency(), vec![Role::Agency]),
        (
            "mapo.library",
            library(),
            vec![Role::Facility, Role::Service],
        ),
        (
            "seoul.sports-centre",
            sports(),
            vec![Role::Facility, Role::Service],
        ),
        (
            "seoul.citizen-auth",
            provider(),
            vec![Role::Agency, Role::Service, Role::IdentityProvider],
        ),
    ] {
        assert_success(&chain.run(&authority(), register(org(id, &[&signer], &roles))));
    }
    chain
}

fn stored(chain: &Chain, client_id: &str) -> Option<ServiceRegistration> {
    service(&chain.state, client_id).expect("readable")
}

#[test]
fn an_organisation_registers_replaces_and_deregisters_its_service() {
    let mut chain = with_orgs();
    assert_eq!(services(&chain.state), Ok(vec![]));
    assert_success(&chain.run(
        &library(),
        register_service(registration("mapo.portal", "mapo.library")),
    ));
    let got = stored(&chain, "mapo.portal").expect("registered");
    assert!(got.active, "the ledger sets active");
    assert_eq!(
        got,
        ServiceRegistration {
            active: true,
            ..registration("mapo.portal", "mapo.library")
        }
    );

    // Its own organisation replaces it; the index names it once.
    let mut renamed = registration("mapo.portal", "mapo.library");
    renamed.name = "Mapo Library Portal".into();
    renamed.secret_hash = None;
    assert_success(&chain.run(&library(), register_service(renamed.clone())));
    assert_eq!(
        stored(&chain, "mapo.portal").map(|s| s.name),
        Some(renamed.name)
    );
    assert_success(&chain.run(
        &sports(),
        register_service(registration("sports.booking", "seoul.sports-centre")),
    ));
    assert_eq!(
        services(&chain.state),
        Ok(vec!["mapo.portal".to_owned(), "sports.booking".to_owned()])
    );

    // Deregistration: by its organisation, once.
    assert_failure(
        &chain.run(&sports(), deregister_service("mapo.portal")),
        &sports(),
        "auth.not_service_controller",
    );
    assert_success(&chain.run(&library(), deregister_service("mapo.portal")));
    assert_eq!(stored(&chain, "mapo.portal").map(|s| s.active), Some(false));
    assert_failure(
        &chain.run(&library(), deregister_service("mapo.portal")),
        &library(),
        "auth.service_inactive",
    );
    assert_failure(
        &chain.run(&library(), deregister_service("mapo.nothing")),
        &library(),
        "auth.unknown_service",
    );
    // A city authority deregisters any service; registering again reactivates it.
    assert_success(&chain.run(&authority(), deregister_service("sports.booking")));
    assert_success(&chain.run(
        &sports(),
        register_service(registration("sports.booking", "seoul.sports-centre")),
    ));
    assert_eq!(
        stored(&chain, "sports.booking").map(|s| s.active),
        Some(true)
    );
    assert_eq!(services(&chain.state).map(|s| s.len()), Ok(2));
}

#[test]
fn registration_refusals_change_nothing_but_the_nonce() {
    let mut chain = with_orgs();
    assert_success(&chain.run(
        &library(),
        register_service(registration("mapo.portal", "mapo.library")),
    ));
    let cases: Vec<(SigningKey, ServiceRegistration, &str)> = vec![
        (
            authority(),
            registration("ghost.portal", "seoul.ghost"),
            "governance.unknown_organization",
        ),
        (
            agency(),
            registration("agency.portal", "seoul.agency"),
            "auth.not_a_service",
        ),
        (
            // Even a city authority registers services only for service organisations.
            authority(),
            registration("agency.portal", "seoul.agency"),
            "auth.not_a_service",
        ),
        (
            outsider(),
            registration("mapo.other", "mapo.library"),
            "auth.not_service_controller",
        ),
        (
            sports(),
            registration("mapo.other", "mapo.library"),
            "auth.not_service_controller",
        ),
        (
            // Another organisation's client id.
            sports(),
            registration("mapo.portal", "seoul.sports-centre"),
            "auth.client_id_taken",
        ),
    ];
    for (signer, reg, code) in cases {
        let before = chain.state.clone();
        let output = chain.run(&signer, register_service(reg));
        assert_failure(&output, &signer, code);
        let mut expected = before;
        let nonce_key = state_keys::account_nonce(&signer.public_key());
        let meta_key = simin_ledger::chain_last_block_key();
        expected.apply(&WriteSet::from([
            (nonce_key.clone(), output.writes[&nonce_key].clone()),
            (meta_key.clone(), output.writes[&meta_key].clone()),
        ]));
        assert_eq!(chain.state, expected, "{code}");
    }

    // Only a city authority hands a client id to another organisation.
    assert_success(&chain.run(
        &authority(),
        register_service(registration("mapo.portal", "seoul.sports-centre")),
    ));
    assert_eq!(
        stored(&chain, "mapo.portal").map(|s| s.organization),
        Some(org_id("seoul.sports-centre"))
    );
    // The library's key no longer controls it.
    assert_failure(
        &chain.run(&library(), deregister_service("mapo.portal")),
        &library(),
        "auth.not_service_controller",
    );

    // A deactivated organisation's services can neither be registered nor deregistered
    // by its keys.
    assert_success(&chain.run(&authority(), deactivate("seoul.sports-centre")));
    assert_failure(
        &chain.run(
            &sports(),
            register_service(registration("sports.booking", "seoul.sports-centre")),
        ),
        &sports(),
        "auth.not_a_service",
    );
    assert_failure(
        &chain.run(&sports(), deregister_service("mapo.portal")),
        &sports(),
        "auth.not_service_controller",
    );
}

#[test]
fn the_registry_is_bounded() {
    let mut chain = with_orgs();
    let full: Vec<String> = (0..limits::SERVICES_MAX)
        .map(|i| format!("svc-{i}"))
        .collect();
    chain.state.apply(&WriteSet::from([(
        state_keys::services(),
        Some(encode(&full)),
    )]));
    assert_failure(
        &chain.run(
            &library(),
            register_service(registration("mapo.portal", "mapo.library")),
        ),
        &library(),
        "auth.too_many_services",
    );
}

/// Calls that fail the stateless checks: kept out of the mempool, and a block carrying
/// one is refused.
fn assert_invalid(call: Call) {
    assert!(check_call(&call).is_err(), "{call:?} passed");
    let mut chain = with_orgs();
    let tx = sign(&library(), 0, call);
    assert!(matches!(
        chain.try_block(&[tx]),
        Err(BlockError::InvalidTx {
            source: TxError::InvalidCall(_),
            ..
        })
    ));
}

#[test]
fn malformed_registrations_never_reach_a_block() {
    let with = |change: &dyn Fn(&mut ServiceRegistration)| {
        let mut reg = registration("mapo.portal", "mapo.library");
        change(&mut reg);
        register_service(reg)
    };
    let uris = |uris: &[&str]| {
        let uris: Vec<String> = uris.iter().map(|u| (*u).to_owned()).collect();
        with(&move |r: &mut ServiceRegistration| r.redirect_uris = uris.clone())
    };
    let scopes = |scopes: &[&str]| {
        let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
        with(&move |r: &mut ServiceRegistration| r.scopes = scopes.clone())
    };
    let long_uri = format!("https://mapo.example.kr/{}", "a".repeat(600));
    let too_many_uris: Vec<String> = (0..=limits::SERVICE_REDIRECT_URIS_MAX)
        .map(|i| format!("https://mapo.example.kr/cb{i}"))
        .collect();
    let too_many_scopes: Vec<String> = (0..=limits::SERVICE_SCOPES_MAX)
        .map(|i| format!("scope_{i}"))
        .collect();
    let bad = vec![
        with(&|r| r.client_id = String::new()),
        with(&|r| r.client_id = "Mapo.Portal".into()),
        with(&|r| r.client_id = "mapo portal".into()),
        with(&|r| r.client_id = "m".repeat(65)),
        with(&|r| r.name = String::new()),
        with(&|r| r.name = "n".repeat(201)),
        uris(&[]),
        uris(&["http://mapo.example.kr/callback"]),
        uris(&["http://127.0.0.2/callback"]),
        uris(&["http://localhost.evil.kr/callback"]),
        uris(&["http://127.0.0.1@evil.kr/callback"]),
        uris(&["https://user@mapo.example.kr/callback"]),
        uris(&["https://mapo.example.kr/callback#frag"]),
        uris(&["/callback"]),
        uris(&["mapo.example.kr/callback"]),
        uris(&["ftp://mapo.example.kr/callback"]),
        uris(&["HTTPS://mapo.example.kr/callback"]),
        uris(&["https:///callback"]),
        uris(&["https://mapo.example.kr:80x/callback"]),
        uris(&["https://mapo example.kr/callback"]),
        uris(&["https://[::1/callback"]),
        uris(&["https://mapo.example.kr/cb", "https://mapo.example.kr/cb"]),
        uris(&[long_uri.as_str()]),
        with(&move |r| r.redirect_uris = too_many_uris.clone()),
        scopes(&["Profile"]),
        scopes(&["profile-extra"]),
        scopes(&[""]),
        scopes(&["openid"]),
        scopes(&["profile", "profile"]),
        scopes(&[&"s".repeat(65)]),
        with(&move |r| r.scopes = too_many_scopes.clone()),
        deregister_service("Not Valid"),
    ];
    for call in bad {
        assert_invalid(call);
    }
    // The loopback exceptions and the empty scope list pass.
    for good in [
        uris(&[
            "http://127.0.0.1/cb",
            "http://localhost:3000/cb",
            "http://[::1]:8080/cb",
        ]),
        uris(&[
            "https://mapo.example.kr",
            "https://[2001:db8::1]:8443/cb?x=1",
        ]),
        scopes(&[]),
    ] {
        assert_eq!(check_call(&good), Ok(()), "{good:?}");
    }
}

#[test]
fn malformed_access_records_never_reach_a_block() {
    let one = |e: AccessEntry| record(vec![e]);
    let base = || entry("mapo.portal", "c3ViamVjdA", &["age_over_19", "name"], 1);
    let too_many: Vec<AccessEntry> = (0..=limits::ACCESS_ENTRIES_MAX).map(|_| base()).collect();
    let too_many_claims: Vec<String> = (0..=limits::ACCESS_CLAIMS_MAX)
        .map(|i| format!("claim_{i:03}"))
        .collect();
    let bad = vec![
        record(vec![]),
        record(too_many),
        one(AccessEntry {
            client_id: "Bad Id".into(),
            ..base()
        }),
        one(AccessEntry {
            subject: String::new(),
            ..base()
        }),
        one(AccessEntry {
            subject: "not/base64url".into(),
            ..base()
        }),
        one(AccessEntry {
            subject: "a=".into(),
            ..base()
        }),
        one(AccessEntry {
            subject: "s".repeat(65),
            ..base()
        }),
        one(entry(
            "mapo.portal",
            "c3ViamVjdA",
            &["name", "age_over_19"],
            1,
        )),
        one(entry("mapo.portal", "c3ViamVjdA", &["name", "name"], 1)),
        one(entry("mapo.portal", "c3ViamVjdA", &["Name"], 1)),
        one(entry("mapo.portal", "c3ViamVjdA", &[""], 1)),
        one(AccessEntry {
            claims: too_many_claims,
            ..base()
        }),
    ];
    for call in bad {
        assert_invalid(call);
    }
    assert_eq!(check_call(&one(base())), Ok(()));
    assert_eq!(
        check_call(&one(entry("mapo.portal", "c3ViamVjdA", &[], 1))),
        Ok(())
    );
}

#[test]
fn the_identity_provider_appends_access_records_per_subject() {
    let mut chain = with_orgs();
    assert_success(&chain.run(
        &library(),
        register_service(registration("mapo.portal", "mapo.library")),
    ));
    assert_success(&chain.run(
        &sports(),
        register_service(registration("sports.booking", "seoul.sports-centre")),
    ));
    let (alice, bob) = ("YWxpY2UtbWFwbw", "Ym9iLXNwb3J0cw-_");

    // Only an identity provider records, and only for registered services; a refusal
    // of any entry writes none.
    assert_failure(
        &chain.run(
            &library(),
            record(vec![entry("mapo.portal", alice, &["name"], 1)]),
        ),
        &library(),
        "auth.not_an_identity_provider",
    );
    assert_failure(
        &chain.run(
            &provider(),
            record(vec![
                entry("mapo.portal", alice, &["name"], 1),
                entry("mapo.unknown", alice, &["name"], 2),
            ]),
        ),
        &provider(),
        "auth.unknown_service",
    );
    assert_eq!(access_count(&chain.state, alice), Ok(0));

    let first = chain.height.next().expect("small heights");
    assert_success(&chain.run(
        &provider(),
        record(vec![
            entry("mapo.portal", alice, &["age_over_19", "name"], 1),
            entry("sports.booking", bob, &["resident"], 2),
            entry("mapo.portal", alice, &[], 3),
        ]),
    ));
    assert_eq!(access_count(&chain.state, alice), Ok(2));
    assert_eq!(access_count(&chain.state, bob), Ok(1));
    assert_eq!(access_count(&chain.state, "nobody"), Ok(0));

    // A deregistered service's logins are still recorded.
    assert_success(&chain.run(&library(), deregister_service("mapo.portal")));
    let mut verification = entry("mapo.portal", alice, &["name"], 4);
    verification.kind = AccessKind::Verification;
    assert_success(&chain.run(&provider(), record(vec![verification.clone()])));

    let log = access_records(&chain.state, alice, 0, 100).expect("readable");
    assert_eq!(log.len(), 3);
    assert_eq!(
        log[0].entry,
        entry("mapo.portal", alice, &["age_over_19", "name"], 1)
    );
    assert_eq!(log[1].entry, entry("mapo.portal", alice, &[], 3));
    assert_eq!(log[2].entry, verification);
    assert!(log
        .iter()
        .all(|r| r.provider == org_id("seoul.citizen-auth")));
    assert_eq!((log[0].height, log[1].height), (first, first));
    assert!(log[2].height > first && log[2].block_time > log[0].block_time);
    let bobs = access_records(&chain.state, bob, 0, 100).expect("readable");
    assert_eq!(bobs.len(), 1);
    assert_eq!(bobs[0].entry.client_id, "sports.booking");

    // Pages: from and limit.
    let page = access_records(&chain.state, alice, 1, 1).expect("readable");
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].entry, log[1].entry);
    assert_eq!(access_records(&chain.state, alice, 3, 10), Ok(vec![]));
    assert_eq!(
        access_records(&chain.state, alice, u64::MAX, u64::MAX),
        Ok(vec![])
    );
}
