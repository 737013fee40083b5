//! The decoded cookie payload: `[accessed, created, state]`.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use super::ShapeError;
use super::pyjson;

/// A timestamp in seconds since the Unix epoch, kept as the JSON number type it was written with so
/// that a re-encoded cookie is byte-for-byte the same: Pyramid writes `accessed` as an integer
/// (`int(time.time())`) and `created` as a float (`time.time()`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Timestamp {
    /// Whole seconds, written as a JSON integer (`1764000000`).
    Int(i64),
    /// Fractional seconds, written as Python's float repr (`1764000000.25`, `1764000000.0`).
    Float(f64),
}

impl Timestamp {
    /// Largest accepted magnitude in seconds (about 31 700 years); anything larger in a cookie is
    /// treated as malformed so time arithmetic can never overflow.
    pub const MAX_ABS: f64 = 1e12;

    /// The timestamp as float seconds.
    #[must_use]
    pub fn as_secs_f64(self) -> f64 {
        match self {
            Timestamp::Int(i) => i as f64,
            Timestamp::Float(f) => f,
        }
    }

    /// A JSON number as a timestamp, keeping its integer or float type; `None` for anything else,
    /// or beyond [`MAX_ABS`](Self::MAX_ABS).
    ///
    /// ```
    /// use sesi_core::Timestamp;
    /// assert_eq!(Timestamp::from_json(&serde_json::json!(1764000000)), Some(Timestamp::Int(1764000000)));
    /// assert_eq!(Timestamp::from_json(&serde_json::json!(1e13)), None);
    /// assert_eq!(Timestamp::Float(1764000000.0).to_string(), "1764000000.0");
    /// ```
    #[must_use]
    pub fn from_json(value: &Value) -> Option<Timestamp> {
        let number = value.as_number()?;
        let ts = match number.as_i64() {
            Some(i) => Timestamp::Int(i),
            None if number.is_u64() => return None,
            None => Timestamp::Float(number.as_f64()?),
        };
        let secs = ts.as_secs_f64();
        (secs.is_finite() && secs.abs() <= Self::MAX_ABS).then_some(ts)
    }

    fn write_json(self, out: &mut Vec<u8>) {
        match self {
            Timestamp::Int(i) => pyjson::write_number(out, &Number::from(i)),
            Timestamp::Float(f) => pyjson::write_float(out, f),
        }
    }
}

/// The JSON text Python writes for it (`1764000000`, `1764000000.25`, `1764000000.0`).
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Vec::with_capacity(24);
        self.write_json(&mut out);
        f.write_str(std::str::from_utf8(&out).map_err(|_| fmt::Error)?)
    }
}

/// The triple a Pyramid session cookie carries.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// When the session was last accessed (Pyramid's `accessed`, `renewed` once loaded).
    pub accessed: Timestamp,
    /// When the session was created.
    pub created: Timestamp,
    /// The session's data, keys in insertion order.
    pub state: Map<String, Value>,
}

impl Record {
    /// Builds a record.
    #[must_use]
    pub fn new(accessed: Timestamp, created: Timestamp, state: Map<String, Value>) -> Self {
        Record {
            accessed,
            created,
            state,
        }
    }

    /// Appends the payload JSON exactly as Python's `json.dumps([accessed, created, state])`.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        out.push(b'[');
        self.accessed.write_json(out);
        out.extend_from_slice(b", ");
        self.created.write_json(out);
        out.extend_from_slice(b", ");
        pyjson::write_object(out, &self.state);
        out.push(b']');
    }
}

/// Deserializes `[accessed, created, state]` directly into a [`Record`], noting the first shape
/// problem in `shape` (the error value itself only says "bad shape").
pub(crate) struct RecordSeed<'a> {
    pub(crate) shape: &'a Cell<Option<ShapeError>>,
}

impl RecordSeed<'_> {
    fn fail<E: de::Error>(&self, shape: ShapeError) -> E {
        self.shape.set(Some(shape));
        E::custom(shape)
    }
}

impl<'de> DeserializeSeed<'de> for RecordSeed<'_> {
    type Value = Record;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Record, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RecordSeed<'_> {
    type Value = Record;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[accessed, created, state]")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Record, A::Error> {
        let mut items: [Option<Value>; 3] = [None, None, None];
        for (i, slot) in items.iter_mut().enumerate() {
            *slot = seq.next_element::<Value>()?;
            if slot.is_none() {
                return Err(self.fail(ShapeError::WrongLength(i)));
            }
        }
        let mut extra = 0;
        while seq.next_element::<de::IgnoredAny>()?.is_some() {
            extra += 1;
        }
        if extra > 0 {
            return Err(self.fail(ShapeError::WrongLength(3 + extra)));
        }
        let [Some(accessed), Some(created), Some(state)] = items else {
            unreachable!("all three slots were filled above")
        };
        let accessed =
            Timestamp::from_json(&accessed).ok_or_else(|| self.fail(ShapeError::BadAccessed))?;
        let created =
            Timestamp::from_json(&created).ok_or_else(|| self.fail(ShapeError::BadCreated))?;
        let Value::Object(state) = state else {
            return Err(self.fail(ShapeError::StateNotObject));
        };
        Ok(Record::new(accessed, created, state))
    }

    fn visit_map<A: de::MapAccess<'de>>(self, _map: A) -> Result<Record, A::Error> {
        Err(self.fail(ShapeError::NotArray))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Record, E> {
        Err(self.fail(ShapeError::NotArray))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Record, E> {
        Err(self.fail(ShapeError::NotArray))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Record, E> {
        Err(self.fail(ShapeError::NotArray))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Record, E> {
        Err(self.fail(ShapeError::NotArray))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Record, E> {
        Err(self.fail(ShapeError::NotArray))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Record, E> {
        Err(self.fail(ShapeError::NotArray))
    }
}
