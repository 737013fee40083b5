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
//! Flask. A map whose only key is a tag name and whose value is a valid payload of that tag
//! (`{" t": [1, 2]}` meant as a dict) must be written with [`TaggedDict`]: as a plain map, it
//! is that tag. Any other one-key map with a tag name (`{" u": "not a uuid"}`, form data with
//! such a key) cannot be the tag, so it is written escaped as Flask escapes a dict,
//! `{" di": {" u__": "not a uuid"}}`, and reads back as the plain map it was; a session whose
//! only key is a tag name is always escaped, as Flask does.
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
use serde::de::{self, Deserialize, DeserializeOwned, Deserializer, MapAccess, Visitor};
use serde::ser::{self, Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

use super::{date, tagging};

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
/// `{" d": "Wed, 26 Nov 2025 16:00:00 GMT"}`. Years 100 to 9999: Flask writes a year below 100
/// but reads it back as a two-digit year (year 5 as 2005), so serializing one is an error, and
/// reading a date Flask wrote for one gives the time Flask itself reads.
///
/// ```
/// use sesi_core::flask::tagged::HttpDate;
/// let json = serde_json::to_string(&HttpDate(1764172800))?;
/// assert_eq!(json, r#"{" d":"Wed, 26 Nov 2025 16:00:00 GMT"}"#);
/// assert_eq!(serde_json::from_str::<HttpDate>(&json)?, HttpDate(1764172800));
/// assert!(serde_json::to_string(&HttpDate(i64::MAX)).is_err());
/// // What Flask writes for datetime(5, 1, 1), and reads back as 2005-01-01:
/// let year_5 = r#"{" d":"Sat, 01 Jan 0005 00:00:00 GMT"}"#;
/// assert_eq!(serde_json::from_str::<HttpDate>(year_5)?, HttpDate(1104537600));
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
    pub(super) fn from_hex(text: &str) -> Option<Uuid> {
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
        let text = date::format(self.0)
            .filter(|_| date::as_flask_reads(self.0) == self.0)
            .ok_or_else(|| {
                ser::Error::custom(format_args!(
                    "{} s is outside the years 100 to 9999 that Flask reads back",
                    self.0
                ))
            })?;
        serialize_tagged(serializer, DATETIME, &text)
    }
}

impl<'de> Deserialize<'de> for HttpDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text: String = deserialize_tagged(deserializer, DATETIME)?;
        date::parse(&text)
            .map(|secs| HttpDate(date::as_flask_reads(secs)))
            .ok_or_else(|| {
                de::Error::invalid_value(
                    de::Unexpected::Str(&text),
                    &"Wed, 26 Nov 2025 16:00:00 GMT",
                )
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

impl<'de, T: DeserializeOwned> Deserialize<'de> for TaggedDict<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let outer: Map<String, Value> = Map::deserialize(deserializer)?;
        let mut entries = outer.into_iter();
        let (Some((key, value)), None) = (entries.next(), entries.next()) else {
            return Err(de::Error::custom("a tagged dict is an object with one key"));
        };
        // `{" di": {" t__": v}}` as Flask writes it, or `{" u": v}` as a cookie's escaped dict
        // whose value is no UUID reads back (see `tagging::read`).
        let (tag, value) = if key == DICT {
            let Value::Object(inner) = value else {
                return Err(de::Error::custom("\" di\" holds an object with one key"));
            };
            let mut inner = inner.into_iter();
            match (inner.next(), inner.next()) {
                (Some((inner_key, value)), None) => {
                    let tag = tagging::dict_key(&inner_key).ok_or_else(|| {
                        de::Error::invalid_value(
                            de::Unexpected::Str(&inner_key),
                            &"a tag name followed by __",
                        )
                    })?;
                    (tag.to_owned(), value)
                }
                _ => return Err(de::Error::custom("\" di\" holds an object with one key")),
            }
        } else if tagging::is_tag(&key) && !tagging::is_payload_of(&key, &value) {
            (key, value)
        } else {
            return Err(de::Error::invalid_value(
                de::Unexpected::Str(&key),
                &"\" di\", or a tag name whose value is no such tag",
            ));
        };
        let value = T::deserialize(value).map_err(de::Error::custom)?;
        Ok(TaggedDict { key: tag, value })
    }
}
