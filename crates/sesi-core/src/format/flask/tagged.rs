//! Flask's tagged JSON (`flask.json.tag.TaggedJSONSerializer`) as serde types.
//!
//! Flask writes the Python values JSON has no type for as an object with one key, the tag:
//!
//! | Python | tag | JSON Flask writes | serde type here |
//! |---|---|---|---|
//! | `tuple` | `" t"` | `{" t": [1, "a"]}` | [`Tuple`] |
//! | `bytes` | `" b"` | `{" b": "AAE="}` (standard base64, padded) | [`Bytes`] |
//! | `markupsafe.Markup` | `" m"` | `{" m": "<b>hi</b>"}` | [`Markup`] |
//! | `uuid.UUID` | `" u"` | `{" u": "32 lowercase hex digits"}` | [`Uuid`] |
//! | `datetime` | `" d"` | `{" d": "Wed, 26 Nov 2025 16:00:00 GMT"}` | [`HttpDate`] |
//! | a `dict` whose only key is a tag | `" di"` | `{" di": {" t__": 1}}` for `{" t": 1}` | [`TaggedDict`] |
//!
//! The session state keeps this JSON as it is: a tuple Flask wrote stays `{" t": [...]}` and is a
//! tuple again when Flask reads it back. Use these types with `Session::get` and `insert` to read
//! and write such values; a plain `Vec` written where Flask expects a tuple becomes a list in
//! Flask. A state object whose only key is a tag name must be written with [`TaggedDict`]: as a
//! plain map, Flask would read it as that tag.
//!
//! What Flask itself loses: a `datetime` keeps whole seconds only (werkzeug's `http_date` drops
//! the microseconds) and always reads back as UTC; a naive `datetime` is taken to be UTC. A
//! `Markup` reads back as `Markup` whatever it was written from.
//!
//! Decoding a cookie checks each tagged value is in the form Flask writes it (a tuple holds a
//! list, bytes canonical padded base64, a UUID 32 hex digits, a date exactly as above, `" di"` one
//! key ending in `__` after a tag name); anything else is a [`crate::DecodeError`]
//! of kind `bad_tag`. Flask is more lenient on some (it reads a date it cannot parse as `None`)
//! but never writes them.

use std::fmt;
use std::marker::PhantomData;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{self, Serialize, SerializeMap, Serializer};
use serde_json::Value;

use super::date;
use crate::format::error::DecodeError;

/// The tag of a tuple.
pub const TUPLE: &str = " t";
/// The tag of bytes.
pub const BYTES: &str = " b";
/// The tag of `markupsafe.Markup`.
pub const MARKUP: &str = " m";
/// The tag of a UUID.
pub const UUID: &str = " u";
/// The tag of a datetime.
pub const DATETIME: &str = " d";
/// The tag of a dict whose only key is a tag name.
pub const DICT: &str = " di";
/// Every tag Flask registers by default.
pub const TAGS: [&str; 6] = [DICT, TUPLE, BYTES, MARKUP, UUID, DATETIME];

/// A Python tuple, `{" t": [...]}`; `T` serializes as a sequence (a Rust tuple, array or `Vec`).
///
/// ```
/// use sesi_core::flask::tagged::Tuple;
/// let json = serde_json::to_string(&Tuple(("error", 3)))?;
/// assert_eq!(json, r#"{" t":["error",3]}"#);
/// let Tuple((category, n)): Tuple<(String, i64)> = serde_json::from_str(&json)?;
/// assert_eq!((category.as_str(), n), ("error", 3));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Tuple<T>(pub T);

/// Python `bytes`, `{" b": "<standard base64, padded>"}`.
///
/// ```
/// use sesi_core::flask::tagged::Bytes;
/// let json = serde_json::to_string(&Bytes(vec![0, 1, 0xff]))?;
/// assert_eq!(json, r#"{" b":"AAH/"}"#);
/// assert_eq!(serde_json::from_str::<Bytes>(&json)?, Bytes(vec![0, 1, 0xff]));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Bytes(pub Vec<u8>);

/// `markupsafe.Markup`: HTML text Jinja will not escape again, `{" m": "..."}`.
///
/// ```
/// use sesi_core::flask::tagged::Markup;
/// let json = serde_json::to_string(&Markup("<b>saved</b>".into()))?;
/// assert_eq!(json, r#"{" m":"<b>saved</b>"}"#);
/// assert_eq!(serde_json::from_str::<Markup>(&json)?.0, "<b>saved</b>");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Markup(pub String);

