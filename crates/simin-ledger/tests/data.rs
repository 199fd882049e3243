//! The data module's rules: datasets, sources and batches of readings; personal records,
//! consent, the access log and erasure; benefits and eligibility decisions.

mod common;

use common::*;
use simin_ledger::data::{
    batch, benefit, consent, consent_valid, data_source, dataset, decision, personal_record,
    record_log, source_seq, BATCH_CLOCK_DRIFT_MS,
};
use simin_ledger::{check_call, BlockError, TxError};
use simin_types::{
    limits, BlockTime, Call, Consent, DataCall, DataSource, Dataset, EligibilityDecision, Hash,
    PersonalRecord, ReadingBatch, RecordEvent, Role, SigningKey,
};

fn data(call: DataCall) -> Call {
    Call::Data(call)
}

/// `seoul.agency`: an agency; owns datasets and publishes benefits.
fn agency() -> SigningKey {
    key(10)
}

/// `mapo.sensors`: a data source organisation.
fn sensors() -> SigningKey {
    key(11)
}

/// `mapo.welfare`: an agency holding personal records.
fn welfare() -> SigningKey {
    key(12)
}

/// `seoul.clinic`: a service that reads records under consent.
fn clinic() -> SigningKey {
    key(13)
}

/// `gangnam.sensors`: another data source organisation.
fn other_sensors() -> SigningKey {
    key(14)
}

/// The device key of source `mapo.aq-0042`.
fn device() -> SigningKey {
    key(20)
}

/// A citizen's pseudonymous key for one record.
fn citizen() -> SigningKey {
    key(30)
}

/// A chain with the organisations above, `seoul.closed` (deactivated) and the dataset
/// `seoul.air-quality` owned by `seoul.agency`.
fn with_orgs() -> Chain {
    let mut chain = Chain::new();
    for (id, signer, roles) in [
        ("seoul.agency", agency(), vec![Role::Agency]),
        ("mapo.sensors", sensors(), vec![Role::DataSource]),
        ("mapo.welfare", welfare(), vec![Role::Agency]),
        ("seoul.clinic", clinic(), vec![Role::Service]),
        ("gangnam.sensors", other_sensors(), vec![Role::DataSource]),
        ("seoul.closed", key(15), vec![Role::Service]),
    ] {
        assert_success(&chain.run(&authority(), register(org(id, &[&signer], &roles))));
    }
    assert_success(&chain.run(&authority(), deactivate("seoul.closed")));
    assert_success(&chain.run(&agency(), register_dataset(ds("seoul.air-quality"))));
    chain
}

fn ds(id: &str) -> Dataset {
    Dataset {
        id: id.into(),
        // Ignored for an agency: the ledger sets its own organisation.
        owner: org_id("seoul.clinic"),
        name: format!("The {id} dataset"),
        schema: r#"{"type":"object","properties":{"pm10":{"type":"number"}}}"#.into(),
    }
}

fn register_dataset(dataset: Dataset) -> Call {
    data(DataCall::RegisterDataset(dataset))
}

fn source(id: &str, organization: &str, device: &SigningKey, datasets: &[&str]) -> DataSource {
    DataSource {
        id: id.into(),
        organization: org_id(organization),
        key: device.public_key(),
        datasets: datasets.iter().map(|d| (*d).to_owned()).collect(),
        district: "Mapo-gu".into(),
        // Ignored in calls: the ledger sets it.
        active: false,
    }
}

fn register_source(source: DataSource) -> Call {
    data(DataCall::RegisterSource(source))
}

fn deactivate_source(id: &str) -> Call {
    data(DataCall::DeactivateSource { source: id.into() })
}

/// A chain of [`with_orgs`] with source `mapo.aq-0042` (key [`device`]) feeding
/// `seoul.air-quality`.
fn with_source() -> Chain {
    let mut chain = with_orgs();
    assert_success(&chain.run(
        &sensors(),
        register_source(source(
            "mapo.aq-0042",
            "mapo.sensors",
            &device(),
            &["seoul.air-quality"],
        )),
    ));
    chain
}

