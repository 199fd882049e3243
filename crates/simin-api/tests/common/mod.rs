//! A small in-memory `Backend` double and fixtures for the HTTP-layer tests.
//!
//! The double returns real, internally consistent simin values (a signed transaction, a
//! block whose roots match, a certificate signed by the one validator), so tests can check
//! that what crosses HTTP still verifies. The real node is tested against the same routes
//! by the node's own tests.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use simin_api::dto::{BlockLookup, BlockSummary, NodeStatus, NotaryProof, StateLookup, TxLookup};
use simin_api::{Backend, BackendError, BoxFuture, SubmitError, TxOrigin};
use simin_types::{
    merkle, state_keys, vote_sign_bytes, Block, BlockHeader, BlockTime, Call, ChainId,
    CommitCertificate, CommitSignature, Hash, Height, NotaryCall, NotaryRecord, OrgId, Receipt,
    SignedTx, SigningKey, Tx, TxOutcome, Validator, ValidatorSet,
};
use tower::ServiceExt;

pub const CHAIN: &str = "simin-test-1";

/// One committed block at height 1 holding a single anchor and a batch anchor.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub key_seed: [u8; 32],
    pub block: Block,
    pub receipts: Vec<Receipt>,
    pub certificate: CommitCertificate,
    pub validators: ValidatorSet,
    /// Anchored alone by `block.txs[0]`.
    pub single_document: Hash,
    /// Anchored in a batch by `block.txs[1]`.
    pub batch_documents: Vec<Hash>,
}

pub fn key() -> SigningKey {
    SigningKey::from_seed([7; 32])
}

pub fn signed_tx(nonce: u64, call: Call) -> SignedTx {
    let key = key();
    Tx {
        chain_id: ChainId::new(CHAIN).expect("a valid chain id because it is lowercase"),
        signer: key.public_key(),
        nonce,
        expiry_height: Height(100),
        call,
    }
    .sign(&key)
}

impl Fixture {
    pub fn new() -> Fixture {
        let key = key();
        let single_document = Hash::digest(b"certificate of residence");
        let batch_documents: Vec<Hash> = (0u8..3).map(|i| Hash::digest(&[i; 4])).collect();
        let txs = vec![
            signed_tx(
                0,
                Call::Notary(NotaryCall::Anchor {
                    document: single_document,
                }),
            ),
            signed_tx(
                1,
                Call::Notary(NotaryCall::AnchorBatch {
                    documents: batch_documents.clone(),
                }),
            ),
        ];
        let receipts: Vec<Receipt> = txs
            .iter()
            .zip(0u32..)
            .map(|(tx, index)| Receipt {
                tx_hash: tx.hash(),
                height: Height(1),
                index,
                outcome: TxOutcome::Success,
            })
            .collect();
        let validators = ValidatorSet::new(vec![Validator {
            public_key: key.public_key(),
            voting_power: 1,
        }])
        .expect("a valid set because it has one validator with power");
        let header = BlockHeader {
            chain_id: ChainId::new(CHAIN).expect("a valid chain id because it is lowercase"),
            height: Height(1),
            time: BlockTime(1_750_000_000_000),
            prev_block_hash: Hash::ZERO,
            tx_root: Block::compute_tx_root(&txs),
            receipts_root: Receipt::compute_root(&receipts),
            state_root: Hash::digest(b"state"),
            validators_hash: validators.hash(),
            proposer: key.public_key(),
        };
        let block = Block { header, txs };
        let message = vote_sign_bytes(&block.header.chain_id, Height(1), 0, &block.hash());
        let certificate = CommitCertificate {
            height: Height(1),
            round: 0,
            block_hash: block.hash(),
            signatures: vec![CommitSignature {
                validator: key.public_key(),
                signature: key.sign(&message),
            }],
        };
        Fixture {
            key_seed: [7; 32],
            block,
            receipts,
            certificate,
            validators,
            single_document,
            batch_documents,
        }
    }

    pub fn tx_lookup(&self, index: usize) -> TxLookup {
        let tx = self.block.txs[index].clone();
        TxLookup {
            hash: tx.hash(),
            tx,
            height: Height(1),
            index: u32::try_from(index).expect("a fixture index fits in u32 because there are two"),
            receipt: self.receipts[index].clone(),
            header: self.block.header.clone(),
            inclusion_proof: self
                .block
                .tx_proof(index)
                .expect("index in range because the fixture has it"),
            certificate: self.certificate.clone(),
        }
    }

