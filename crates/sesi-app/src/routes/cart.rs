//! `GET /cart` and its forms. Every form is a CSRF-checked POST that answers 303 to `/cart`
//! (post/redirect/get) with a flash message shown exactly once.

use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{Html, Redirect};
use serde::Deserialize;
use sesi::{Session, SessionError};

use super::{Chrome, check_csrf, render};
use crate::catalog::{self, CART_KEY, Cart, CartError, PRODUCTS, PricedCart, Product};
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
}

/// The session's cart; a cart that is not a map of ids to quantities is treated as empty.
pub(crate) fn load(session: &Session) -> Cart {
    session
        .get::<Cart>(CART_KEY)
        .unwrap_or_else(|err| {
            tracing::warn!(%err, "unreadable cart in session; showing an empty cart");
            None
        })
        .unwrap_or_default()
}

/// Why a cart change did not happen.
#[derive(Debug)]
pub(crate) enum ChangeError {
    Rule(CartError),
    TooLarge { bytes: usize },
    Session(SessionError),
}

/// Applies `f` to the cart and stores the result, but only if `f` succeeds and the session still
/// fits in a cookie; otherwise the session is left exactly as it was.
pub(crate) fn change<R>(
    session: &Session,
    f: impl FnOnce(&mut Cart) -> Result<R, CartError>,
) -> Result<R, ChangeError> {
    let mut cart = load(session);
    let result = f(&mut cart).map_err(ChangeError::Rule)?;
    let stored = if cart.is_empty() {
        session.remove(CART_KEY);
        Ok(())
    } else {
        session.try_insert(CART_KEY, &cart)
    };
    match stored {
        Ok(()) => Ok(result),
        Err(SessionError::TooLarge { bytes, .. }) => Err(ChangeError::TooLarge { bytes }),
        Err(err) => Err(ChangeError::Session(err)),
    }
}

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
    })
}

#[derive(Deserialize)]
pub(crate) struct LineForm {
    csrf_token: Option<String>,
    product_id: String,
    quantity: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct TokenForm {
    csrf_token: Option<String>,
}

fn parse<T>(form: Result<Form<T>, FormRejection>) -> Result<T, AppError> {
    form.map(|Form(f)| f)
        .map_err(|e| AppError::bad_request(format!("bad form: {}", e.body_text())))
}

/// A quantity field; anything but an integer is out of range (reported as such, not as a 400).
fn quantity(field: Option<&str>) -> i64 {
    field.and_then(|q| q.trim().parse().ok()).unwrap_or(0)
}

enum Edit {
    Add,
    Update,
    Remove,
}

/// Runs one cart edit and flashes its outcome in the visitor's language.
fn edit(
    session: &Session,
    headers: &HeaderMap,
    form: LineForm,
    kind: Edit,
) -> Result<Redirect, AppError> {
    check_csrf(session, headers, form.csrf_token.as_deref())?;
    let t = Lang::resolve(session, None, headers).texts();
    let qty = quantity(form.quantity.as_deref());
    let id = form.product_id.as_str();
    let (outcome, done) = match kind {
        Edit::Add => (change(session, |c| catalog::add(c, id, qty)), t.added),
        Edit::Update => (
            change(session, |c| catalog::set_quantity(c, id, qty)),
            t.updated,
        ),
        Edit::Remove => (change(session, |c| catalog::remove(c, id)), t.removed),
    };
    let (queue, message) = match outcome {
        Ok(product) => ("", format!("{done} {}", product.name)),
        Err(ChangeError::Rule(CartError::UnknownProduct)) => {
            return Err(AppError::new(
                StatusCode::NOT_FOUND,
                "unknown_product",
                format!("there is no product {id:?}"),
            ));
        }
        Err(ChangeError::Rule(CartError::BadQuantity)) => ("error", t.err_quantity.to_owned()),
        Err(ChangeError::Rule(CartError::NotInCart)) => ("error", t.err_not_in_cart.to_owned()),
        Err(ChangeError::Rule(CartError::TooManyLines)) => {
            ("error", t.err_too_many_lines.to_owned())
        }
        Err(ChangeError::TooLarge { bytes }) => {
            tracing::warn!(
                bytes,
                "cart change refused: session would not fit in a cookie"
            );
            ("error", t.err_too_large.to_owned())
        }
        Err(ChangeError::Session(err)) => return Err(AppError::internal(&err)),
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

pub(crate) async fn add(
    session: Session,
    headers: HeaderMap,
    form: Result<Form<LineForm>, FormRejection>,
) -> Result<Redirect, AppError> {
    edit(&session, &headers, parse(form)?, Edit::Add)
}

pub(crate) async fn update(
    session: Session,
    headers: HeaderMap,
    form: Result<Form<LineForm>, FormRejection>,
) -> Result<Redirect, AppError> {
    edit(&session, &headers, parse(form)?, Edit::Update)
}

pub(crate) async fn remove(
    session: Session,
    headers: HeaderMap,
    form: Result<Form<LineForm>, FormRejection>,
) -> Result<Redirect, AppError> {
    edit(&session, &headers, parse(form)?, Edit::Remove)
}

pub(crate) async fn empty(
    session: Session,
    headers: HeaderMap,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Result<Redirect, AppError> {
    let form = parse(form)?;
    check_csrf(&session, &headers, form.csrf_token.as_deref())?;
    let t = Lang::resolve(&session, None, &headers).texts();
    session.remove(CART_KEY);
    flash_if_fits(&session, t.emptied, "")?;
    Ok(Redirect::to("/cart"))
}
