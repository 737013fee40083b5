//! Why a [`SessionLayer`](crate::SessionLayer) could not be built.

use sesi_core::SessionConfigError;

/// A setting that cannot work; returned by
/// [`SessionLayerBuilder::build`](crate::SessionLayerBuilder::build).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A cookie attribute is invalid or breaks a browser rule.
    #[error("invalid cookie {what} {value:?}: {why}")]
    Cookie {
        /// Which attribute.
        what: &'static str,
        /// The value given.
        value: String,
        /// The rule it breaks.
        why: &'static str,
    },
    /// A timing rule cannot work.
    #[error(transparent)]
    Session(#[from] SessionConfigError),
    /// A store setting cannot work.
    #[error("invalid store {what} {value:?}: {why}")]
    Store {
        /// Which setting.
        what: &'static str,
        /// The value given.
        value: std::time::Duration,
        /// The rule it breaks.
        why: &'static str,
    },
}
