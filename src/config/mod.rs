//! Configuration: TOML → raw structs (unknown keys rejected) → one validated `Config`.
//! Every error names its key path; all errors are reported at once.

pub mod model;
pub mod secret;

pub use model::*;
pub use secret::{Secret, SecretError, SecretSource};