/// Batch `seq` of `mapo.aq-0042`, its readings ending at `last_time`.
fn reading_batch(seq: u64, last_time: BlockTime) -> ReadingBatch {
    ReadingBatch {
        dataset: "seoul.air-quality".into(),
        source: "mapo.aq-0042".into(),
        seq,
        root: doc(seq),
        count: 60,
        first_time: BlockTime(last_time.0.saturating_sub(60_000)),
        last_time,
    }
}

fn submit(batch: ReadingBatch) -> Call {
    data(DataCall::SubmitBatch(batch))
}

/// A batch `seq` whose readings end at the next block's time.
fn next_batch(chain: &Chain, seq: u64) -> Call {
    submit(reading_batch(seq, chain.next_ctx().time))
}

fn record_id(n: u64) -> Hash {
    Hash::digest(&[b"record".as_slice(), &n.to_le_bytes()].concat())
}

fn new_record(n: u64, owner: &SigningKey) -> PersonalRecord {
    PersonalRecord {
        id: record_id(n),
        // Ignored in calls: the ledger sets these.
        holder: org_id("seoul.clinic"),
        owner: owner.public_key(),
        kind: "welfare_application".into(),
        commitment: doc(n),
        created_time: BlockTime(0),
        erased_time: Some(BlockTime(0)),
    }
}

fn create_record(record: PersonalRecord) -> Call {
    data(DataCall::CreateRecord(record))
}

fn grant(record: Hash, organization: &str, purpose: &str, expires: BlockTime) -> Call {
    data(DataCall::GrantConsent(Consent {
        record,
        organization: org_id(organization),
        purpose: purpose.into(),
        expires,
        // Ignored in calls: the ledger clears it.
        revoked_time: Some(BlockTime(1)),
    }))
}

fn revoke(record: Hash, organization: &str, purpose: &str) -> Call {
    data(DataCall::RevokeConsent {
        record,
        organization: org_id(organization),
        purpose: purpose.into(),
    })
}

fn read_access(record: Hash, purpose: &str) -> Call {
    data(DataCall::LogAccess {
        record,
        purpose: purpose.into(),
    })
}

fn erase(record: Hash) -> Call {
    data(DataCall::EraseRecord { record })
}

/// An hour after the next block.
fn in_an_hour(chain: &Chain) -> BlockTime {
    BlockTime(chain.next_ctx().time.0 + 3_600_000)
}

/// A chain of [`with_orgs`] with record 1 of [`citizen`], held by `mapo.welfare`.
fn with_record() -> Chain {
    let mut chain = with_orgs();
    assert_success(&chain.run(&welfare(), create_record(new_record(1, &citizen()))));
    chain
}

fn events(chain: &Chain, record: &Hash) -> Vec<RecordEvent> {
    record_log(&chain.state, record, 0, 100)
        .expect("readable")
        .into_iter()
        .map(|e| e.event)
        .collect()
}

const POLICY: &str =
    r#"{"all":[{"claim":"age","min":19,"max":34},{"claim":"resident","equals":"seoul"}]}"#;

fn youth_allowance(organization: &str, policy: &str) -> simin_types::Benefit {
    simin_types::Benefit {
        id: "seoul.youth-allowance".into(),
        organization: org_id(organization),
        name: "Seoul youth allowance".into(),
        policy: policy.into(),
    }
}

fn publish(benefit: simin_types::Benefit) -> Call {
    data(DataCall::PublishBenefit(benefit))
}

fn eligibility(n: u64, policy: &str) -> EligibilityDecision {
    EligibilityDecision {
        id: doc(1_000 + n),
        benefit: "seoul.youth-allowance".into(),
        policy_hash: Hash::digest(policy.as_bytes()),
        applicant: doc(2_000 + n),
        eligible: true,
        evidence: vec![doc(3_000 + n), doc(3_001 + n)],
        // Ignored in calls: the ledger sets it.
        decided_time: BlockTime(0),
    }
}

fn decide(decision: EligibilityDecision) -> Call {
    data(DataCall::RecordDecision(decision))
}

/// Calls that fail the stateless checks: kept out of the mempool, and a block carrying
/// one is refused.
fn assert_invalid(call: Call) {
    assert!(check_call(&call).is_err(), "{call:?} passed");
    let mut chain = with_orgs();
    let tx = sign(&agency(), 0, call);
    assert!(matches!(
        chain.try_block(&[tx]),
        Err(BlockError::InvalidTx {
            source: TxError::InvalidCall(_),
            ..
        })
    ));
}

