//! Key rotation: a new secret signs, the previous one still verifies, and a cookie the previous
//! one signed is re-signed with the new one on its next visit. Once every visitor has been back
//! (or one idle timeout has passed), the previous secret can be dropped.
//!
//! ```sh
//! SESI_SECRET=$(cargo run -q -- keygen) SESI_OLD_SECRET=... cargo run -p sesi --example rotation
//! ```

use std::error::Error;

use axum::Router;
use axum::routing::get;
use sesi::{CookieStatus, Secret, SecretError, Secrets, Session, SessionError, SessionLayer};

/// `GET /`: counts the visit and says which secret verified the visitor's cookie.
async fn visit(session: Session) -> Result<String, SessionError> {
    let visits = session.update("counter", |n: &mut i64| {
        *n += 1;
        *n
    })?;
    let signed_by = match session.status() {
        CookieStatus::Valid => "the current secret",
        CookieStatus::ValidOldKey { .. } => {
            "the previous secret; this response re-signs it with the current one"
        }
        _ => "nothing yet: this is a new session",
    };
    Ok(format!(
        "Visit {visits}. Your cookie was signed by {signed_by}."
    ))
}

/// The app: `current` signs every cookie; `previous` only verifies, during the rotation.
///
/// # Errors
/// Never with one fallback (up to three are allowed).
pub fn app(current: Secret, previous: Secret) -> Result<Router, SecretError> {
    let secrets = Secrets::new(current).with_fallback(previous)?;
    Ok(Router::new()
        .route("/", get(visit))
        .layer(SessionLayer::new(secrets)))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let current = std::env::var("SESI_SECRET").map_err(|_| "set SESI_SECRET, the new secret")?;
    let previous = std::env::var("SESI_OLD_SECRET")
        .map_err(|_| "set SESI_OLD_SECRET, the secret being rotated out")?;
    let addr = std::env::var("SESI_ADDR").unwrap_or_else(|_| "127.0.0.1:6543".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("rotation on http://{}", listener.local_addr()?);
    let app = app(Secret::new(current)?, Secret::new(previous)?)?;
    axum::serve(listener, app).await?;
    Ok(())
}
