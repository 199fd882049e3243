//! The application side of the Malachite BFT engine: simin's consensus context, codecs,
//! signing rules and the loop that drives an [`Application`] from the engine's messages.
//!
//! The node implements [`Application`] and calls [`start`] (or [`run`]) with a
//! [`ConsensusConfig`], the chain id and its validator key.

mod app;
#[cfg(feature = "byzantine-testing")]
pub mod byzantine;
pub mod certificate;
pub mod codec;
pub mod config;
pub mod context;
pub mod error;
pub mod evidence;
pub mod guard;
mod host;
pub mod messages;
mod run;
pub mod signing;
mod streaming;
pub mod types;

pub use app::Application;
pub use codec::SiminCodec;
pub use config::{ConsensusConfig, PersistentPeer, Transport};
pub use context::SiminContext;
pub use error::{CodecError, ConsensusError};
pub use guard::{GuardError, SignGuard};
pub use run::{peer_id, run, start, ConsensusHandle};
pub use signing::{SiminSigner, SiminVerifier};
