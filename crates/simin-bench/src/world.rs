//! The cached chain state the verifier reads: a ledger in memory with the city, one
//! accredited agency, its DID (an `assertionMethod` key), the `CitizenCard` schema and a
//! revocation and a suspension list, built by executing real blocks.
//!
//! Everything is derived from fixed seeds and the genesis time, so `fixtures` and
//! `measure` (separate runs) build the same state.

use std::collections::BTreeMap;

use anyhow::{ensure, Context};
use simin_identity::card;
use simin_ledger::{execute_block, genesis_writes, BlockContext, MemoryState};
use simin_types::{
    AccreditationTerms, BlockTime, Call, ChainId, Genesis, GovernanceCall, Height, IdentityCall,
    OrgId, Organization, Relationship, Role, SigningKey, StatusPurpose, StatusUpdate, Tx,
    TxOutcome, Validator, VerificationMethod,
};

/// The issuing agency's organisation id, and its DID.
pub const AGENCY: &str = "seoul.agency";
pub const ISSUER_DID: &str = "did:simin:seoul.agency";
/// The `kid` of the agency's credential-signing key.
pub const ISSUER_KID: &str = "did:simin:seoul.agency#key-1";
/// Bits of each status list.
pub const STATUS_LIST_BITS: u32 = 131_072;
/// Status indexes set in the revocation list (other cards'), so the chunk the verifier
/// reads is not all zeros.
const REVOKED_OTHERS: [u32; 4] = [1, 17, 4_000, 100_000];

const CHAIN_ID: &str = "simin-bench-1";
const CITY_SEED: [u8; 32] = [1; 32];
const VALIDATOR_SEED: [u8; 32] = [100; 32];
const AGENCY_TX_SEED: [u8; 32] = [10; 32];
/// The seed of the agency's credential-signing (assertionMethod) key.
pub const ISSUER_SEED: [u8; 32] = [11; 32];

/// A ledger in memory, and the keys that write to it.
pub struct World {
    pub state: MemoryState,
    genesis_ms: u64,
    height: u64,
    nonces: BTreeMap<[u8; 32], u64>,
}

impl World {
    /// The state after the setup blocks, one per second from `genesis_ms`. Credentials
    /// issued from `genesis_ms + 60 s` on are covered by the DID key and the
    /// accreditation (which runs ten years).
    pub fn new(genesis_ms: u64) -> anyhow::Result<World> {
        let city = SigningKey::from_seed(CITY_SEED);
        let genesis = Genesis {
            identity: Default::default(),
            chain_id: chain_id()?,
            genesis_time: BlockTime(genesis_ms),
            authorities: vec![city.public_key()],
            validators: vec![Validator {
                public_key: SigningKey::from_seed(VALIDATOR_SEED).public_key(),
                voting_power: 1,
            }],
            organizations: vec![],
        };
        let mut state = MemoryState::new();
        state.apply(&genesis_writes(&genesis).context("genesis")?);
        let mut world = World {
            state,
            genesis_ms,
            height: 0,
            nonces: BTreeMap::new(),
        };
        world.setup(&city)?;
        Ok(world)
    }

    fn setup(&mut self, city: &SigningKey) -> anyhow::Result<()> {
        let agency = OrgId::new(AGENCY).context("org id")?;
        let agency_tx = SigningKey::from_seed(AGENCY_TX_SEED);
        self.execute(
            city,
            Call::Governance(GovernanceCall::RegisterOrganization(Organization {
                id: agency.clone(),
                name: "Seoul citizen card agency".into(),
                keys: vec![agency_tx.public_key()],
                roles: vec![Role::Agency, Role::Issuer],
                active: true,
            })),
        )?;
        let schema = card::builtin_schema("CitizenCard").context("built-in schema")?;
        self.execute(
            city,
            Call::Identity(IdentityCall::RegisterSchema {
                credential_type: "CitizenCard".into(),
                schema: schema.into(),
            }),
        )?;
        self.execute(
            city,
            Call::Identity(IdentityCall::Accredit(AccreditationTerms {
                issuer: agency.clone(),
                credential_types: vec!["CitizenCard".into()],
                valid_from: BlockTime(self.genesis_ms),
                valid_until: BlockTime(self.genesis_ms + 10 * 365 * 86_400_000),
                may_accredit: false,
            })),
        )?;
        let issuer_key = ed25519_dalek::SigningKey::from_bytes(&ISSUER_SEED);
        self.execute(
            &agency_tx,
            Call::Identity(IdentityCall::CreateDid {
                organization: agency,
                verification_methods: vec![
                    VerificationMethod {
                        fragment: "key-1".into(),
                        public_key: simin_types::PublicKey(issuer_key.verifying_key().to_bytes()),
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
        )?;
        for (list, purpose) in [
            (0, StatusPurpose::Revocation),
            (1, StatusPurpose::Suspension),
        ] {
            self.execute(
                &agency_tx,
                Call::Identity(IdentityCall::CreateStatusList {
                    list,
                    purpose,
                    size_bits: STATUS_LIST_BITS,
                }),
            )?;
        }
        self.execute(
            &agency_tx,
            Call::Identity(IdentityCall::SetStatus {
                list: 0,
                updates: REVOKED_OTHERS
                    .iter()
                    .map(|&index| StatusUpdate { index, value: true })
                    .collect(),
            }),
        )
    }

    /// Executes one block holding one transaction, which must succeed.
    fn execute(&mut self, key: &SigningKey, call: Call) -> anyhow::Result<()> {
        let nonce = self.nonces.entry(key.public_key().0).or_insert(0);
        let tx = Tx {
            chain_id: chain_id()?,
            signer: key.public_key(),
            nonce: *nonce,
            expiry_height: Height(10_000),
            call,
        }
        .sign(key);
        *nonce += 1;
        self.height += 1;
        let ctx = BlockContext {
            chain_id: chain_id()?,
            height: Height(self.height),
            time: BlockTime(self.genesis_ms + self.height * 1_000),
            proposer: SigningKey::from_seed(VALIDATOR_SEED).public_key(),
        };
        let out = execute_block(&self.state, &ctx, &[tx]).context("execute a setup block")?;
        ensure!(
            out.receipts[0].outcome == TxOutcome::Success,
            "setup transaction failed: {:?}",
            out.receipts[0]
        );
        self.state.apply(&out.writes);
        Ok(())
    }
}

/// Whether `index` is one of the other cards' revoked bits; fixture cards avoid them.
pub fn is_revoked_elsewhere(index: u32) -> bool {
    REVOKED_OTHERS.contains(&index)
}

fn chain_id() -> anyhow::Result<ChainId> {
    ChainId::new(CHAIN_ID).context("chain id")
}