#[test]
fn datasets_are_registered_by_agencies_and_authorities() {
    let mut chain = with_orgs();
    let got = dataset(&chain.state, "seoul.air-quality")
        .expect("readable")
        .expect("registered");
    assert_eq!(got.owner, org_id("seoul.agency"), "the agency owns it");

    // A city authority registers one for a named organisation.
    let mut noise = ds("seoul.noise");
    noise.owner = org_id("mapo.welfare");
    assert_success(&chain.run(&authority(), register_dataset(noise.clone())));
    assert_eq!(dataset(&chain.state, "seoul.noise"), Ok(Some(noise)));

    // Its owner replaces it.
    let mut renamed = ds("seoul.air-quality");
    renamed.name = "Air quality (PM10)".into();
    assert_success(&chain.run(&agency(), register_dataset(renamed)));
    assert_eq!(
        dataset(&chain.state, "seoul.air-quality").map(|d| d.map(|d| d.name)),
        Ok(Some("Air quality (PM10)".into()))
    );

    let mut ghost = ds("seoul.ghost");
    ghost.owner = org_id("seoul.nobody");
    let cases = [
        (outsider(), ds("seoul.x"), "data.not_a_dataset_registrar"),
        (sensors(), ds("seoul.x"), "data.not_a_dataset_registrar"),
        (key(15), ds("seoul.x"), "data.not_a_dataset_registrar"),
        (authority(), ghost, "governance.unknown_organization"),
        (welfare(), ds("seoul.air-quality"), "data.not_dataset_owner"),
    ];
    for (signer, dataset, code) in cases {
        let output = chain.run(&signer, register_dataset(dataset));
        assert_failure(&output, &signer, code);
    }
    // A city authority may give a dataset to another organisation.
    let mut moved = ds("seoul.air-quality");
    moved.owner = org_id("mapo.welfare");
    assert_success(&chain.run(&authority(), register_dataset(moved)));
    assert_eq!(
        dataset(&chain.state, "seoul.air-quality").map(|d| d.map(|d| d.owner)),
        Ok(Some(org_id("mapo.welfare")))
    );
}

#[test]
fn sources_are_registered_replaced_and_deactivated_by_their_organisation() {
    let mut chain = with_source();
    let got = data_source(&chain.state, "mapo.aq-0042")
        .expect("readable")
        .expect("registered");
    assert!(got.active, "the ledger sets active");
    assert_eq!(source_seq(&chain.state, "mapo.aq-0042"), Ok(0));

    let aq = |org: &str, key: &SigningKey, datasets: &[&str]| {
        register_source(source("mapo.aq-0042", org, key, datasets))
    };
    let cases = [
        (
            authority(),
            aq("seoul.nobody", &device(), &["seoul.air-quality"]),
            "governance.unknown_organization",
        ),
        (
            agency(),
            aq("seoul.agency", &device(), &["seoul.air-quality"]),
            "data.not_a_data_source",
        ),
        (
            outsider(),
            aq("mapo.sensors", &device(), &["seoul.air-quality"]),
            "data.not_source_controller",
        ),
        (
            // Another data source organisation cannot take the id.
            other_sensors(),
            aq("gangnam.sensors", &key(21), &["seoul.air-quality"]),
            "data.not_source_controller",
        ),
        (
            // An organisation key cannot be a source's key.
            sensors(),
            aq("mapo.sensors", &welfare(), &["seoul.air-quality"]),
            "data.organization_key",
        ),
        (
            sensors(),
            aq(
                "mapo.sensors",
                &device(),
                &["seoul.air-quality", "seoul.none"],
            ),
            "data.unknown_dataset",
        ),
    ];
    for (signer, call, code) in cases {
        let output = chain.run(&signer, call);
        assert_failure(&output, &signer, code);
    }

    // Deactivation: by its organisation (or an authority), once.
    for signer in [outsider(), other_sensors(), agency()] {
        let output = chain.run(&signer, deactivate_source("mapo.aq-0042"));
        assert_failure(&output, &signer, "data.not_source_controller");
    }
    let output = chain.run(&sensors(), deactivate_source("mapo.nothing"));
    assert_failure(&output, &sensors(), "data.unknown_source");
    assert_success(&chain.run(&sensors(), deactivate_source("mapo.aq-0042")));
    let output = chain.run(&sensors(), deactivate_source("mapo.aq-0042"));
    assert_failure(&output, &sensors(), "data.source_inactive");

    // Registering again reactivates it; a city authority may move it.
    assert_success(&chain.run(
        &authority(),
        aq("gangnam.sensors", &device(), &["seoul.air-quality"]),
    ));
    let got = data_source(&chain.state, "mapo.aq-0042")
        .expect("readable")
        .expect("registered");
    assert!(got.active);
    assert_eq!(got.organization, org_id("gangnam.sensors"));
    assert_success(&chain.run(&authority(), deactivate_source("mapo.aq-0042")));
}

