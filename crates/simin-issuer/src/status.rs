//! Suspending, lifting and revoking issued credentials: one `SetStatus` transaction of
//! the organisation's key per change, waited for until committed.

use serde::{Deserialize, Serialize};
use simin_types::{IdentityCall, StatusUpdate};
use tracing::info;

use crate::error::RequestError;
use crate::service::IssuerService;
use crate::store::{CredentialRecord, CredentialState};
use crate::{REVOCATION_LIST, SUSPENSION_LIST};

/// A change of a credential's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusAction {
    /// Sets its suspension bit (a lost phone).
    Suspend,
    /// Clears its suspension bit (the phone was found).
    Unsuspend,
    /// Sets its revocation bit, for good.
    Revoke,
}

impl StatusAction {
    /// The action named in `/admin/credentials/{id}/{action}`.
    pub fn parse(text: &str) -> Option<StatusAction> {
        match text {
            "suspend" => Some(StatusAction::Suspend),
            "unsuspend" => Some(StatusAction::Unsuspend),
            "revoke" => Some(StatusAction::Revoke),
            _ => None,
        }
    }
}

/// What a status change did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    pub credential_id: String,
    pub action: StatusAction,
    pub state: CredentialState,
    /// `did:simin:<org>/status/<n>`.
    pub status_list: String,
    pub index: u32,
    /// The height of the block that committed the change; the bit reads changed from
    /// the state after it.
    pub height: u64,
    pub tx_hash: String,
}

impl IssuerService {
    /// The record of credential `id`.
    pub async fn credential_record(&self, id: &str) -> Result<CredentialRecord, RequestError> {
        let not_found = || RequestError::NotFound {
            what: "credential",
            id: id.chars().take(64).collect(),
        };
        if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(not_found());
        }
        let key = id.to_owned();
        self.db(move |store| store.credential(&key))
            .await?
            .ok_or_else(not_found)
    }

    /// Issued credentials in id order, after `after`, at most `limit` (at most 1000).
    pub async fn credential_records(
        &self,
        after: Option<String>,
        limit: usize,
    ) -> Result<Vec<CredentialRecord>, RequestError> {
        Ok(self
            .db(move |store| store.credentials(after.as_deref(), limit))
            .await?)
    }

    /// Applies `action` to credential `id` on chain and records it.
    pub async fn set_status(
        &self,
        id: &str,
        action: StatusAction,
    ) -> Result<StatusChange, RequestError> {
        let mut record = self.credential_record(id).await?;
        if record.state == CredentialState::Revoked {
            return Err(RequestError::Conflict(format!(
                "credential {id} is revoked; its status can no longer change"
            )));
        }
        let (list, index, value, state) = match action {
            StatusAction::Suspend => (
                SUSPENSION_LIST,
                record.suspension_index,
                true,
                CredentialState::Suspended,
            ),
            StatusAction::Unsuspend => (
                SUSPENSION_LIST,
                record.suspension_index,
                false,
                CredentialState::Active,
            ),
            StatusAction::Revoke => (
                REVOCATION_LIST,
                record.revocation_index,
                true,
                CredentialState::Revoked,
            ),
        };
        self.ensure_status_lists().await?;
        let committed = self
            .node
            .submit(IdentityCall::SetStatus {
                list,
                updates: vec![StatusUpdate { index, value }],
            })
            .await?;
        record.state = state;
        record.state_height = Some(committed.height);
        let stored = record.clone();
        self.db(move |store| store.update_credential(&stored))
            .await?;
        info!(credential_id = %record.id, ?action, height = committed.height, "status changed");
        Ok(StatusChange {
            credential_id: record.id,
            action,
            state,
            status_list: format!("{}/status/{list}", self.did),
            index,
            height: committed.height,
            tx_hash: committed.tx_hash,
        })
    }
}
