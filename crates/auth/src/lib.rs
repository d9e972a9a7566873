//! Auth primitives shared by the spec, the client runtime and the server runtime, so the
//! three agree by construction: [`Secret`] (never shown), the PAT format and its parser
//! ([`PatFormat::split`]), and the scope rule ([`ScopeRule::satisfies`]).

mod pat;
mod scope;
mod secret;

pub use pat::{PatError, PatFormat};
pub use scope::ScopeRule;
pub use secret::Secret;
