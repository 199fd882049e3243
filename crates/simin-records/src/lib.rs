//! An organisation's vault of personal administrative records (a welfare application, a
//! move-in report) for a simin chain.
//!
//! The content lives here only, sealed with XChaCha20-Poly1305 under a random key of its
//! own ([`seal`]); the chain holds the record's commitment (`SHA-256(nonce ‖
//! ciphertext)`), the holder organisation, the owner's per-record pseudonymous key, the
//! consents the owner grants and revokes, and a log of every access. The vault releases
//! content only against a committed `LogAccess` of the reader (which the ledger refuses
//! without a valid consent) and destroys the key when the record is erased
//! (crypto-shredding): the ciphertext may stay, it still matches the commitment, and
//! nobody can read it again.
//!
//! | endpoint | who | what |
//! |---|---|---|
//! | `POST /admin/records` | the holder's clerks (admin bearer token) | `{kind, owner_public_key, content}` → seal, `CreateRecord` on chain → `201 {id, commitment, height, tx_hash}` |
//! | `GET /records/{id}` | anyone | kind, commitment, heights and the sealed bytes (no key) |
//! | `POST /records/{id}/read` | a reading organisation | `{organization, purpose, tx_hash, signature}`: its committed `LogAccess`, signed over [`read_request_bytes`] → the content; 403 with the reason when the access is not logged (no consent), 410 once erased |
//! | `POST /records/{id}/erase` | the owner (`{tx_hash}` of a committed `EraseRecord`), or clerks (admin token, no body: the vault erases as holder) | destroys the key → `{id, erased_height, commitment}` |
//! | `GET /health` | operators, tests | `{ready, waiting_for}`: 503 until the node has a block and lists the holder's vault key |
//!
//! A read redeems its `LogAccess` once, within `read_window_blocks` of its block, so the
//! chain's log counts every release. An erasure the chain logged without telling the
//! vault is applied at the next request for the record.
//!
//! What erasure guarantees, and what it does not, is described in [`store`]'s
//! documentation: the key leaves the database and the process; copies of old disk
//! blocks are the operator's media policy.

pub mod error;
mod http;
mod node;
pub mod seal;
mod service;
pub mod store;

pub use error::{RequestError, VaultError};
pub use http::{router, serve};
pub use service::{
    read_request_bytes, CreateRequest, Created, EraseRequest, Erased, ReadAnswer, ReadRequest,
    Vault, VaultConfig, VaultSecrets, CONTENT_BYTES_MAX, READ_WINDOW_BLOCKS_DEFAULT,
};
pub use store::RecordMeta;
