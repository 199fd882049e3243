//! The application side of the Malachite BFT engine: simin's consensus context, codecs,
//! signing rules and the loop that drives an [`Application`] from the engine's messages.

pub mod codec;
pub mod config;
pub mod context;
pub mod error;
pub mod messages;
pub mod signing;
pub mod types;

pub use codec::SiminCodec;
pub use context::SiminContext;
pub use error::{CodecError, ConsensusError};
pub use signing::{SiminSigner, SiminVerifier};
