//! How Flask's tags sit in a session's JSON: which one-key objects are tagged values, how a
//! session is written so that Flask reads back every dict as a dict (escaping with `" di"` as
//! Flask does), and the checks a cookie's tagged values pass when read. The serde types for the
//! tagged values are in [`tagged`](super::tagged).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use super::date;
use super::tagged::{BYTES, DATETIME, DICT, MARKUP, TAGS, TUPLE, UUID, Uuid};
use crate::format::error::DecodeError;
use crate::pyjson::{self, JsonStyle};

/// The tag name in a `" di"` key (`" t__"` -> `" t"`).
pub(super) fn dict_key(key: &str) -> Option<&str> {
    key.strip_suffix("__").filter(|tag| TAGS.contains(tag))
}

/// What is wrong with a tagged value in a cookie.
#[derive(Debug, thiserror::Error)]
#[error("the tagged value {tag:?} does not hold {expected}")]
struct TagError {
    tag: &'static str,
    expected: &'static str,
}

/// Whether `key` is the name of one of Flask's tags.
pub(super) fn is_tag(key: &str) -> bool {
    TAGS.contains(&key)
}

/// A one-key object whose key is a tag name and whose payload is what Flask writes under that
/// tag: the tagged value itself. Any other one-key object with a tag name is a plain dict to
/// Flask (it is written escaped, see [`write`]).
fn as_tagged(map: &Map<String, Value>) -> Option<(&'static str, &Value)> {
    let (key, payload) = map.iter().next().filter(|_| map.len() == 1)?;
    let tag = TAGS.iter().find(|tag| **tag == key)?;
    check_payload(tag, payload)
        .is_ok()
        .then_some((*tag, payload))
}

/// Writes a session value as Flask's `TaggedJSONSerializer` would (compact, keys sorted, ASCII
/// only): a tagged value as it is, and a one-key object whose key is a tag name but whose payload
/// is not that tag's, which can only be a dict, escaped as Flask escapes such a dict,
/// `{" di": {"<key>__": value}}`. So whatever a handler stores, Flask reads a dict back as a
/// dict, and never fails on a value sesi wrote.
pub(super) fn write(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Array(items) => {
            pyjson::write_array_with(out, items, JsonStyle::COMPACT_SORTED, write)
        }
        Value::Object(map) => match map.iter().next() {
            Some((key, payload)) if map.len() == 1 && is_tag(key) && as_tagged(map).is_none() => {
                write_escaped_dict(out, key, payload);
            }
            _ => write_object(out, map),
        },
        scalar => pyjson::write_value(out, scalar),
    }
}

/// An object with its keys sorted, each value written by [`write`].
pub(super) fn write_object(out: &mut Vec<u8>, map: &Map<String, Value>) {
    pyjson::write_object_with(out, map, JsonStyle::COMPACT_SORTED, write);
}

/// `{" di": {"<key>__": value}}`: Flask's form of a dict whose only key is the tag name `key`.
pub(super) fn write_escaped_dict(out: &mut Vec<u8>, key: &str, value: &Value) {
    out.extend_from_slice(br#"{" di":{"#);
    pyjson::write_str(out, &format!("{key}__"));
    out.push(b':');
    write(out, value);
    out.extend_from_slice(b"}}");
}

/// Checks every tagged value in `value` (at any depth) is in the form Flask writes it, and
/// reads each escaped dict whose inner value is not a valid payload of its key's tag back as
/// the plain one-key object [`write`] escapes: `{" di": {" u__": "x"}}` becomes `{" u": "x"}`,
/// which is written escaped again, so such a value reads and writes back unchanged. An escaped
/// dict whose inner value would be a valid tagged value stays escaped (unwrapped, it would read
/// as that tag).
pub(super) fn read(value: &mut Value) -> Result<(), DecodeError> {
    match value {
        Value::Array(items) => items.iter_mut().try_for_each(read),
        Value::Object(map) => {
            map.values_mut().try_for_each(read)?;
            let Some((key, payload)) = map.iter().next().filter(|_| map.len() == 1) else {
                return Ok(());
            };
            let Some(tag) = TAGS.iter().find(|tag| **tag == key) else {
                return Ok(());
            };
            check_payload(tag, payload).map_err(|expected| DecodeError::Format {
                kind: "bad_tag",
                source: Box::new(TagError { tag, expected }),
            })?;
            if *tag == DICT
                && let Some((inner_key, inner)) = payload.as_object().and_then(|p| p.iter().next())
                && let Some(inner_tag) = dict_key(inner_key)
                && check_payload(inner_tag, inner).is_err()
            {
                let mut plain = Map::with_capacity(1);
                plain.insert(inner_tag.to_owned(), inner.clone());
                *map = plain;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The session's own dict when its only key is a tag name: Flask always escapes it (a session is
/// a dict, never a tuple), `{" di": {" t__": ...}}` for `{" t": ...}`. Returns the state to use:
/// unwrapped when escaped; an error when the top level is another tag, which Flask cannot read
/// as a session.
pub(super) fn read_top_level(state: Map<String, Value>) -> Result<Map<String, Value>, DecodeError> {
    let Some((key, payload)) = state.iter().next().filter(|_| state.len() == 1) else {
        return Ok(state);
    };
    if !is_tag(key) {
        return Ok(state);
    }
    let escaped = (key == DICT)
        .then(|| payload.as_object())
        .flatten()
        .and_then(|inner| inner.iter().next().filter(|_| inner.len() == 1))
        .and_then(|(inner_key, inner)| Some((dict_key(inner_key)?, inner)));
    match escaped {
        Some((inner_tag, inner)) => {
            let mut plain = Map::with_capacity(1);
            plain.insert(inner_tag.to_owned(), inner.clone());
            Ok(plain)
        }
        None => Err(DecodeError::Format {
            kind: "bad_tag",
            source: Box::new(TagError {
                tag: TAGS
                    .iter()
                    .find(|tag| **tag == key)
                    .copied()
                    .unwrap_or(DICT),
                expected: "a session dict (Flask escapes one whose only key is a tag name)",
            }),
        }),
    }
}

/// Whether `payload` is what Flask writes under the tag `tag`.
pub(super) fn is_payload_of(tag: &str, payload: &Value) -> bool {
    check_payload(tag, payload).is_ok()
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
