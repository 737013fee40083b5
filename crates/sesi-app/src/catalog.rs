//! The product catalogue, embedded in the binary, and the cart rules. Prices live only here: the
//! session holds product ids and quantities, so a visitor cannot change what things cost.

use indexmap::IndexMap;
use serde::Serialize;

/// Session key of the cart: an object mapping product id to quantity, in the order added.
pub const CART_KEY: &str = "cart";

/// Largest quantity of one product.
pub const MAX_QUANTITY: u32 = 99;

/// Most distinct products in one cart.
pub const MAX_LINES: usize = 50;

/// The cart as stored in the session.
pub type Cart = IndexMap<String, u32>;

/// One product of the menu.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Product {
    /// Stable id, used in the session and the API.
    pub id: &'static str,
    /// Display name.
    pub name: &'static str,
    /// Price in rupiah.
    pub price: u64,
}

/// The menu of the seed tutorial's warung.
pub static PRODUCTS: [Product; 12] = [
    Product {
        id: "kopi-tubruk",
        name: "Kopi Tubruk",
        price: 15_000,
    },
    Product {
        id: "es-teh-manis",
        name: "Es Teh Manis",
        price: 8_000,
    },
    Product {
        id: "nasi-goreng",
        name: "Nasi Goreng",
        price: 25_000,
    },
    Product {
        id: "mie-goreng",
        name: "Mie Goreng",
        price: 22_000,
    },
    Product {
        id: "sate-ayam",
        name: "Sate Ayam (10 tusuk)",
        price: 30_000,
    },
    Product {
        id: "gado-gado",
        name: "Gado-gado",
        price: 20_000,
    },
    Product {
        id: "rendang",
        name: "Rendang",
        price: 35_000,
    },
    Product {
        id: "soto-ayam",
        name: "Soto Ayam",
        price: 23_000,
    },
    Product {
        id: "bakso",
        name: "Bakso",
        price: 20_000,
    },
    Product {
        id: "pisang-goreng",
        name: "Pisang Goreng",
        price: 10_000,
    },
    Product {
        id: "martabak-manis",
        name: "Martabak Manis",
        price: 40_000,
    },
    Product {
        id: "es-cendol",
        name: "Es Cendol",
        price: 12_000,
    },
];

/// The product with this id.
#[must_use]
pub fn product(id: &str) -> Option<&'static Product> {
    PRODUCTS.iter().find(|p| p.id == id)
}

/// Why a cart change was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CartError {
    /// Quantity outside 1..=99 (or the sum would pass 99).
    #[error("quantity must be a whole number from 1 to {MAX_QUANTITY}")]
    BadQuantity,
    /// No product has this id.
    #[error("there is no such product")]
    UnknownProduct,
    /// The product is not in the cart.
    #[error("that product is not in the cart")]
    NotInCart,
    /// The cart already holds [`MAX_LINES`] products.
    #[error("a cart holds at most {MAX_LINES} different products")]
    TooManyLines,
}

fn check_quantity(quantity: i64) -> Result<u32, CartError> {
    u32::try_from(quantity)
        .ok()
        .filter(|q| (1..=MAX_QUANTITY).contains(q))
        .ok_or(CartError::BadQuantity)
}

/// Adds `quantity` of a product (on top of what is there).
///
/// # Errors
/// A [`CartError`]; the cart is then unchanged.
pub fn add(cart: &mut Cart, id: &str, quantity: i64) -> Result<&'static Product, CartError> {
    let product = product(id).ok_or(CartError::UnknownProduct)?;
    let quantity = check_quantity(quantity)?;
    let lines = cart.len();
    match cart.get_mut(product.id) {
        Some(existing) => *existing = check_quantity(i64::from(*existing) + i64::from(quantity))?,
        None if lines >= MAX_LINES => return Err(CartError::TooManyLines),
        None => {
            cart.insert(product.id.to_owned(), quantity);
        }
    }
    Ok(product)
}

