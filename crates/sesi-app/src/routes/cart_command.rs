//! Every change to the cart, as one command type executed in one place. The HTML forms and the
//! JSON API only present the outcome (`cart.rs`: redirect + flash; `api.rs`: JSON).

use axum::http::StatusCode;
use sesi::{Session, SessionError};

use crate::catalog::{self, CART_KEY, Cart, CartError, Product};
use crate::error::AppError;

/// A change to the cart.
#[derive(Debug, Clone)]
pub(crate) enum CartCommand {
    /// Add `quantity` of a product (to what is there).
    Add { product_id: String, quantity: i64 },
    /// Set a line's quantity.
    SetQuantity { product_id: String, quantity: i64 },
    /// Remove a line.
    Remove { product_id: String },
    /// Remove every line.
    Empty,
}

/// What a command did.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Done {
    Added(&'static Product),
    Updated(&'static Product),
    Removed(&'static Product),
    Emptied,
}

/// Why a command changed nothing.
#[derive(Debug)]
pub(crate) enum ChangeError {
    /// The cart's rules refused it.
    Rule(CartError),
    /// The session would outgrow what it may hold where it lives.
    TooLarge { bytes: usize, limit: usize },
    /// The session could not be written.
    Session(SessionError),
}

impl CartCommand {
    /// Applies the command to the session's cart and stores the result, but only if the cart's
    /// rules allow it and the session still fits in its cookie; otherwise the session is left
    /// exactly as it was.
    pub(crate) fn execute(&self, session: &Session) -> Result<Done, ChangeError> {
        let mut cart = load(session);
        let done = match self {
            CartCommand::Add {
                product_id,
                quantity,
            } => Done::Added(catalog::add(&mut cart, product_id, *quantity)?),
            CartCommand::SetQuantity {
                product_id,
                quantity,
            } => Done::Updated(catalog::set_quantity(&mut cart, product_id, *quantity)?),
            CartCommand::Remove { product_id } => {
                Done::Removed(catalog::remove(&mut cart, product_id)?)
            }
            CartCommand::Empty => {
                cart.clear();
                Done::Emptied
            }
        };
        let stored = if cart.is_empty() {
            session.remove(CART_KEY);
            Ok(())
        } else {
            session.try_insert(CART_KEY, &cart)
        };
        match stored {
            Ok(()) => Ok(done),
            Err(SessionError::TooLarge { bytes, limit }) => {
                Err(ChangeError::TooLarge { bytes, limit })
            }
            Err(err) => Err(ChangeError::Session(err)),
        }
    }

    /// The product the command names, for messages.
    fn product_id(&self) -> &str {
        match self {
            CartCommand::Add { product_id, .. }
            | CartCommand::SetQuantity { product_id, .. }
            | CartCommand::Remove { product_id } => product_id,
            CartCommand::Empty => "",
        }
    }

    /// The error answer for a refused command: the one mapping both presenters start from.
    pub(crate) fn error(&self, err: ChangeError) -> AppError {
        match err {
            ChangeError::Rule(CartError::UnknownProduct) => AppError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("there is no product {:?}", self.product_id()),
            ),
            ChangeError::Rule(rule @ CartError::NotInCart) => AppError::not_found(rule.to_string()),
            ChangeError::Rule(rule @ CartError::BadQuantity) => {
                AppError::unprocessable("bad_quantity", rule.to_string())
            }
            ChangeError::Rule(rule @ CartError::TooManyLines) => {
                AppError::unprocessable("too_many_lines", rule.to_string())
            }
            ChangeError::TooLarge { bytes, limit } => AppError::too_large(bytes, limit),
            ChangeError::Session(err) => AppError::internal(&err),
        }
    }
}

impl From<CartError> for ChangeError {
    fn from(err: CartError) -> Self {
        ChangeError::Rule(err)
    }
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