    fn record(&self, tx_index: usize, documents: u32) -> NotaryRecord {
        NotaryRecord {
            organization: OrgId::new("seoul.notary")
                .expect("a valid org id because it is lowercase"),
            signer: key().public_key(),
            height: Height(1),
            time: self.block.header.time,
            tx_hash: self.block.txs[tx_index].hash(),
            documents,
        }
    }

    pub fn notary(&self, document: &Hash) -> Option<NotaryProof> {
        let leaves: Vec<Hash> = self
            .batch_documents
            .iter()
            .map(|d| merkle::leaf_hash(&d.0))
            .collect();
        let (anchor, batch_proof, record) = if *document == self.single_document {
            (*document, None, self.record(0, 1))
        } else {
            let index = self.batch_documents.iter().position(|d| d == document)?;
            let documents = u32::try_from(leaves.len()).expect("three leaves fit in u32");
            (
                merkle::root(&leaves),
                merkle::prove(&leaves, index),
                self.record(1, documents),
            )
        };
        Some(NotaryProof {
            document: *document,
            record,
            anchor,
            batch_proof,
            state_key: state_keys::notary_anchor(&anchor),
            state_proof: vec![0xaa, 0xbb],
            header: self.block.header.clone(),
            certificate: self.certificate.clone(),
            validators: self.validators.clone(),
        })
    }
}

/// The double: answers from a `Fixture`; errors and waits are set by each test.
#[derive(Debug)]
pub struct FakeBackend {
    pub fixture: Fixture,
    pub latest: Height,
    pub submit_error: Mutex<Option<SubmitError>>,
    /// Where the last submitted transaction came from, as the route told the backend.
    pub last_origin: Mutex<Option<TxOrigin>>,
    pub read_error: Mutex<Option<BackendError>>,
    /// Whether `wait_for_commit` finds the transaction committed.
    pub commits: bool,
    pub last_wait: Mutex<Option<Duration>>,
    pub last_limit: Mutex<Option<usize>>,
    /// The state read by `state_value`, at every height.
    pub values: Mutex<std::collections::BTreeMap<Vec<u8>, Vec<u8>>>,
}

impl FakeBackend {
    pub fn new() -> FakeBackend {
        FakeBackend {
            fixture: Fixture::new(),
            latest: Height(1),
            submit_error: Mutex::new(None),
            last_origin: Mutex::new(None),
            read_error: Mutex::new(None),
            commits: true,
            last_wait: Mutex::new(None),
            last_limit: Mutex::new(None),
            values: Mutex::new(std::collections::BTreeMap::new()),
        }
    }

