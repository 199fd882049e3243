//! An OpenID4VCI 1.0 credential issuer for the organisations of a simin chain.
//!
//! An accredited organisation (an agency, a library, a sports centre) runs one
//! [`IssuerService`]: its clerks create credential offers (`POST /admin/offers`), shown
//! to the citizen as a QR code; the citizen's wallet redeems the offer with the
//! pre-authorised code flow (`/token`, `/nonce`, `/credential`) and receives an SD-JWT VC
//! ([`simin_identity::card`]) signed with the key of the organisation's `did:simin`
//! DID that has the `assertionMethod` relationship, bound to the wallet's key, and
//! pointing at two status lists of the organisation on chain (revocation, list 0, and
//! suspension, list 1), whose bits the clerks set through `/admin/credentials/{id}/...`.
//!
//! Privacy by design: the claims of an offer live in the service's database only until
//! the credential is issued; what remains is the credential's type, validity and
//! status-list positions, which are drawn at random so that they reveal no issuance
//! order.
//!
//! | endpoint | who | what |
//! |---|---|---|
//! | `GET /.well-known/openid-credential-issuer` | wallets | issuer metadata: one `dc+sd-jwt` configuration per accredited type |
//! | `GET /.well-known/oauth-authorization-server` | wallets | token endpoint, pre-authorised grant |
//! | `POST /token` | wallets | form: `grant_type`, `pre-authorized_code`, `tx_code` → access token |
//! | `POST /nonce` | wallets | a single-use `c_nonce` |
//! | `POST /credential` | wallets | Bearer token, key proof → `{credentials: [{credential}]}` |
//! | `GET /offers/{id}` | wallets | the offer JSON (offer by reference), while redeemable |
//! | `GET /offers/{id}/qr.svg` | clerks | the offer link as a QR code, while redeemable |
//! | `POST /admin/offers` | clerks | `{credential_configuration_id, claims, tx_code}` → offer |
//! | `GET /admin/credentials[?after=&limit=]` | clerks | issued-credential records |
//! | `GET /admin/credentials/{id}` | clerks | one record |
//! | `POST /admin/credentials/{id}/{suspend,unsuspend,revoke}` | clerks | `SetStatus` on chain, once committed |
//! | `POST /credentials/issue` | the organisation's systems | W3C VC API: an unsigned VC 2.0 credential → `201 {verifiableCredential}` (eddsa-jcs-2022) |
//! | `GET /health` | operators, tests | `{ready, waiting_for}`; 503 until the status lists are committed on chain |
//!
//! Offers and issuance answer 503 `not-ready` (problem+json) until the organisation's
//! status lists are committed on chain: a credential pointing at a list that does not
//! exist yet would be refused by every verifier. The service creates them itself, in
//! the background, from [`router`] on ([`IssuerService::start_preparing`]).
//!
//! Admin endpoints need `Authorization: Bearer <admin token>`. The offer id and the QR
//! URL are as secret as the pre-authorised code they carry: they are handed to the one
//! citizen the offer is for, and stop working once the code is redeemed or expires.
//!
//! Time and randomness live here, never in `simin-identity`: the service reads a
//! [`Clock`] (tests advance a [`ManualClock`]) and the operating system's generator.

pub mod clock;
pub mod config;
pub mod error;
mod http;
mod issuance;
mod metadata;
mod node;
mod nonce;
mod offers;
pub mod proof;
mod service;
mod status;
mod store;
#[cfg(test)]
mod store_tests;
mod vc_api;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{
    init_home, HomeKeys, InitReport, IssuerConfig, IssuerHome, IssuerSecrets, CONFIG_FILE,
};
pub use error::{IssuerError, ProtocolError, RequestError};
pub use http::{router, serve};
pub use offers::{OfferCreated, OfferRequest};
pub use service::IssuerService;
pub use status::{StatusAction, StatusChange};
pub use store::{CredentialRecord, CredentialState};

/// The credential format of every configuration: SD-JWT VC.
pub const FORMAT_SD_JWT_VC: &str = "dc+sd-jwt";
/// The grant type of the pre-authorised code flow.
pub const GRANT_PRE_AUTHORIZED_CODE: &str = "urn:ietf:params:oauth:grant-type:pre-authorized_code";
/// The status list of the issuer that records revocations.
pub const REVOCATION_LIST: u32 = 0;
/// The status list of the issuer that records suspensions.
pub const SUSPENSION_LIST: u32 = 1;