#[test]
fn batches_are_accepted_in_order_only() {
    let mut chain = with_source();
    let first_ctx = chain.next_ctx();
    let first = reading_batch(1, first_ctx.time);
    assert_success(&chain.run(&device(), submit(first.clone())));
    assert_eq!(source_seq(&chain.state, "mapo.aq-0042"), Ok(1));
    let stored = batch(&chain.state, "mapo.aq-0042", 1)
        .expect("readable")
        .expect("committed");
    assert_eq!(stored.batch, first);
    assert_eq!(stored.height, first_ctx.height);
    assert_eq!(stored.block_time, first_ctx.time);

    let second = next_batch(&chain, 2);
    assert_success(&chain.run(&device(), second));
    assert_eq!(source_seq(&chain.state, "mapo.aq-0042"), Ok(2));

    // A replayed batch, the same one again, and a skipped number are refused.
    for seq in [0, 1, 2, 4] {
        let call = next_batch(&chain, seq);
        let output = chain.run(&device(), call);
        assert_failure(&output, &device(), "data.batch_out_of_order");
    }
    assert_eq!(source_seq(&chain.state, "mapo.aq-0042"), Ok(2));
    assert_eq!(batch(&chain.state, "mapo.aq-0042", 4), Ok(None));
    let third = next_batch(&chain, 3);
    assert_success(&chain.run(&device(), third));
}

#[test]
fn batch_refusals_change_nothing_but_the_nonce() {
    let mut chain = with_source();
    assert_success(&chain.run(
        &authority(),
        register_dataset({
            let mut noise = ds("seoul.noise");
            noise.owner = org_id("seoul.agency");
            noise
        }),
    ));

    // Only the source's own key signs its batches, not its organisation's.
    for signer in [sensors(), outsider(), key(21)] {
        let call = next_batch(&chain, 1);
        let output = chain.run(&signer, call);
        assert_failure(&output, &signer, "data.not_source_key");
    }
    // A dataset the source does not feed.
    let mut other = reading_batch(1, chain.next_ctx().time);
    other.dataset = "seoul.noise".into();
    let output = chain.run(&device(), submit(other));
    assert_failure(&output, &device(), "data.dataset_not_allowed");
    // An unknown source.
    let mut ghost = reading_batch(1, chain.next_ctx().time);
    ghost.source = "mapo.ghost".into();
    let output = chain.run(&device(), submit(ghost));
    assert_failure(&output, &device(), "data.unknown_source");

    // A reading from the future: past the allowed clock drift, refused; at it, accepted.
    let drift = BlockTime(chain.next_ctx().time.0 + BATCH_CLOCK_DRIFT_MS + 1);
    let output = chain.run(&device(), submit(reading_batch(1, drift)));
    assert_failure(&output, &device(), "data.batch_from_future");
    let edge = BlockTime(chain.next_ctx().time.0 + BATCH_CLOCK_DRIFT_MS);
    assert_success(&chain.run(&device(), submit(reading_batch(1, edge))));

    // An inactive source.
    assert_success(&chain.run(&sensors(), deactivate_source("mapo.aq-0042")));
    let call = next_batch(&chain, 2);
    let output = chain.run(&device(), call);
    assert_failure(&output, &device(), "data.source_inactive");
    assert_eq!(source_seq(&chain.state, "mapo.aq-0042"), Ok(1));
}

