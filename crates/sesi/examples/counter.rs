//! The seed tutorial's first example: a visit counter that survives a page refresh. The whole
//! session lives in the signed cookie; the server keeps nothing.
//!
//! ```sh
//! SESI_SECRET=$(cargo run -q -- keygen) cargo run -p sesi --example counter
//! # then open http://127.0.0.1:6543 and refresh
//! ```

use std::error::Error;

use axum::Router;
use axum::routing::get;
use sesi::{Secret, Secrets, Session, SessionError, SessionLayer};

/// `GET /`: one more visit. `?` works on session calls: a `SessionError` is a response.
async fn counter(session: Session) -> Result<String, SessionError> {
    let visits = session.update("counter", |n: &mut i64| {
        *n += 1;
        *n
    })?;
    Ok(format!("You have visited this page {visits} times."))
}

/// The app: one route behind the session layer, with Pyramid's defaults.
pub fn app(secrets: Secrets) -> Router {
    Router::new()
        .route("/", get(counter))
        .layer(SessionLayer::new(secrets))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let secret = std::env::var("SESI_SECRET")
        .map_err(|_| "set SESI_SECRET (for example: SESI_SECRET=$(sesi keygen))")?;
    let addr = std::env::var("SESI_ADDR").unwrap_or_else(|_| "127.0.0.1:6543".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("counter on http://{}", listener.local_addr()?);
    axum::serve(listener, app(Secrets::new(Secret::new(secret)?))).await?;
    Ok(())
}