/// `uuid.UUID`, `{" u": "<32 lowercase hex digits>"}` (Python's `UUID.hex`).
///
/// ```
/// use sesi_core::flask::tagged::Uuid;
/// let id = Uuid(0x12345678_1234_5678_1234_567812345678_u128.to_be_bytes());
/// let json = serde_json::to_string(&id)?;
/// assert_eq!(json, r#"{" u":"12345678123456781234567812345678"}"#);
/// assert_eq!(serde_json::from_str::<Uuid>(&json)?, id);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Uuid(pub [u8; 16]);

/// A `datetime` as Flask writes it: whole seconds since the Unix epoch, UTC, written
/// `{" d": "Wed, 26 Nov 2025 16:00:00 GMT"}`. Years 1 to 9999 (Python's range); serializing a
/// time outside them is an error.
///
/// ```
/// use sesi_core::flask::tagged::HttpDate;
/// let json = serde_json::to_string(&HttpDate(1764172800))?;
/// assert_eq!(json, r#"{" d":"Wed, 26 Nov 2025 16:00:00 GMT"}"#);
/// assert_eq!(serde_json::from_str::<HttpDate>(&json)?, HttpDate(1764172800));
/// assert!(serde_json::to_string(&HttpDate(i64::MAX)).is_err());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct HttpDate(pub i64);

/// A dict whose only key is a tag name, `{" di": {"<key>__": value}}`: how Flask keeps
/// `{" t": 1}` from reading back as a tuple. `value` is written as is (itself tagged where it is a
/// tuple, bytes...); serializing a `key` that is not a tag name is an error (Flask writes such a
/// dict plainly).
///
/// ```
/// use sesi_core::flask::tagged::TaggedDict;
/// let dict = TaggedDict { key: " t".into(), value: 1 };
/// let json = serde_json::to_string(&dict)?;
/// assert_eq!(json, r#"{" di":{" t__":1}}"#);
/// assert_eq!(serde_json::from_str::<TaggedDict<i64>>(&json)?, dict);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct TaggedDict<T> {
    /// The dict's only key, a tag name (`" t"`).
    pub key: String,
    /// Its value.
    pub value: T,
}

/// `{tag: value}`.
fn serialize_tagged<S: Serializer, T: Serialize + ?Sized>(
    serializer: S,
    tag: &'static str,
    value: &T,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(1))?;
    map.serialize_entry(tag, value)?;
    map.end()
}

/// Reads `{tag: V}` with exactly that one key.
struct OneEntry<V> {
    tag: &'static str,
    value: PhantomData<V>,
}

impl<'de, V: Deserialize<'de>> Visitor<'de> for OneEntry<V> {
    type Value = V;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object whose only key is {:?}", self.tag)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<V, A::Error> {
        let key: String = map
            .next_key()?
            .ok_or_else(|| de::Error::invalid_length(0, &self))?;
        if key != self.tag {
            return Err(de::Error::invalid_value(de::Unexpected::Str(&key), &self));
        }
        let value = map.next_value()?;
        if map.next_key::<de::IgnoredAny>()?.is_some() {
            return Err(de::Error::invalid_length(2, &self));
        }
        Ok(value)
    }
}

fn deserialize_tagged<'de, D: Deserializer<'de>, V: Deserialize<'de>>(
    deserializer: D,
    tag: &'static str,
) -> Result<V, D::Error> {
    deserializer.deserialize_map(OneEntry {
        tag,
        value: PhantomData,
    })
}

impl<T: Serialize> Serialize for Tuple<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_tagged(serializer, TUPLE, &self.0)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Tuple<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_tagged(deserializer, TUPLE).map(Tuple)
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_tagged(serializer, BYTES, &STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text: String = deserialize_tagged(deserializer, BYTES)?;
        STANDARD.decode(text).map(Bytes).map_err(de::Error::custom)
    }
}

impl Serialize for Markup {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_tagged(serializer, MARKUP, &self.0)
    }
}

impl<'de> Deserialize<'de> for Markup {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_tagged(deserializer, MARKUP).map(Markup)
    }
}

impl Uuid {
    /// The 32 hex digits Python's `UUID(...)` reads, in either case.
    fn from_hex(text: &str) -> Option<Uuid> {
        let hex = text.as_bytes();
        if hex.len() != 32 {
            return None;
        }
        let mut bytes = [0u8; 16];
        for (byte, pair) in bytes.iter_mut().zip(hex.chunks_exact(2)) {
            let digit = |c: u8| char::from(c).to_digit(16);
            *byte = u8::try_from(digit(pair[0])? << 4 | digit(pair[1])?).ok()?;
        }
        Some(Uuid(bytes))
    }
}

