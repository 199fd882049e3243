//! Test fixtures: keys, a genesis, and a chain over `MemoryState` that applies write sets.
#![allow(dead_code)]

use simin_ledger::{
    execute_block, genesis_writes, BlockContext, BlockError, BlockOutput, MemoryState, StateView,
};
use simin_types::{
    decode, state_keys, BlockTime, Call, ChainId, Genesis, GovernanceCall, Hash, Height,
    NotaryCall, NotaryRecord, OrgId, Organization, PublicKey, Role, SignedTx, SigningKey, Tx,
    TxOutcome, Validator,
};

pub const GENESIS_TIME: BlockTime = BlockTime(1_700_000_000_000);

pub fn key(seed: u8) -> SigningKey {
    SigningKey::from_seed([seed; 32])
}

pub fn authority() -> SigningKey {
    key(1)
}

/// A key of the genesis notary organisation `city.notary`.
pub fn notary() -> SigningKey {
    key(2)
}

pub fn outsider() -> SigningKey {
    key(3)
}

pub fn chain_id() -> ChainId {
    ChainId::new("simin-test-1").expect("a valid chain id")
}

pub fn org_id(text: &str) -> OrgId {
    OrgId::new(text).expect("a valid organisation id")
}

pub fn org(id: &str, keys: &[&SigningKey], roles: &[Role]) -> Organization {
    Organization {
        id: org_id(id),
        name: format!("The {id}"),
        keys: keys.iter().map(|k| k.public_key()).collect(),
        roles: roles.to_vec(),
        active: true,
    }
}

pub fn genesis() -> Genesis {
    Genesis {
        identity: Default::default(),
        chain_id: chain_id(),
        genesis_time: GENESIS_TIME,
        authorities: vec![authority().public_key()],
        validators: vec![Validator {
            public_key: key(100).public_key(),
            voting_power: 1,
        }],
        organizations: vec![org("city.notary", &[&notary()], &[Role::Notary])],
    }
}

pub fn register(org: Organization) -> Call {
    Call::Governance(GovernanceCall::RegisterOrganization(org))
}

pub fn update(org: Organization) -> Call {
    Call::Governance(GovernanceCall::UpdateOrganization(org))
}

pub fn deactivate(id: &str) -> Call {
    Call::Governance(GovernanceCall::DeactivateOrganization { id: org_id(id) })
}

pub fn anchor(document: Hash) -> Call {
    Call::Notary(NotaryCall::Anchor { document })
}

pub fn anchor_batch(documents: Vec<Hash>) -> Call {
    Call::Notary(NotaryCall::AnchorBatch { documents })
}

pub fn doc(n: u64) -> Hash {
    Hash::digest(&n.to_le_bytes())
}

pub fn sign(key: &SigningKey, nonce: u64, call: Call) -> SignedTx {
    Tx {
        chain_id: chain_id(),
        signer: key.public_key(),
        nonce,
        expiry_height: Height(1_000),
        call,
    }
    .sign(key)
}

/// A chain in memory: the state after the last block, and that block's height.
#[derive(Debug)]
pub struct Chain {
    pub state: MemoryState,
    pub height: Height,
}

impl Chain {
    pub fn new() -> Chain {
        Chain::with_genesis(&genesis())
    }

    pub fn with_genesis(genesis: &Genesis) -> Chain {
        let mut state = MemoryState::new();
        state.apply(&genesis_writes(genesis).expect("the test genesis is valid"));
        Chain {
            state,
            height: Height::GENESIS,
        }
    }

    /// The context of the next block: one second per height after genesis.
    pub fn next_ctx(&self) -> BlockContext {
        let height = self.height.next().expect("test heights are small");
        BlockContext {
            chain_id: chain_id(),
            height,
            time: BlockTime(GENESIS_TIME.0 + 1_000 * height.0),
            proposer: key(100).public_key(),
        }
    }

    /// Executes and commits a block; on refusal the state is unchanged.
    pub fn try_block(&mut self, txs: &[SignedTx]) -> Result<BlockOutput, BlockError> {
        let ctx = self.next_ctx();
        let output = execute_block(&self.state, &ctx, txs)?;
        self.state.apply(&output.writes);
        self.height = ctx.height;
        Ok(output)
    }

    pub fn block(&mut self, txs: &[SignedTx]) -> BlockOutput {
        self.try_block(txs).expect("the block is valid")
    }

    /// The nonce `key` must use next.
    pub fn nonce(&self, key: &SigningKey) -> u64 {
        self.get::<u64>(&state_keys::account_nonce(&key.public_key()))
            .unwrap_or(0)
    }

    /// Signs `call` with `key`'s next nonce and executes it alone in a block.
    pub fn run(&mut self, key: &SigningKey, call: Call) -> BlockOutput {
        let tx = sign(key, self.nonce(key), call);
        self.block(&[tx])
    }

    pub fn get<T: borsh::BorshDeserialize>(&self, key: &[u8]) -> Option<T> {
        let bytes = self.state.get(key).expect("memory never fails")?;
        Some(decode("test value", &bytes, usize::MAX).expect("the ledger wrote it"))
    }

    pub fn organization(&self, id: &str) -> Option<Organization> {
        self.get(&state_keys::organization(&org_id(id)))
    }

    pub fn owner_of(&self, key: &PublicKey) -> Option<OrgId> {
        self.get(&state_keys::organization_of_key(key))
    }

    pub fn record(&self, hash: &Hash) -> Option<NotaryRecord> {
        self.get(&state_keys::notary_anchor(hash))
    }
}

/// The single outcome of a one-transaction block.
pub fn outcome(output: &BlockOutput) -> &TxOutcome {
    assert_eq!(output.receipts.len(), 1, "one transaction, one receipt");
    &output.receipts[0].outcome
}

pub fn assert_success(output: &BlockOutput) {
    assert_eq!(outcome(output), &TxOutcome::Success);
}

/// Asserts the failure code, and that the block wrote only the signer's nonce and the
/// chain-meta key: a failing transaction changes nothing else.
pub fn assert_failure(output: &BlockOutput, signer: &SigningKey, code: &str) {
    match outcome(output) {
        TxOutcome::Failure { code: got, .. } => assert_eq!(got, code),
        TxOutcome::Success => panic!("expected failure {code}, got success"),
    }
    let keys: Vec<&Vec<u8>> = output.writes.keys().collect();
    let mut expected = [
        state_keys::account_nonce(&signer.public_key()),
        simin_ledger::chain_last_block_key(),
    ];
    expected.sort();
    assert_eq!(keys, expected.iter().collect::<Vec<_>>());
}
