//! `GET /cart` and its forms, the HTML presenter of [`CartCommand`]: every form is a CSRF-checked
//! POST that answers 303 to `/cart` (post/redirect/get) with a flash message shown exactly once.

use askama::Template;
use axum::http::{HeaderMap, Uri};
use axum::response::{Html, Redirect};
use serde::Deserialize;
use std::time::Duration;

use sesi::{Expiry, Session, SessionError};

use super::cart_command::{CartCommand, ChangeError, Done, load};
use super::csrf::{CsrfForm, NoFields};
use super::page::{Chrome, render};
use crate::catalog::{self, CartError, PRODUCTS, PricedCart, Product};
use crate::error::AppError;
use crate::i18n::{Lang, Texts};

#[derive(Template)]
#[template(path = "cart.html")]
struct CartPage {
    t: &'static Texts,
    flashes: Vec<String>,
    errors: Vec<String>,
    cart: PricedCart,
    products: &'static [Product],
    csrf_token: String,
    /// The visitor chose "remember me".
    remembered: bool,
}

/// How long "remember me" keeps a visitor.
pub(crate) const REMEMBER_FOR: Duration = Duration::from_secs(30 * 24 * 3600);

pub(crate) async fn page(
    session: Session,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Html<String>, AppError> {
    let chrome = Chrome::new(&session, &uri, &headers, true);
    render(&CartPage {
        t: chrome.t,
        flashes: chrome.flashes,
        errors: chrome.errors,
        cart: catalog::price(&load(&session)),
        products: &PRODUCTS,
        csrf_token: session.get_csrf_token(),
        remembered: session.expiry() == Expiry::MaxAge(REMEMBER_FOR),
    })
}

/// The "remember me" form: a checkbox, sent only when ticked.
#[derive(Deserialize)]
pub(crate) struct RememberForm {
    remember: Option<String>,
}

/// `POST /cart/remember`: the session's own expiry, 30 days after the last visit or the
/// layer's default (a cookie that ends with the browser, in `sesi serve`'s default settings).
pub(crate) async fn remember(
    session: Session,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<RememberForm>,
) -> Result<Redirect, AppError> {
    let t = Lang::resolve(&session, None, &headers).texts();
    let (expiry, message) = match form.remember {
        Some(_) => (Expiry::MaxAge(REMEMBER_FOR), t.remembered),
        None => (Expiry::Default, t.not_remembered),
    };
    session
        .set_expiry(expiry)
        .map_err(|err| AppError::internal(&err))?;
    flash_if_fits(&session, message, "")?;
    Ok(Redirect::to("/cart"))
}

/// The fields of the line forms.
#[derive(Deserialize)]
pub(crate) struct LineForm {
    product_id: String,
    quantity: Option<String>,
}

impl LineForm {
    /// The quantity field; anything but an integer is out of range (reported as such, not as a
    /// 400).
    fn quantity(&self) -> i64 {
        self.quantity
            .as_deref()
            .and_then(|q| q.trim().parse().ok())
            .unwrap_or(0)
    }
}

pub(crate) async fn add(
    session: Session,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<LineForm>,
) -> Result<Redirect, AppError> {
    let quantity = form.quantity();
    let command = CartCommand::Add {
        product_id: form.product_id,
        quantity,
    };
    present(&session, &headers, &command)
}

pub(crate) async fn update(
    session: Session,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<LineForm>,
) -> Result<Redirect, AppError> {
    let quantity = form.quantity();
    let command = CartCommand::SetQuantity {
        product_id: form.product_id,
        quantity,
    };
    present(&session, &headers, &command)
}

pub(crate) async fn remove(
    session: Session,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<LineForm>,
) -> Result<Redirect, AppError> {
    let command = CartCommand::Remove {
        product_id: form.product_id,
    };
    present(&session, &headers, &command)
}

pub(crate) async fn empty(
    session: Session,
    headers: HeaderMap,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Result<Redirect, AppError> {
    present(&session, &headers, &CartCommand::Empty)
}

/// Runs `command` and flashes its outcome in the visitor's language: done, or a refusal the
/// visitor can act on. An unknown product or a broken session is an error page instead.
fn present(
    session: &Session,
    headers: &HeaderMap,
    command: &CartCommand,
) -> Result<Redirect, AppError> {
    let t = Lang::resolve(session, None, headers).texts();
    let (queue, message) = match command.execute(session) {
        Ok(Done::Added(product)) => ("", format!("{} {}", t.added, product.name)),
        Ok(Done::Updated(product)) => ("", format!("{} {}", t.updated, product.name)),
        Ok(Done::Removed(product)) => ("", format!("{} {}", t.removed, product.name)),
        Ok(Done::Emptied) => ("", t.emptied.to_owned()),
        Err(ChangeError::Rule(CartError::BadQuantity)) => ("error", t.err_quantity.to_owned()),
        Err(ChangeError::Rule(CartError::NotInCart)) => ("error", t.err_not_in_cart.to_owned()),
        Err(ChangeError::Rule(CartError::TooManyLines)) => {
            ("error", t.err_too_many_lines.to_owned())
        }
        Err(ChangeError::TooLarge { bytes, limit }) => {
            tracing::warn!(
                bytes,
                limit,
                "cart change refused: the session would be too large"
            );
            ("error", t.err_too_large.to_owned())
        }
        Err(err) => return Err(command.error(err)),
    };
    if !flash_if_fits(session, &message, queue)? && queue == "error" {
        // The refusal cannot even be queued as a flash: say it on an error page instead.
        return Err(AppError::unprocessable("cart_refused", message));
    }
    Ok(Redirect::to("/cart"))
}

/// Queues `message` as a flash unless that would make the session too large for its cookie (the
/// redirect would then become a 500 and lose the message): the queue is then left as it was and
/// `false` is returned.
fn flash_if_fits(session: &Session, message: &str, queue: &str) -> Result<bool, AppError> {
    match session.try_flash(message, queue, true) {
        Ok(()) => Ok(true),
        Err(SessionError::TooLarge { bytes, .. }) => {
            tracing::warn!(
                queue,
                bytes,
                "flash message dropped: the session would not fit in a cookie"
            );
            Ok(false)
        }
        Err(err) => Err(AppError::internal(&err)),
    }
}