    fn read_error(&self) -> Result<(), BackendError> {
        match self
            .read_error
            .lock()
            .expect("not poisoned because tests do not panic holding it")
            .clone()
        {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl Backend for FakeBackend {
    fn status(&self) -> Result<NodeStatus, BackendError> {
        self.read_error()?;
        let has_block = self.latest > Height::GENESIS;
        Ok(NodeStatus {
            chain_id: ChainId::new(CHAIN).expect("a valid chain id because it is lowercase"),
            latest_height: self.latest,
            latest_block_hash: has_block.then(|| self.fixture.block.hash()),
            latest_block_time: has_block.then_some(self.fixture.block.header.time),
            state_root: self.fixture.block.header.state_root,
            mempool_size: 0,
            validator_count: 1,
            syncing: false,
            sync_target_height: None,
        })
    }

    fn submit_tx(&self, tx: SignedTx, origin: TxOrigin) -> Result<Hash, SubmitError> {
        *self
            .last_origin
            .lock()
            .expect("not poisoned because tests do not panic holding it") = Some(origin);
        match self
            .submit_error
            .lock()
            .expect("not poisoned because tests do not panic holding it")
            .clone()
        {
            Some(e) => Err(e),
            None => Ok(tx.hash()),
        }
    }

    fn wait_for_commit(
        &self,
        _hash: Hash,
        timeout: Duration,
    ) -> BoxFuture<'static, Result<Option<TxLookup>, BackendError>> {
        *self
            .last_wait
            .lock()
            .expect("not poisoned because tests do not panic holding it") = Some(timeout);
        let found = self.commits.then(|| self.fixture.tx_lookup(0));
        Box::pin(async move { Ok(found) })
    }

    fn block(&self, height: Height) -> Result<Option<BlockLookup>, BackendError> {
        self.read_error()?;
        let f = &self.fixture;
        Ok((height == Height(1) && self.latest >= height).then(|| {
            BlockLookup::new(
                f.block.clone(),
                Some(f.certificate.clone()),
                f.receipts.clone(),
            )
        }))
    }

    fn blocks(
        &self,
        _before: Option<Height>,
        limit: usize,
    ) -> Result<Vec<BlockSummary>, BackendError> {
        self.read_error()?;
        *self
            .last_limit
            .lock()
            .expect("not poisoned because tests do not panic holding it") = Some(limit);
        let count = u32::try_from(self.fixture.block.txs.len()).expect("two txs fit in u32");
        Ok(vec![BlockSummary::new(&self.fixture.block.header, count)])
    }

    fn tx(&self, hash: &Hash) -> Result<Option<TxLookup>, BackendError> {
        self.read_error()?;
        let index = self
            .fixture
            .block
            .txs
            .iter()
            .position(|tx| tx.hash() == *hash);
        Ok(index.map(|i| self.fixture.tx_lookup(i)))
    }

    fn state(
        &self,
        key: &[u8],
        height: Option<Height>,
        prove: bool,
    ) -> Result<StateLookup, BackendError> {
        self.read_error()?;
        if let Some(h) = height.filter(|h| *h != Height(1)) {
            return Err(BackendError::HeightNotAvailable {
                height: h,
                latest: self.latest,
            });
        }
        let f = &self.fixture;
        Ok(StateLookup {
            key: key.to_vec(),
            value: (key == b"present").then(|| vec![1, 2, 3]),
            proof: prove.then(|| vec![0xde, 0xad]),
            height: Height(1),
            header: f.block.header.clone(),
            certificate: f.certificate.clone(),
            validators: f.validators.clone(),
        })
    }

    fn state_value(&self, key: &[u8], height: Height) -> Result<Option<Vec<u8>>, BackendError> {
        self.read_error()?;
        if height > self.latest {
            return Err(BackendError::HeightNotAvailable {
                height,
                latest: self.latest,
            });
        }
        Ok(self
            .values
            .lock()
            .expect("not poisoned because tests do not panic holding it")
            .get(key)
            .cloned())
    }

    fn height_at(&self, time: BlockTime) -> Result<Option<Height>, BackendError> {
        self.read_error()?;
        Ok(
            (time >= self.fixture.block.header.time && self.latest >= Height(1))
                .then_some(Height(1)),
        )
    }

    fn notary(&self, document: &Hash) -> Result<Option<NotaryProof>, BackendError> {
        self.read_error()?;
        Ok(self.fixture.notary(document))
    }

    fn metrics(&self) -> String {
        "# TYPE simin_height gauge\nsimin_height 1\n".to_owned()
    }
}

/// A router over a fresh double, and the double to steer it.
pub fn app() -> (Router, Arc<FakeBackend>) {
    app_with(FakeBackend::new())
}

pub fn app_with(backend: FakeBackend) -> (Router, Arc<FakeBackend>) {
    let backend = Arc::new(backend);
    (simin_api::router(backend.clone()), backend)
}

/// A response, collected.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .expect("the body is JSON because the API only sends JSON here")
    }

    pub fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Asserts a problem+json reply with `status` and the type slug `slug`.
    pub fn assert_problem(&self, status: u16, slug: &str) {
        assert_eq!(
            self.status.as_u16(),
            status,
            "status; body {}",
            String::from_utf8_lossy(&self.body)
        );
        assert_eq!(self.content_type(), "application/problem+json");
        let body = self.json();
        assert_eq!(
            body["type"],
            format!("https://simin.dev/problems/{slug}"),
            "body {body}"
        );
        assert_eq!(body["status"], status);
        assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(body["detail"].as_str().is_some_and(|t| !t.is_empty()));
    }
}

pub async fn send(app: &Router, request: Request<Body>) -> Reply {
    let response = app
        .clone()
        .oneshot(request)
        .await
        .expect("routers are infallible because axum's are");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("the body collects because it is in memory")
        .to_bytes()
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

pub async fn get(app: &Router, uri: &str) -> Reply {
    send(
        app,
        Request::get(uri)
            .body(Body::empty())
            .expect("a valid request because the uri is well formed"),
    )
    .await
}

pub async fn post(app: &Router, uri: &str, content_type: &str, body: impl Into<Body>) -> Reply {
    let request = Request::post(uri)
        .header("content-type", content_type)
        .body(body.into())
        .expect("a valid request because the uri is well formed");
    send(app, request).await
}