#[test]
fn malformed_data_calls_never_reach_a_block() {
    let schema_too_big = format!(
        r#"{{"description":"{}"}}"#,
        "x".repeat(limits::SCHEMA_BYTES_MAX)
    );
    let with_dataset = |change: &dyn Fn(&mut Dataset)| {
        let mut d = ds("seoul.air-quality");
        change(&mut d);
        register_dataset(d)
    };
    let with_source = |change: &dyn Fn(&mut DataSource)| {
        let mut s = source("mapo.aq-0042", "mapo.sensors", &device(), &["seoul.a"]);
        change(&mut s);
        register_source(s)
    };
    let with_batch = |change: &dyn Fn(&mut ReadingBatch)| {
        let mut b = reading_batch(1, GENESIS_TIME);
        change(&mut b);
        submit(b)
    };
    let too_many_datasets: Vec<String> = (0..=limits::SOURCE_DATASETS_MAX)
        .map(|i| format!("seoul.d{i}"))
        .collect();
    let bad = vec![
        with_dataset(&|d| d.id = String::new()),
        with_dataset(&|d| d.id = "Seoul.Air".into()),
        with_dataset(&|d| d.id = "a/b".into()),
        with_dataset(&|d| d.id = "a".repeat(65)),
        with_dataset(&|d| d.name = String::new()),
        with_dataset(&|d| d.name = "n".repeat(201)),
        with_dataset(&|d| d.schema = String::new()),
        with_dataset(&|d| d.schema = "{not json".into()),
        with_dataset(&|d| d.schema = schema_too_big.clone()),
        with_source(&|s| s.id = "MAPO".into()),
        with_source(&|s| s.key = simin_types::PublicKey([0; 32])),
        with_source(&|s| s.datasets = vec![]),
        with_source(&|s| s.datasets = too_many_datasets.clone()),
        with_source(&|s| s.datasets = vec!["seoul.a".into(), "seoul.a".into()]),
        with_source(&|s| s.datasets = vec!["Seoul A".into()]),
        with_source(&|s| s.district = String::new()),
        with_source(&|s| s.district = "d".repeat(41)),
        deactivate_source(""),
        with_batch(&|b| b.count = 0),
        with_batch(&|b| b.count = limits::READINGS_PER_BATCH_MAX + 1),
        with_batch(&|b| b.first_time = BlockTime(b.last_time.0 + 1)),
        with_batch(&|b| b.source = "a b".into()),
        with_batch(&|b| b.dataset = String::new()),
        create_record({
            let mut r = new_record(1, &citizen());
            r.kind = "Welfare".into();
            r
        }),
        create_record({
            let mut r = new_record(1, &citizen());
            r.owner = simin_types::PublicKey([0; 32]);
            r
        }),
        grant(record_id(1), "seoul.clinic", "", GENESIS_TIME),
        grant(record_id(1), "seoul.clinic", "treat.ment", GENESIS_TIME),
        revoke(record_id(1), "seoul.clinic", &"p".repeat(65)),
        read_access(record_id(1), "Treatment"),
        publish({
            let mut b = youth_allowance("seoul.agency", POLICY);
            b.id = "Youth".into();
            b
        }),
        publish(youth_allowance("seoul.agency", "")),
        publish(youth_allowance("seoul.agency", "{]")),
        publish(youth_allowance(
            "seoul.agency",
            &format!("\"{}\"", "p".repeat(limits::POLICY_BYTES_MAX)),
        )),
        publish({
            let mut b = youth_allowance("seoul.agency", POLICY);
            b.name = String::new();
            b
        }),
        decide({
            let mut d = eligibility(1, POLICY);
            d.evidence = vec![];
            d
        }),
        decide({
            let mut d = eligibility(1, POLICY);
            d.evidence = (0..=limits::DECISION_EVIDENCE_MAX as u64)
                .map(doc)
                .collect();
            d
        }),
        decide({
            let mut d = eligibility(1, POLICY);
            d.benefit = "Youth Allowance".into();
            d
        }),
    ];
    for call in bad {
        assert_invalid(call);
    }
    for good in [
        with_dataset(&|d| d.id = "a".repeat(64)),
        with_source(&|_| {}),
        with_batch(&|b| b.count = limits::READINGS_PER_BATCH_MAX),
        with_batch(&|b| b.first_time = b.last_time),
        create_record(new_record(1, &citizen())),
        read_access(record_id(1), "treatment_2026"),
        erase(record_id(1)),
        publish(youth_allowance("seoul.agency", POLICY)),
        decide(eligibility(1, POLICY)),
    ] {
        assert_eq!(check_call(&good), Ok(()), "{good:?}");
    }
}