impl Serialize for Uuid {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_tagged(serializer, UUID, &crate::hex(&self.0))
    }
}

impl<'de> Deserialize<'de> for Uuid {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text: String = deserialize_tagged(deserializer, UUID)?;
        Uuid::from_hex(&text)
            .ok_or_else(|| de::Error::invalid_value(de::Unexpected::Str(&text), &"32 hex digits"))
    }
}

impl Serialize for HttpDate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let text = date::format(self.0).ok_or_else(|| {
            ser::Error::custom(format_args!("{} s is outside the years 1 to 9999", self.0))
        })?;
        serialize_tagged(serializer, DATETIME, &text)
    }
}

impl<'de> Deserialize<'de> for HttpDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text: String = deserialize_tagged(deserializer, DATETIME)?;
        date::parse(&text).map(HttpDate).ok_or_else(|| {
            de::Error::invalid_value(de::Unexpected::Str(&text), &"Wed, 26 Nov 2025 16:00:00 GMT")
        })
    }
}

impl<T: Serialize> Serialize for TaggedDict<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if !TAGS.contains(&self.key.as_str()) {
            return Err(ser::Error::custom(format_args!(
                "{:?} is not a tag name: Flask writes such a dict plainly",
                self.key
            )));
        }
        let inner = Inner {
            key: format!("{}__", self.key),
            value: &self.value,
        };
        serialize_tagged(serializer, DICT, &inner)
    }
}

/// `{"<key>__": value}`, the inside of `" di"`.
struct Inner<'a, T> {
    key: String,
    value: &'a T,
}

impl<T: Serialize> Serialize for Inner<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(&self.key, self.value)?;
        map.end()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for TaggedDict<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let inner: std::collections::BTreeMap<String, T> = deserialize_tagged(deserializer, DICT)?;
        let mut entries = inner.into_iter();
        match (entries.next(), entries.next()) {
            (Some((key, value)), None) => match dict_key(&key) {
                Some(tag) => Ok(TaggedDict {
                    key: tag.to_owned(),
                    value,
                }),
                None => Err(de::Error::invalid_value(
                    de::Unexpected::Str(&key),
                    &"a tag name followed by __",
                )),
            },
            _ => Err(de::Error::custom("\" di\" holds an object with one key")),
        }
    }
}

/// The tag name in a `" di"` key (`" t__"` -> `" t"`).
fn dict_key(key: &str) -> Option<&str> {
    key.strip_suffix("__").filter(|tag| TAGS.contains(tag))
}

/// What is wrong with a tagged value in a cookie.
#[derive(Debug, thiserror::Error)]
#[error("the tagged value {tag:?} does not hold {expected}")]
struct TagError {
    tag: &'static str,
    expected: &'static str,
}

/// Checks every tagged value in `value` (at any depth) is in the form Flask writes it.
///
/// # Errors
/// A [`DecodeError::Format`] of kind `bad_tag`.
pub(super) fn validate(value: &Value) -> Result<(), DecodeError> {
    match value {
        Value::Array(items) => items.iter().try_for_each(validate),
        Value::Object(map) => {
            if map.len() == 1
                && let Some((key, payload)) = map.iter().next()
                && let Some(tag) = TAGS.iter().find(|tag| **tag == key)
            {
                check_payload(tag, payload).map_err(|expected| DecodeError::Format {
                    kind: "bad_tag",
                    source: Box::new(TagError { tag, expected }),
                })?;
            }
            map.values().try_for_each(validate)
        }
        _ => Ok(()),
    }
}

/// `Err(what the tag should hold)` when `payload` is not what Flask writes under `tag`.
fn check_payload(tag: &str, payload: &Value) -> Result<(), &'static str> {
    let ok = match (tag, payload) {
        (TUPLE, Value::Array(_)) => true,
        (BYTES, Value::String(text)) => STANDARD.decode(text).is_ok(),
        (MARKUP, Value::String(_)) => true,
        (UUID, Value::String(text)) => Uuid::from_hex(text).is_some(),
        (DATETIME, Value::String(text)) => date::parse(text).is_some(),
        (DICT, Value::Object(inner)) => {
            inner.len() == 1 && inner.keys().all(|key| dict_key(key).is_some())
        }
        _ => false,
    };
    ok.then_some(()).ok_or(match tag {
        TUPLE => "a list",
        BYTES => "canonical padded base64",
        MARKUP => "a string",
        UUID => "32 hex digits",
        DATETIME => "an HTTP date such as \"Wed, 26 Nov 2025 16:00:00 GMT\"",
        _ => "one key, a tag name followed by __",
    })
}
