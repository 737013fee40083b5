//! The JSON API, on the same session cookie. State-changing calls need the CSRF token in the
//! `X-CSRF-Token` header (`GET /api/session` tells it); a failed check is 403 and changes nothing.

use axum::Json;
use axum::extract::Path;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use sesi::Session;

use super::cart::{self, ChangeError};
use super::counter;
use super::{check_csrf, too_large};
use crate::catalog::{self, CART_KEY, CartError, PRODUCTS};
use crate::error::{ApiError, AppError};

type ApiResult<T = Json<Value>> = Result<T, ApiError>;

fn json_body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    body.map(|Json(v)| v).map_err(|rejection| {
        let (status, code) = match &rejection {
            JsonRejection::MissingJsonContentType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            JsonRejection::JsonDataError(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"),
            _ => (StatusCode::BAD_REQUEST, "malformed_json"),
        };
        AppError::new(status, code, rejection.body_text()).json()
    })
}

/// The `{id}` path segment, or the API's JSON 400 (axum's default rejection is plain text).
fn path_id(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    path.map(|Path(id)| id)
        .map_err(|rejection| AppError::bad_request(rejection.body_text()).json())
}

fn csrf(session: &Session, headers: &HeaderMap) -> Result<(), ApiError> {
    check_csrf(session, headers, None).map_err(AppError::json)
}

fn cart_json(session: &Session) -> Json<Value> {
    Json(json!(catalog::price(&cart::load(session))))
}

fn change_error(err: ChangeError) -> ApiError {
    let err = match err {
        ChangeError::Rule(CartError::UnknownProduct) => {
            AppError::not_found("there is no such product")
        }
        ChangeError::Rule(CartError::NotInCart) => {
            AppError::not_found("that product is not in the cart")
        }
        ChangeError::Rule(rule @ CartError::BadQuantity) => {
            AppError::unprocessable("bad_quantity", rule.to_string())
        }
        ChangeError::Rule(rule @ CartError::TooManyLines) => {
            AppError::unprocessable("too_many_lines", rule.to_string())
        }
        ChangeError::TooLarge { bytes } => too_large(bytes),
        ChangeError::Session(err) => AppError::internal(&err),
    };
    err.json()
}

/// `GET /api/session`: the decoded session and its CSRF token. Increments nothing.
pub(crate) async fn session(session: Session) -> Json<Value> {
    let csrf_token = session.get_csrf_token();
    Json(json!({
        "csrf_token": csrf_token,
        "new": session.is_new(),
        "status": session.status().name(),
        "created": session.created(),
        "accessed": session.accessed(),
        "state": session.state(),
    }))
}

/// `POST /api/counter`.
pub(crate) async fn counter(session: Session, headers: HeaderMap) -> ApiResult {
    csrf(&session, &headers)?;
    let counter = counter::increment(&session).map_err(AppError::json)?;
    Ok(Json(json!({ "counter": counter })))
}

/// `GET /api/products`.
pub(crate) async fn products() -> Json<Value> {
    Json(json!({"products": PRODUCTS}))
}

/// `GET /api/cart`.
pub(crate) async fn cart(session: Session) -> Json<Value> {
    cart_json(&session)
}

#[derive(Deserialize)]
pub(crate) struct NewItem {
    product_id: String,
    quantity: i64,
}

/// `POST /api/cart/items`: 201 with the cart.
pub(crate) async fn add_item(
    session: Session,
    headers: HeaderMap,
    body: Result<Json<NewItem>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    csrf(&session, &headers)?;
    let item = json_body(body)?;
    cart::change(&session, |c| {
        catalog::add(c, &item.product_id, item.quantity)
    })
    .map_err(change_error)?;
    Ok((StatusCode::CREATED, cart_json(&session)))
}

#[derive(Deserialize)]
pub(crate) struct Quantity {
    quantity: i64,
}

/// `PATCH /api/cart/items/{id}`.
pub(crate) async fn set_quantity(
    session: Session,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
    body: Result<Json<Quantity>, JsonRejection>,
) -> ApiResult {
    csrf(&session, &headers)?;
    let id = path_id(path)?;
    let body = json_body(body)?;
    cart::change(&session, |c| catalog::set_quantity(c, &id, body.quantity))
        .map_err(change_error)?;
    Ok(cart_json(&session))
}

/// `DELETE /api/cart/items/{id}`.
pub(crate) async fn remove_item(
    session: Session,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> ApiResult {
    csrf(&session, &headers)?;
    let id = path_id(path)?;
    cart::change(&session, |c| catalog::remove(c, &id)).map_err(change_error)?;
    Ok(cart_json(&session))
}

/// `DELETE /api/cart`.
pub(crate) async fn empty_cart(session: Session, headers: HeaderMap) -> ApiResult {
    csrf(&session, &headers)?;
    session.remove(CART_KEY);
    Ok(cart_json(&session))
}