#[test]
fn a_consented_read_is_logged_and_a_revoked_consent_stops_the_next() {
    let mut chain = with_record();
    let id = record_id(1);
    let stored = personal_record(&chain.state, &id)
        .expect("readable")
        .expect("created");
    assert_eq!(stored.holder, org_id("mapo.welfare"));
    assert_eq!(stored.erased_time, None);
    assert_eq!(
        stored.created_time,
        BlockTime(GENESIS_TIME.0 + 1_000 * chain.height.0)
    );

    // Without consent, another organisation's read is refused.
    let output = chain.run(&clinic(), read_access(id, "treatment"));
    assert_failure(&output, &clinic(), "data.no_consent");

    let expires = in_an_hour(&chain);
    assert_success(&chain.run(&citizen(), grant(id, "seoul.clinic", "treatment", expires)));
    let now = chain.next_ctx().time;
    assert_eq!(
        consent_valid(&chain.state, &id, &org_id("seoul.clinic"), "treatment", now),
        Ok(true)
    );
    assert_eq!(
        consent(&chain.state, &id, &org_id("seoul.clinic"), "treatment")
            .map(|c| c.map(|c| c.revoked_time)),
        Ok(Some(None)),
        "the ledger clears revoked_time"
    );
    assert_success(&chain.run(&clinic(), read_access(id, "treatment")));
    // Another purpose is not covered.
    let output = chain.run(&clinic(), read_access(id, "research"));
    assert_failure(&output, &clinic(), "data.no_consent");

    assert_success(&chain.run(&citizen(), revoke(id, "seoul.clinic", "treatment")));
    let output = chain.run(&clinic(), read_access(id, "treatment"));
    assert_failure(&output, &clinic(), "data.no_consent");
    assert_eq!(
        consent_valid(
            &chain.state,
            &id,
            &org_id("seoul.clinic"),
            "treatment",
            chain.next_ctx().time
        ),
        Ok(false)
    );

    // The holder reads with any purpose, without consent.
    assert_success(&chain.run(&welfare(), read_access(id, "case_review")));

    let log = record_log(&chain.state, &id, 0, 100).expect("readable");
    let summary: Vec<_> = log
        .iter()
        .map(|e| {
            (
                e.event,
                e.organization.as_ref().map(|o| o.as_str().to_owned()),
                e.purpose.clone(),
            )
        })
        .collect();
    let some = |s: &str| Some(s.to_owned());
    assert_eq!(
        summary,
        vec![
            (RecordEvent::Created, some("mapo.welfare"), None),
            (
                RecordEvent::ConsentGranted,
                some("seoul.clinic"),
                some("treatment")
            ),
            (RecordEvent::Read, some("seoul.clinic"), some("treatment")),
            (
                RecordEvent::ConsentRevoked,
                some("seoul.clinic"),
                some("treatment")
            ),
            (RecordEvent::Read, some("mapo.welfare"), some("case_review")),
        ]
    );
    assert!(log.windows(2).all(|w| w[0].height < w[1].height));
    // Paging, and the cap on one page.
    assert_eq!(record_log(&chain.state, &id, 3, 10).map(|l| l.len()), Ok(2));
    assert_eq!(
        record_log(&chain.state, &id, 1, 1).map(|l| l[0].event),
        Ok(RecordEvent::ConsentGranted)
    );
    assert_eq!(record_log(&chain.state, &id, 9, 10), Ok(vec![]));
}

#[test]
fn an_expired_consent_no_longer_lets_an_organisation_read() {
    let mut chain = with_record();
    let id = record_id(1);
    // Expires one millisecond after the block following the grant.
    let expires = BlockTime(chain.next_ctx().time.0 + 1_001);
    assert_success(&chain.run(&citizen(), grant(id, "seoul.clinic", "treatment", expires)));
    assert_success(&chain.run(&clinic(), read_access(id, "treatment")));
    let output = chain.run(&clinic(), read_access(id, "treatment"));
    assert_failure(&output, &clinic(), "data.no_consent");
    // An expiry at or before the block time is refused outright.
    let now = chain.next_ctx().time;
    let output = chain.run(&citizen(), grant(id, "seoul.clinic", "treatment", now));
    assert_failure(&output, &citizen(), "data.invalid_consent");
    assert_eq!(events(&chain, &id).len(), 3);
}

