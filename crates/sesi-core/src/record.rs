//! A session record, whatever cookie format carried it: the state and its timestamps, plus the
//! `[accessed, created, state]` JSON that Pyramid signs and that stores keep.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::format::error::{DecodeError, MAX_JSON_DEPTH, ShapeError};
use crate::pyjson;

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

/// A session as a cookie format carries it: its data and its timestamps.
///
/// Every cookie format records when the cookie was issued, which is the session's `accessed`
/// time (Pyramid and pyramid-nacl write it into the payload; Flask and Django sign a timestamp
/// that their formats report as `accessed`). Not every format records when the session was
/// created: `created` is `None` for those, and such a format cannot enforce an absolute lifetime
/// (its format's `CookieFormat::carries_created` is false).
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// When the session was last accessed (Pyramid's `accessed`, `renewed` once loaded).
    pub accessed: Timestamp,
    /// When the session was created, when the format records it.
    pub created: Option<Timestamp>,
    /// The session's data, keys in insertion order.
    pub state: Map<String, Value>,
}

impl Record {
    /// A record with both timestamps, as Pyramid's cookies carry them.
    #[must_use]
    pub fn new(accessed: Timestamp, created: Timestamp, state: Map<String, Value>) -> Self {
        Record {
            accessed,
            created: Some(created),
            state,
        }
    }

    /// A record from a format that does not record the creation time.
    #[must_use]
    pub fn without_created(accessed: Timestamp, state: Map<String, Value>) -> Self {
        Record {
            accessed,
            created: None,
            state,
        }
    }

    /// Appends the payload JSON exactly as Python's `json.dumps([accessed, created, state])`. A
    /// record without `created` is written with `created = accessed`, the latest time it can have
    /// been created, so the triple stays one Pyramid reads.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        out.push(b'[');
        self.accessed.write_json(out);
        out.extend_from_slice(b", ");
        self.created.unwrap_or(self.accessed).write_json(out);
        out.extend_from_slice(b", ");
        pyjson::write_object(out, &self.state);
        out.push(b']');
    }

    /// Parses `[accessed, created, state]` JSON (a verified cookie payload, or the bytes a store
    /// kept) into a record.
    ///
    /// # Errors
    /// [`DecodeError::MalformedJson`], [`DecodeError::TooDeep`] or [`DecodeError::BadShape`].
    pub fn from_json(payload: &[u8]) -> Result<Record, DecodeError> {
        // Streamed straight into the record (no intermediate array of values); a shape problem
        // is reported through `shape`, everything else is a JSON error.
        let shape = Cell::new(None);
        let mut de = serde_json::Deserializer::from_slice(payload);
        let parsed = RecordSeed { shape: &shape }
            .deserialize(&mut de)
            .and_then(|record| de.end().map(|()| record));
        parsed.map_err(|err| {
            if let Some(shape) = shape.take() {
                DecodeError::BadShape(shape)
            } else if nesting_depth(payload) > MAX_JSON_DEPTH {
                DecodeError::TooDeep
            } else {
                DecodeError::MalformedJson(err)
            }
        })
    }
}

/// Parses a session state that a format carries as a bare JSON object (Flask's and Django's
/// payloads), with the same errors as [`Record::from_json`]: too deep, not JSON, not an object.
#[cfg(any(feature = "flask", feature = "django"))]
pub(crate) fn state_from_json(json: &[u8]) -> Result<Map<String, Value>, DecodeError> {
    match serde_json::from_slice::<Value>(json) {
        Ok(Value::Object(state)) => Ok(state),
        Ok(_) => Err(DecodeError::BadShape(ShapeError::StateNotObject)),
        Err(_) if nesting_depth(json) > MAX_JSON_DEPTH => Err(DecodeError::TooDeep),
        Err(err) => Err(DecodeError::MalformedJson(err)),
    }
}

/// Maximum bracket depth outside strings; only computed on the error path, to name the cause.
fn nesting_depth(json: &[u8]) -> usize {
    let (mut depth, mut max, mut in_str, mut escaped) = (0usize, 0usize, false, false);
    for &b in json {
        if in_str {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// Deserializes `[accessed, created, state]` directly into a [`Record`], noting the first shape
/// problem in `shape` (the error value itself only says "bad shape").
struct RecordSeed<'a> {
    shape: &'a Cell<Option<ShapeError>>,
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
