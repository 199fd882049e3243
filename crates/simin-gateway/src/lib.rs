//! The city's OpenID Connect provider: "Sign in with Citizen Card".
//!
//! A city service (a library, a sports centre, a welfare office) registers on chain
//! (`AuthCall::RegisterService`: client id, exact redirect URIs, the scopes it may ask
//! for) and then signs citizens in with any standard OpenID Connect client: the
//! authorization code flow with PKCE, ID tokens signed with `EdDSA`, userinfo. No
//! blockchain code on the service's side.
//!
//! The citizen approves on the provider's page: it names the service and the claims it
//! asks for, and shows an OpenID4VP 1.0 request (a QR code for a phone, a same-device
//! link). The wallet fetches the request object, signed with the provider's
//! `did:simin` key, presents the citizen card (SD-JWT VC) disclosing only those claims
//! plus the card number, by `direct_post`; the node's verifier decides (issuer
//! accredited, not revoked or suspended, key binding to this request's nonce and to the
//! provider). The service then receives, through the code flow, only the claims of its
//! scopes and a **pairwise subject**: `HMAC-SHA-256(provider secret, sector ‖ card
//! number)`, the sector being the service's organisation, so two organisations cannot
//! link their users and no service learns the card number.
//!
//! Every release is logged on chain (`AuthCall::RecordAccess`): the service, the
//! pairwise subject, the claim names and the SHA-256 of the ID token, never a value.
//! A citizen reads their own log by proving their card to the provider (`/access-log`,
//! or `simin wallet access-log`), which derives their subjects and reads the records.
//!
//! | endpoint | who | what |
//! |---|---|---|
//! | `GET /.well-known/openid-configuration`, `GET /jwks` | services | discovery, the ID token key |
//! | `GET /authorize` | browsers | code flow + PKCE → the approval page |
//! | `GET /login/{id}/status` | the approval page | poll until the wallet answered |
//! | `GET /oid4vp/requests/{id}` | wallets | the signed request object |
//! | `POST /oid4vp/response` | wallets | `direct_post`: `vp_token`, `state` |
//! | `POST /token` | services | code + verifier → ID token, access token |
//! | `GET`/`POST /userinfo` | services | the released claims |
//! | `GET /access-log` | citizens | the approval page of "show my access log" |
//! | `GET /access-log/start` | wallets | the same, as a link for `simin wallet access-log` |
//! | `GET /access-log/{id}` | citizens | the log, once the wallet answered |
//! | `GET /health` | operators, tests | `{ready, waiting_for}`: 503 until the access entries a previous run journaled were replayed |
//!
//! Time and randomness enter here, through [`Clock`] and the operating system's
//! generator; the chain stays deterministic.

mod access_log;
pub mod claims;
mod clock;
mod config;
pub mod demo;
mod error;
mod http;
mod journal;
mod node;
mod pages;
mod provider;
mod sessions;

pub use config::{GatewayConfig, Timeouts};
pub use error::{AuthorizeError, GatewayError, OAuthError};
pub use http::{router, serve};
pub use provider::{
    pairwise_subject, AccessLogWriter, Approval, AuthorizeParams, BrowserOutcome, Gateway,
    TokenParams, WalletAnswer, WALLET_SCHEME,
};

/// The task writing the access log, as [`serve`] runs it.
type AccessLogWriterHandle = tokio::task::JoinHandle<()>;
pub use clock::{Clock, ManualClock, SystemClock};

/// The credential query id of the citizen card in every OpenID4VP request.
pub const CARD_QUERY_ID: &str = "citizen_card";
/// The credential type signing citizens in.
pub const CARD_TYPE: &str = "CitizenCard";
/// The claim the provider always asks for, to derive pairwise subjects; never released.
pub const SUBJECT_CLAIM: &str = "card_number";
/// The OpenID4VP client identifier prefix of a verifier named by a DID.
pub const CLIENT_ID_PREFIX_DID: &str = "decentralized_identifier:";