#[test]
fn an_erased_record_keeps_its_log_and_refuses_reads() {
    let mut chain = with_record();
    let id = record_id(1);
    let expires = in_an_hour(&chain);
    assert_success(&chain.run(&citizen(), grant(id, "seoul.clinic", "treatment", expires)));
    assert_success(&chain.run(&clinic(), read_access(id, "treatment")));
    let erased_at = chain.next_ctx().time;
    assert_success(&chain.run(&citizen(), erase(id)));
    assert_eq!(
        personal_record(&chain.state, &id).map(|r| r.and_then(|r| r.erased_time)),
        Ok(Some(erased_at))
    );

    for (signer, call) in [
        (clinic(), read_access(id, "treatment")),
        (welfare(), read_access(id, "case_review")),
        (citizen(), erase(id)),
        (welfare(), erase(id)),
        (
            citizen(),
            grant(id, "seoul.clinic", "treatment", in_an_hour(&chain)),
        ),
    ] {
        let output = chain.run(&signer, call);
        assert_failure(&output, &signer, "data.record_erased");
    }
    assert_eq!(
        events(&chain, &id),
        vec![
            RecordEvent::Created,
            RecordEvent::ConsentGranted,
            RecordEvent::Read,
            RecordEvent::Erased
        ]
    );
    let log = record_log(&chain.state, &id, 3, 1).expect("readable");
    assert_eq!(log[0].organization, None, "the owner erased it");

    // The holder may erase too, and the log names it.
    assert_success(&chain.run(&welfare(), create_record(new_record(2, &key(31)))));
    assert_success(&chain.run(&welfare(), erase(record_id(2))));
    let log = record_log(&chain.state, &record_id(2), 1, 1).expect("readable");
    assert_eq!(log[0].event, RecordEvent::Erased);
    assert_eq!(log[0].organization, Some(org_id("mapo.welfare")));
}

#[test]
fn record_refusals_change_nothing_but_the_nonce() {
    let mut chain = with_record();
    let id = record_id(1);
    let expires = in_an_hour(&chain);
    assert_success(&chain.run(&citizen(), grant(id, "seoul.clinic", "treatment", expires)));
    let unknown = record_id(99);
    let cases: Vec<(SigningKey, Call, &str)> = vec![
        (
            citizen(),
            create_record(new_record(5, &key(32))),
            "data.not_an_organization_key",
        ),
        (
            key(15),
            create_record(new_record(5, &key(32))),
            "data.not_an_organization_key",
        ),
        (
            clinic(),
            create_record(new_record(1, &key(32))),
            "data.record_exists",
        ),
        (
            welfare(),
            create_record(new_record(5, &clinic())),
            "data.organization_key",
        ),
        (
            clinic(),
            grant(id, "seoul.clinic", "research", expires),
            "data.not_record_owner",
        ),
        (
            citizen(),
            grant(unknown, "seoul.clinic", "treatment", expires),
            "data.unknown_record",
        ),
        (
            citizen(),
            grant(id, "seoul.nobody", "treatment", expires),
            "governance.unknown_organization",
        ),
        (
            citizen(),
            grant(id, "seoul.closed", "treatment", expires),
            "data.organization_inactive",
        ),
        (
            welfare(),
            revoke(id, "seoul.clinic", "treatment"),
            "data.not_record_owner",
        ),
        (
            citizen(),
            revoke(id, "seoul.clinic", "research"),
            "data.unknown_consent",
        ),
        (
            citizen(),
            revoke(unknown, "seoul.clinic", "treatment"),
            "data.unknown_record",
        ),
        (
            citizen(),
            read_access(id, "treatment"),
            "data.not_an_organization_key",
        ),
        (
            key(15),
            read_access(id, "treatment"),
            "data.not_an_organization_key",
        ),
        (
            clinic(),
            read_access(unknown, "treatment"),
            "data.unknown_record",
        ),
        (clinic(), erase(id), "data.not_record_controller"),
        (outsider(), erase(id), "data.not_record_controller"),
        (citizen(), erase(unknown), "data.unknown_record"),
    ];
    for (signer, call, code) in cases {
        let output = chain.run(&signer, call);
        assert_failure(&output, &signer, code);
    }
    assert_success(&chain.run(&citizen(), revoke(id, "seoul.clinic", "treatment")));
    let output = chain.run(&citizen(), revoke(id, "seoul.clinic", "treatment"));
    assert_failure(&output, &citizen(), "data.consent_revoked");
    // Granting again replaces the revoked consent.
    let expires = in_an_hour(&chain);
    assert_success(&chain.run(&citizen(), grant(id, "seoul.clinic", "treatment", expires)));
    assert_success(&chain.run(&clinic(), read_access(id, "treatment")));
    assert_eq!(
        events(&chain, &id),
        vec![
            RecordEvent::Created,
            RecordEvent::ConsentGranted,
            RecordEvent::ConsentRevoked,
            RecordEvent::ConsentGranted,
            RecordEvent::Read
        ]
    );
}

