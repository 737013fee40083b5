//! Session ids and lock tokens: random 128-bit values that are bearer credentials, so they never
//! show whole in `Debug` or `Display`. A leaf module: stores, cookie formats and sessions all use it.

use std::fmt;

/// A random 128-bit session id. It is a bearer credential: `Debug` and `Display` show only a
/// short prefix; [`SessionId::to_hex`] gives the whole id for store keys.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId([u8; 16]);

impl SessionId {
    /// A fresh id from the OS random number generator.
    ///
    /// # Panics
    /// If the OS generator fails, which leaves no safe way to mint ids.
    #[must_use]
    pub fn generate() -> Self {
        let mut bytes = [0u8; 16];
        crate::random::fill(&mut bytes);
        SessionId(bytes)
    }

    /// An id from its 16 bytes.
    #[must_use]
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        SessionId(bytes)
    }

    /// The 16 bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// 32 lowercase hex characters.
    #[must_use]
    pub fn to_hex(&self) -> String {
        crate::hex(&self.0)
    }

    /// Parses 32 hex characters.
    #[must_use]
    pub fn from_hex(text: &str) -> Option<Self> {
        let text = text.as_bytes();
        if text.len() != 32 {
            return None;
        }
        let digit = |c: u8| {
            char::from(c)
                .to_digit(16)
                .and_then(|d| u8::try_from(d).ok())
        };
        let mut bytes = [0u8; 16];
        for (i, pair) in text.chunks_exact(2).enumerate() {
            bytes[i] = digit(pair[0])? << 4 | digit(pair[1])?;
        }
        Some(SessionId(bytes))
    }

    /// The first 8 hex characters, for logs and the inspector.
    #[must_use]
    pub fn short(&self) -> String {
        crate::hex(&self.0[..4])
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({}…)", self.short())
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}…", self.short())
    }
}

/// A random token that proves who holds a session lock.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct LockToken([u8; 16]);

impl LockToken {
    /// A fresh token.
    #[must_use]
    pub fn generate() -> Self {
        LockToken(SessionId::generate().0)
    }

    /// 32 lowercase hex characters.
    #[must_use]
    pub fn to_hex(&self) -> String {
        crate::hex(&self.0)
    }
}

impl fmt::Debug for LockToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LockToken(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_hex_and_never_show_whole() {
        let id = SessionId::generate();
        assert_eq!(SessionId::from_hex(&id.to_hex()), Some(id));
        assert_ne!(SessionId::generate(), id);
        assert!(!format!("{id:?}").contains(&id.to_hex()));
        assert_eq!(SessionId::from_hex("zz"), None);
        assert_eq!(SessionId::from_hex(&"g".repeat(32)), None);
    }
}
