//! The JSON API, on the same session cookie: the JSON presenter of [`CartCommand`], the counter,
//! and the session itself. State-changing calls need the CSRF token in the `X-CSRF-Token` header
//! (`GET /api/session` tells it); a failed check is 403 and changes nothing.

use axum::Json;
use axum::extract::Path;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use sesi::Session;

use super::cart_command::{CartCommand, load};
use super::counter;
use super::csrf::CsrfHeader;
use crate::catalog::{self, PRODUCTS};
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

fn cart_json(session: &Session) -> Json<Value> {
    Json(json!(catalog::price(&load(session))))
}

/// Runs `command`; the answer is the cart, or the command's error as JSON.
fn present(session: &Session, command: &CartCommand) -> ApiResult {
    command
        .execute(session)
        .map_err(|err| command.error(err).json())?;
    Ok(cart_json(session))
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
pub(crate) async fn counter(session: Session, _: CsrfHeader) -> ApiResult {
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
    _: CsrfHeader,
    body: Result<Json<NewItem>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let item = json_body(body)?;
    let command = CartCommand::Add {
        product_id: item.product_id,
        quantity: item.quantity,
    };
    Ok((StatusCode::CREATED, present(&session, &command)?))
}

#[derive(Deserialize)]
pub(crate) struct Quantity {
    quantity: i64,
}

/// `PATCH /api/cart/items/{id}`.
pub(crate) async fn set_quantity(
    session: Session,
    _: CsrfHeader,
    path: Result<Path<String>, PathRejection>,
    body: Result<Json<Quantity>, JsonRejection>,
) -> ApiResult {
    let product_id = path_id(path)?;
    let quantity = json_body(body)?.quantity;
    present(
        &session,
        &CartCommand::SetQuantity {
            product_id,
            quantity,
        },
    )
}

/// `DELETE /api/cart/items/{id}`.
pub(crate) async fn remove_item(
    session: Session,
    _: CsrfHeader,
    path: Result<Path<String>, PathRejection>,
) -> ApiResult {
    let product_id = path_id(path)?;
    present(&session, &CartCommand::Remove { product_id })
}

/// `DELETE /api/cart`.
pub(crate) async fn empty_cart(session: Session, _: CsrfHeader) -> ApiResult {
    present(&session, &CartCommand::Empty)
}