#[test]
fn decisions_cite_the_benefits_current_policy() {
    let mut chain = with_orgs();
    assert_success(&chain.run(&agency(), publish(youth_allowance("seoul.agency", POLICY))));
    assert_eq!(
        benefit(&chain.state, "seoul.youth-allowance").map(|b| b.map(|b| b.policy)),
        Ok(Some(POLICY.to_owned()))
    );
    let decided_at = chain.next_ctx().time;
    assert_success(&chain.run(&agency(), decide(eligibility(1, POLICY))));
    let stored = decision(&chain.state, &doc(1_001))
        .expect("readable")
        .expect("recorded");
    assert_eq!(stored.decided_time, decided_at);
    assert_eq!(
        stored,
        EligibilityDecision {
            decided_time: decided_at,
            ..eligibility(1, POLICY)
        }
    );

    // The agency changes the policy: a decision under the old one is stale.
    let newer = r#"{"all":[{"claim":"age","min":19,"max":39}]}"#;
    assert_success(&chain.run(&agency(), publish(youth_allowance("seoul.agency", newer))));
    let output = chain.run(&agency(), decide(eligibility(2, POLICY)));
    assert_failure(&output, &agency(), "data.stale_policy");
    assert_eq!(decision(&chain.state, &doc(1_002)), Ok(None));
    assert_success(&chain.run(&agency(), decide(eligibility(2, newer))));

    let mut unknown = eligibility(3, newer);
    unknown.benefit = "seoul.nothing".into();
    let cases: Vec<(SigningKey, Call, &str)> = vec![
        (
            agency(),
            decide(eligibility(2, newer)),
            "data.decision_exists",
        ),
        (
            welfare(),
            decide(eligibility(3, newer)),
            "data.not_benefit_organization",
        ),
        (
            outsider(),
            decide(eligibility(3, newer)),
            "data.not_benefit_organization",
        ),
        (agency(), decide(unknown), "data.unknown_benefit"),
        (
            // An organisation without the agency or service role.
            sensors(),
            publish({
                let mut b = youth_allowance("mapo.sensors", POLICY);
                b.id = "mapo.sensor-grant".into();
                b
            }),
            "data.not_a_benefit_publisher",
        ),
        (
            // A key of another organisation.
            welfare(),
            publish(youth_allowance("seoul.agency", POLICY)),
            "data.not_a_benefit_publisher",
        ),
        (
            key(15),
            publish({
                let mut b = youth_allowance("seoul.closed", POLICY);
                b.id = "seoul.closed-benefit".into();
                b
            }),
            "data.not_a_benefit_publisher",
        ),
        (
            // Another organisation cannot take the id.
            clinic(),
            publish(youth_allowance("seoul.clinic", POLICY)),
            "data.benefit_taken",
        ),
    ];
    for (signer, call, code) in cases {
        let output = chain.run(&signer, call);
        assert_failure(&output, &signer, code);
    }
    // A service may publish a benefit of its own.
    let mut own = youth_allowance("seoul.clinic", POLICY);
    own.id = "seoul.clinic-voucher".into();
    assert_success(&chain.run(&clinic(), publish(own)));
}
