//! The governance module's rules, each on its allowed and its refused path.

mod common;

use common::*;
use simin_ledger::{BlockError, TxError};
use simin_types::{state_keys, Role};

#[test]
fn an_authority_registers_an_organisation_and_indexes_its_keys() {
    let mut chain = Chain::new();
    let library = org("mapo-library", &[&key(10), &key(11)], &[Role::Facility]);
    let mut call_org = library.clone();
    call_org.active = false; // ignored in calls: registration always activates
    assert_success(&chain.run(&authority(), register(call_org)));
    assert_eq!(chain.organization("mapo-library"), Some(library));
    for k in [key(10), key(11)] {
        assert_eq!(
            chain.owner_of(&k.public_key()),
            Some(org_id("mapo-library"))
        );
    }
}

#[test]
fn only_authorities_may_govern() {
    let mut chain = Chain::new();
    for signer in [outsider(), notary()] {
        let out = chain.run(
            &signer,
            register(org("rogue", &[&key(10)], &[Role::Notary])),
        );
        assert_failure(&out, &signer, "governance.unauthorized");
        let out = chain.run(&signer, deactivate("city.notary"));
        assert_failure(&out, &signer, "governance.unauthorized");
    }
    assert_eq!(chain.organization("rogue"), None);
    assert!(
        chain
            .organization("city.notary")
            .expect("registered")
            .active
    );
}

#[test]
fn an_id_is_registered_once() {
    let mut chain = Chain::new();
    let out = chain.run(&authority(), register(org("city.notary", &[&key(10)], &[])));
    assert_failure(&out, &authority(), "governance.organization_exists");
}

#[test]
fn a_key_belongs_to_one_organisation() {
    let mut chain = Chain::new();
    let out = chain.run(
        &authority(),
        register(org("other", &[&key(10), &notary()], &[])),
    );
    assert_failure(&out, &authority(), "governance.key_in_use");
    assert_eq!(chain.owner_of(&key(10).public_key()), None);

    assert_success(&chain.run(&authority(), register(org("other", &[&key(10)], &[]))));
    let out = chain.run(&authority(), update(org("city.notary", &[&key(10)], &[])));
    assert_failure(&out, &authority(), "governance.key_in_use");
}

#[test]
fn two_registrations_of_one_key_in_one_block_conflict() {
    let mut chain = Chain::new();
    let txs = [
        sign(&authority(), 0, register(org("first", &[&key(10)], &[]))),
        sign(&authority(), 1, register(org("second", &[&key(10)], &[]))),
    ];
    let out = chain.block(&txs);
    assert_eq!(out.receipts[0].outcome, simin_types::TxOutcome::Success);
    assert!(matches!(
        &out.receipts[1].outcome,
        simin_types::TxOutcome::Failure { code, .. } if code == "governance.key_in_use"
    ));
    assert_eq!(chain.organization("second"), None);
    assert_eq!(chain.nonce(&authority()), 2);
}

#[test]
fn an_update_replaces_keys_and_keeps_the_index_consistent() {
    let mut chain = Chain::new();
    let updated = org(
        "city.notary",
        &[&key(10), &key(11)],
        &[Role::Notary, Role::Agency],
    );
    assert_success(&chain.run(&authority(), update(updated.clone())));
    assert_eq!(chain.organization("city.notary"), Some(updated));
    assert_eq!(chain.owner_of(&notary().public_key()), None);
    assert_eq!(
        chain.owner_of(&key(11).public_key()),
        Some(org_id("city.notary"))
    );
    // The released key can now join another organisation and no longer notarises.
    assert_failure(
        &chain.run(&notary(), anchor(doc(1))),
        &notary(),
        "notary.not_a_notary",
    );
    assert_success(&chain.run(&authority(), register(org("new", &[&notary()], &[]))));
    assert_success(&chain.run(&key(10), anchor(doc(1))));
}

#[test]
fn updating_an_unknown_organisation_fails() {
    let mut chain = Chain::new();
    let out = chain.run(&authority(), update(org("nobody", &[&key(10)], &[])));
    assert_failure(&out, &authority(), "governance.unknown_organization");
    let out = chain.run(&authority(), deactivate("nobody"));
    assert_failure(&out, &authority(), "governance.unknown_organization");
}

#[test]
fn deactivation_stops_a_notary_once_and_survives_updates() {
    let mut chain = Chain::new();
    assert_success(&chain.run(&authority(), deactivate("city.notary")));
    assert_failure(
        &chain.run(&notary(), anchor(doc(1))),
        &notary(),
        "notary.not_a_notary",
    );
    let out = chain.run(&authority(), deactivate("city.notary"));
    assert_failure(&out, &authority(), "governance.already_inactive");
    // An update may change an inactive organisation but does not reactivate it; its keys
    // stay bound to it until removed.
    assert_success(&chain.run(
        &authority(),
        update(org("city.notary", &[&key(10)], &[Role::Notary])),
    ));
    assert!(
        !chain
            .organization("city.notary")
            .expect("registered")
            .active
    );
    assert_eq!(
        chain.owner_of(&key(10).public_key()),
        Some(org_id("city.notary"))
    );
    assert_failure(
        &chain.run(&key(10), anchor(doc(1))),
        &key(10),
        "notary.not_a_notary",
    );
}

#[test]
fn malformed_organisations_never_enter_a_block() {
    let mut chain = Chain::new();
    let mut cases = Vec::new();
    let mut empty_name = org("a", &[&key(10)], &[]);
    empty_name.name.clear();
    cases.push(empty_name);
    let mut long_name = org("a", &[&key(10)], &[]);
    long_name.name = "x".repeat(simin_types::limits::ORG_NAME_BYTES_MAX + 1);
    cases.push(long_name);
    cases.push(org("a", &[], &[]));
    let many: Vec<_> = (10..27).map(key).collect();
    cases.push(org("a", &many.iter().collect::<Vec<_>>(), &[]));
    cases.push(org("a", &[&key(10), &key(10)], &[]));
    cases.push(org("a", &[&key(10)], &[Role::Notary, Role::Notary]));
    let mut weak_key = org("a", &[&key(10)], &[]);
    let mut identity = [0u8; 32];
    identity[0] = 1;
    weak_key.keys.push(simin_types::PublicKey(identity));
    cases.push(weak_key);
    for bad in cases {
        for call in [register(bad.clone()), update(bad)] {
            let tx = sign(&authority(), chain.nonce(&authority()), call);
            let err = chain
                .try_block(&[tx])
                .expect_err("a malformed call makes the block invalid");
            assert!(
                matches!(&err, BlockError::InvalidTx { index: 0, source: TxError::InvalidCall(e), .. }
                    if e.code() == "governance.invalid_organization"),
                "{err}"
            );
        }
    }
    let longest = org("a", &[&key(10)], &[]);
    let mut longest = longest;
    longest.name = "é".repeat(simin_types::limits::ORG_NAME_BYTES_MAX / 2);
    assert_success(&chain.run(&authority(), register(longest)));
    assert!(chain
        .get::<Vec<simin_types::PublicKey>>(&state_keys::authorities())
        .is_some());
}
