//! The seed tutorial's second example: a shopping cart that survives a refresh. It shows typed
//! access to the session (the cart is a struct), flash messages shown exactly once, a CSRF token
//! on every form, and the 4096-byte cookie limit met with `try_update` instead of a failed page.
//!
//! ```sh
//! SESI_SECRET=$(cargo run -q -- keygen) cargo run -p sesi --example cart
//! # then open http://127.0.0.1:6543
//! ```

use std::collections::BTreeMap;
use std::error::Error;

use axum::Form;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use sesi::{Secret, Secrets, Session, SessionError, SessionLayer};

/// What the shop sells: id, name, price in rupiah. Prices live on the server, never in the cookie.
const PRODUCTS: [(&str, &str, u64); 3] = [
    ("kopi-tubruk", "Kopi Tubruk", 15_000),
    ("es-teh-manis", "Es Teh Manis", 8_000),
    ("nasi-goreng", "Nasi Goreng", 25_000),
];

/// The cart as the session keeps it: product id -> quantity.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Cart {
    lines: BTreeMap<String, u32>,
}

/// `GET /`: the cart, the messages queued by the last form, and the forms.
async fn show(session: Session) -> Result<Html<String>, SessionError> {
    let cart: Cart = session.get("cart")?.unwrap_or_default();
    let notices: Vec<String> = session.pop_flash("")?;
    let errors: Vec<String> = session.pop_flash("error")?;
    let token = session.get_csrf_token();
    let mut page = String::from("<!doctype html><title>cart</title>");
    for text in notices.iter().chain(&errors) {
        page.push_str(&format!("<p class=\"flash\">{text}</p>"));
    }
    let mut total = 0;
    for (id, quantity) in &cart.lines {
        if let Some((_, name, price)) = PRODUCTS.iter().find(|(p, ..)| p == id) {
            total += price * u64::from(*quantity);
            page.push_str(&format!("<p class=\"line\">{quantity} x {name}</p>"));
        }
    }
    page.push_str(&format!("<p id=\"total\">Total: Rp {total}</p>"));
    for (id, name, _) in PRODUCTS {
        page.push_str(&format!(
            "<form method=\"post\" action=\"/add\"><input type=\"hidden\" name=\"csrf_token\" \
             value=\"{token}\"><button name=\"product\" value=\"{id}\">Add {name}</button></form>"
        ));
    }
    page.push_str(&format!(
        "<form method=\"post\" action=\"/empty\"><input type=\"hidden\" name=\"csrf_token\" \
         value=\"{token}\"><button>Empty the cart</button></form>"
    ));
    Ok(Html(page))
}

/// The fields of the forms.
#[derive(Deserialize)]
struct CartForm {
    csrf_token: String,
    product: Option<String>,
}

/// `POST /add`: one more of a product, unless the cookie is full.
async fn add(session: Session, Form(form): Form<CartForm>) -> Result<Redirect, Response> {
    if !session.check_csrf_token(&form.csrf_token) {
        return Err((StatusCode::FORBIDDEN, "missing or wrong CSRF token").into_response());
    }
    let product = form.product.as_deref().unwrap_or_default();
    let Some(&(id, name, _)) = PRODUCTS.iter().find(|(p, ..)| *p == product) else {
        return Err((StatusCode::NOT_FOUND, "there is no such product").into_response());
    };
    let added = session.try_update("cart", |cart: &mut Cart| {
        *cart.lines.entry(id.to_owned()).or_default() += 1;
    });
    let (message, queue) = match added {
        Ok(()) => (format!("Added {name}."), ""),
        // The change would not fit in a cookie: nothing was changed, and the visitor is told.
        Err(SessionError::TooLarge { .. }) => ("Your cart is full.".to_owned(), "error"),
        Err(err) => return Err(err.into_response()),
    };
    // A message that no longer fits is dropped rather than failing the page.
    let _ = session.try_flash(&message, queue, true);
    Ok(Redirect::to("/"))
}

/// `POST /empty`.
async fn empty(session: Session, Form(form): Form<CartForm>) -> Result<Redirect, Response> {
    if !session.check_csrf_token(&form.csrf_token) {
        return Err((StatusCode::FORBIDDEN, "missing or wrong CSRF token").into_response());
    }
    session.remove("cart");
    session
        .flash("Your cart is empty.", "", true)
        .map_err(IntoResponse::into_response)?;
    Ok(Redirect::to("/"))
}

/// The app: three routes behind the session layer.
pub fn app(secrets: Secrets) -> Router {
    Router::new()
        .route("/", get(show))
        .route("/add", post(add))
        .route("/empty", post(empty))
        .layer(SessionLayer::new(secrets))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let secret = std::env::var("SESI_SECRET")
        .map_err(|_| "set SESI_SECRET (for example: SESI_SECRET=$(sesi keygen))")?;
    let addr = std::env::var("SESI_ADDR").unwrap_or_else(|_| "127.0.0.1:6543".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("cart on http://{}", listener.local_addr()?);
    axum::serve(listener, app(Secrets::new(Secret::new(secret)?))).await?;
    Ok(())
}
