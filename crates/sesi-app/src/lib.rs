//! The sesi tutorial app: a visit counter, a shopping cart and a session inspector on top of the
//! `sesi` session layer, plus the `sesi` command line (`serve`, `cookie decode|encode`, `keygen`).
//!
//! ```no_run
//! use sesi::{Secret, Secrets};
//! use sesi_app::Settings;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let settings = Settings::new(Secrets::new(Secret::generate()?));
//! let app = sesi_app::app(&settings)?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:6543").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod catalog;
pub mod cli;
mod cookie_format;
mod error;
mod headers;
pub mod i18n;
pub(crate) mod routes;
mod settings;
mod stores;

pub use cookie_format::{CookieFormatName, FormatKeyError, UnknownCookieFormat};
pub use error::{ApiError, AppError, AppResponder};
pub use routes::AppState;
pub use settings::{DEFAULT_PROBATION, MEMORY_STORE_CAPACITY, Settings, SettingsError};
pub use stores::{
    OpenStoreError, REDIS_SCHEMES, RedisTlsFiles, SQL_PREFIXES, SQL_SWEEP_INTERVAL, StoreChoice,
    redact_url,
};

use std::sync::Arc;

use sesi::core::store::SessionStore;

/// The app's router with cookie sessions, built from `settings` (its `store` is not opened: use
/// [`app_with_store`] with [`Settings::open_store`] for that).
///
/// # Errors
/// A [`SettingsError`] when the session settings or keys are invalid.
pub fn app(settings: &Settings) -> Result<axum::Router, SettingsError> {
    app_with_store(settings, None)
}

/// The app's router, keeping sessions in `store` when given.
///
/// # Errors
/// A [`SettingsError`] when the session settings or keys are invalid.
pub fn app_with_store(
    settings: &Settings,
    store: Option<Arc<dyn SessionStore>>,
) -> Result<axum::Router, SettingsError> {
    Ok(routes::router(settings.layer_with(store)?))
}
