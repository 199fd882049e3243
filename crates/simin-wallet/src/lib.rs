//! The citizen's wallet for simin: custody of the holder key, encrypted storage of
//! credentials, receiving them (OpenID4VCI) and presenting them (SD-JWT with Key Binding).
//!
//! This library is shared by the `simin wallet` commands of the CLI and, later, by a web
//! wallet. The store and the protocol steps are pure of tokio: randomness and time
//! (`received_at`, a presentation's `iat`) are passed in by the caller, which keeps
//! every function testable with a seeded generator and a fixed clock. Only the HTTP
//! driver of [`oid4vci`] ([`oid4vci::Oid4vciClient`], feature `http`, on by default)
//! does I/O.
//!
//! - [`store`]: the encrypted on-disk store ([`WalletStore`]);
//! - [`holder`]: the holder identity, a `did:jwk` of the wallet's key ([`Holder`]);
//! - [`oid4vci`]: receiving SD-JWT VCs with the pre-authorized code flow;
//! - [`present`]: reading a stored credential's claims and presenting a subset.

pub mod error;
pub mod holder;
pub mod oid4vci;
pub mod oid4vp;
pub mod present;
pub mod records;
pub mod store;

pub use error::WalletError;
pub use holder::Holder;
pub use oid4vci::Oid4vciError;
pub use oid4vp::Oid4vpError;
pub use present::{
    disclosable_claims, present, read_credential, CredentialView, DisclosableClaim, PresentError,
    PresentationRequest,
};
pub use store::{
    CredentialId, CredentialRecord, CredentialSummary, KdfParams, WalletId, WalletStore,
};