/// Sets the quantity of a product already in the cart.
///
/// # Errors
/// A [`CartError`]; the cart is then unchanged.
pub fn set_quantity(
    cart: &mut Cart,
    id: &str,
    quantity: i64,
) -> Result<&'static Product, CartError> {
    let product = product(id).ok_or(CartError::UnknownProduct)?;
    let quantity = check_quantity(quantity)?;
    let line = cart.get_mut(product.id).ok_or(CartError::NotInCart)?;
    *line = quantity;
    Ok(product)
}

/// Removes a product from the cart.
///
/// # Errors
/// [`CartError::UnknownProduct`] or [`CartError::NotInCart`].
pub fn remove(cart: &mut Cart, id: &str) -> Result<&'static Product, CartError> {
    let product = product(id).ok_or(CartError::UnknownProduct)?;
    cart.shift_remove(product.id).ok_or(CartError::NotInCart)?;
    Ok(product)
}

/// A priced cart line.
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    /// Product id.
    pub product_id: &'static str,
    /// Product name.
    pub name: &'static str,
    /// Unit price in rupiah.
    pub price: u64,
    /// Quantity.
    pub quantity: u32,
    /// price * quantity.
    pub line_total: u64,
}

/// The cart priced from the catalogue. Unknown ids (from an older catalogue) are skipped.
#[derive(Debug, Clone, Serialize)]
pub struct PricedCart {
    /// Lines in the order added.
    pub lines: Vec<Line>,
    /// Sum of line totals in rupiah.
    pub total: u64,
    /// Sum of quantities.
    pub items: u64,
}

/// Prices a cart.
#[must_use]
pub fn price(cart: &Cart) -> PricedCart {
    let lines: Vec<Line> = cart
        .iter()
        .filter_map(|(id, &quantity)| {
            let p = product(id)?;
            Some(Line {
                product_id: p.id,
                name: p.name,
                price: p.price,
                quantity,
                line_total: p.price * u64::from(quantity),
            })
        })
        .collect();
    PricedCart {
        total: lines.iter().map(|l| l.line_total).sum(),
        items: lines.iter().map(|l| u64::from(l.quantity)).sum(),
        lines,
    }
}

/// `Rp 1.234.000`, as prices are written in Indonesia.
#[must_use]
pub fn rupiah(amount: u64) -> String {
    let digits = amount.to_string();
    let mut out = String::from("Rp ");
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rupiah_groups_thousands_with_dots() {
        assert_eq!(rupiah(0), "Rp 0");
        assert_eq!(rupiah(999), "Rp 999");
        assert_eq!(rupiah(15_000), "Rp 15.000");
        assert_eq!(rupiah(1_234_567), "Rp 1.234.567");
    }

    #[test]
    fn cart_rules_hold_and_refusals_change_nothing() {
        let mut cart = Cart::new();
        add(&mut cart, "bakso", 2).expect("valid");
        add(&mut cart, "bakso", 3).expect("valid");
        assert_eq!(cart["bakso"], 5);
        assert_eq!(add(&mut cart, "bakso", 95), Err(CartError::BadQuantity));
        assert_eq!(add(&mut cart, "bakso", 0), Err(CartError::BadQuantity));
        assert_eq!(add(&mut cart, "bakso", -1), Err(CartError::BadQuantity));
        assert_eq!(add(&mut cart, "_csrft_", 1), Err(CartError::UnknownProduct));
        assert_eq!(
            set_quantity(&mut cart, "rendang", 1),
            Err(CartError::NotInCart)
        );
        assert_eq!(cart["bakso"], 5);
        set_quantity(&mut cart, "bakso", 99).expect("valid");
        let priced = price(&cart);
        assert_eq!(priced.total, 99 * 20_000);
        remove(&mut cart, "bakso").expect("present");
        assert!(cart.is_empty());
    }

    #[test]
    fn ids_are_unique() {
        for (i, p) in PRODUCTS.iter().enumerate() {
            assert!(PRODUCTS[i + 1..].iter().all(|q| q.id != p.id), "{}", p.id);
        }
    }
}
