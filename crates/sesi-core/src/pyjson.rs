//! A JSON writer that produces exactly the text of Python's `json.dumps(obj)` with default arguments,
//! so that the HMAC over the payload (and so the whole cookie) is byte-for-byte what Pyramid writes.
//!
//! Python's defaults: `", "` and `": "` separators, `ensure_ascii=True` (every character outside
//! `' '..='~'` escaped as lowercase `\uXXXX`, with surrogate pairs above the BMP), floats written by
//! `float.__repr__` (shortest round-trip digits, exponent form outside `1e-4 <= |x| < 1e16`), and
//! objects in insertion order.

use serde_json::{Map, Number, Value};

/// Appends the Python `json.dumps` text of `value` to `out`.
pub fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b", ");
                }
                write_value(out, item);
            }
            out.push(b']');
        }
        Value::Object(map) => write_object(out, map),
    }
}

/// Appends the Python `json.dumps` text of a JSON object.
pub fn write_object(out: &mut Vec<u8>, map: &Map<String, Value>) {
    out.push(b'{');
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b", ");
        }
        write_str(out, key);
        out.extend_from_slice(b": ");
        write_value(out, value);
    }
    out.push(b'}');
}

/// How `json.dumps` was called, beyond the defaults that [`write_value`] follows: the
/// separators and whether object keys are sorted. `ensure_ascii` and float formatting are the
/// same in every style (Flask and Django both keep Python's defaults for them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonStyle {
    /// `separators=(",", ":")` instead of `(", ", ": ")`.
    pub compact: bool,
    /// `sort_keys=True`: object keys in code-point order (which is UTF-8 byte order).
    pub sort_keys: bool,
}

impl JsonStyle {
    /// `json.dumps(obj)`: Pyramid's serializer.
    pub const PYTHON_DEFAULT: JsonStyle = JsonStyle {
        compact: false,
        sort_keys: false,
    };
    /// `json.dumps(obj, separators=(",", ":"))`: Django's `signing.JSONSerializer`.
    pub const COMPACT: JsonStyle = JsonStyle {
        compact: true,
        sort_keys: false,
    };
    /// Compact with `sort_keys=True`: Flask's session serializer (its JSON provider sorts keys).
    pub const COMPACT_SORTED: JsonStyle = JsonStyle {
        compact: true,
        sort_keys: true,
    };
}

/// Appends the `json.dumps` text of `value` in `style`.
///
/// ```
/// use sesi_core::pyjson::{JsonStyle, write_value_styled};
/// let value = serde_json::json!({"b": "h\u{e9}llo", "a": {" t": [1, 2]}});
/// let mut out = Vec::new();
/// write_value_styled(&mut out, &value, JsonStyle::COMPACT_SORTED);
/// assert_eq!(out, br#"{"a":{" t":[1,2]},"b":"h\u00e9llo"}"#);
/// ```
pub fn write_value_styled(out: &mut Vec<u8>, value: &Value, style: JsonStyle) {
    if style == JsonStyle::PYTHON_DEFAULT {
        return write_value(out, value);
    }
    match value {
        Value::Array(items) => {
            write_array_with(out, items, style, |out, item| {
                write_value_styled(out, item, style);
            });
        }
        Value::Object(map) => {
            write_object_with(out, map, style, |out, item| {
                write_value_styled(out, item, style);
            });
        }
        scalar => write_value(out, scalar),
    }
}

/// `(item separator, key separator)` of `style`.
fn separators(style: JsonStyle) -> (&'static [u8], &'static [u8]) {
    if style.compact {
        (b",", b":")
    } else {
        (b", ", b": ")
    }
}

/// Appends an array with `style`'s separator, each item written by `write_item`: the styled
/// writer, or a format's own (Flask's tags).
pub(crate) fn write_array_with(
    out: &mut Vec<u8>,
    items: &[Value],
    style: JsonStyle,
    mut write_item: impl FnMut(&mut Vec<u8>, &Value),
) {
    let (item_sep, _) = separators(style);
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(item_sep);
        }
        write_item(out, item);
    }
    out.push(b']');
}

/// Appends an object with `style`'s separators and key order, each value written by
/// `write_item`.
pub(crate) fn write_object_with(
    out: &mut Vec<u8>,
    map: &Map<String, Value>,
    style: JsonStyle,
    mut write_item: impl FnMut(&mut Vec<u8>, &Value),
) {
    let (item_sep, key_sep) = separators(style);
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    if style.sort_keys {
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
    }
    out.push(b'{');
    for (i, (key, value)) in entries.into_iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(item_sep);
        }
        write_str(out, key);
        out.extend_from_slice(key_sep);
        write_item(out, value);
    }
    out.push(b'}');
}

/// Appends a JSON number: integers as integers, floats as Python's `repr` writes them.
pub fn write_number(out: &mut Vec<u8>, n: &Number) {
    if let Some(i) = n.as_i64() {
        out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes());
    } else if let Some(u) = n.as_u64() {
        out.extend_from_slice(itoa::Buffer::new().format(u).as_bytes());
    } else if let Some(f) = n.as_f64() {
        write_float(out, f);
    }
}

/// Appends `f` as Python's `repr(float)` does (`1764000000.0`, `1e-07`, `1e+22`, `0.1`).
///
/// Non-finite values cannot occur in a `serde_json::Value`; if given one, this writes what Python's
/// `json.dumps` would (`NaN`, `Infinity`, `-Infinity`), which is not valid JSON.
pub fn write_float(out: &mut Vec<u8>, f: f64) {
    if f.is_nan() {
        out.extend_from_slice(b"NaN");
        return;
    }
    if f.is_infinite() {
        out.extend_from_slice(if f > 0.0 { b"Infinity" } else { b"-Infinity" });
        return;
    }
    if f.is_sign_negative() {
        out.push(b'-');
    }
    if f == 0.0 {
        out.extend_from_slice(b"0.0");
        return;
    }
    // ryu gives the shortest round-trip digits, as Python's repr does; only the layout differs,
    // so take ryu's text apart into digits and a decimal point position.
    let mut ryu_buf = ryu::Buffer::new();
    let text = ryu_buf.format_finite(f.abs()).as_bytes();
    // From 1e-4 up to 1e16 Python writes positional notation with at least one digit after the
    // point, as ryu does there: a timestamp (every cookie's `created`) is copied as it is.
    if (1e-4..1e16).contains(&f.abs()) && !text.contains(&b'e') {
        out.extend_from_slice(text);
        return;
    }
    let (mantissa, exp) = match text.iter().position(|&b| b == b'e') {
        Some(e) => (&text[..e], parse_exp(&text[e + 1..])),
        None => (text, 0),
    };
    let (int_part, frac_part) = match mantissa.iter().position(|&b| b == b'.') {
        Some(dot) => (&mantissa[..dot], &mantissa[dot + 1..]),
        None => (mantissa, &[][..]),
    };
    let mut digits = [0u8; 40];
    let mut n = 0;
    for &b in int_part.iter().chain(frac_part) {
        digits[n] = b;
        n += 1;
    }
    // Python's `decpt`: the value is 0.d1d2... * 10^decpt.
    let mut decpt = int_part.len() as i32 + exp;
    let leading = digits[..n].iter().take_while(|&&d| d == b'0').count();
    decpt -= leading as i32;
    let trailing = digits[leading..n]
        .iter()
        .rev()
        .take_while(|&&d| d == b'0')
        .count();
    let digits = &digits[leading..n - trailing];
    layout(out, digits, decpt);
}

fn parse_exp(text: &[u8]) -> i32 {
    let (negative, body) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    let magnitude = body
        .iter()
        .fold(0i32, |acc, &d| acc * 10 + i32::from(d - b'0'));
    if negative { -magnitude } else { magnitude }
}

/// Python's `float_repr_style = 'short'` layout of `0.<digits> * 10^decpt`: fixed notation when
/// `-4 < decpt <= 16`, exponent notation otherwise.
fn layout(out: &mut Vec<u8>, digits: &[u8], decpt: i32) {
    if decpt <= -4 || decpt > 16 {
        let exp = decpt - 1;
        out.push(digits[0]);
        if digits.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        out.push(b'e');
        out.push(if exp < 0 { b'-' } else { b'+' });
        let magnitude = exp.unsigned_abs();
        if magnitude < 10 {
            out.push(b'0');
        }
        out.extend_from_slice(itoa::Buffer::new().format(magnitude).as_bytes());
    } else if decpt <= 0 {
        out.extend_from_slice(b"0.");
        out.resize(out.len() + decpt.unsigned_abs() as usize, b'0');
        out.extend_from_slice(digits);
    } else {
        let decpt = decpt as usize;
        if decpt >= digits.len() {
            out.extend_from_slice(digits);
            out.resize(out.len() + (decpt - digits.len()), b'0');
            out.extend_from_slice(b".0");
        } else {
            out.extend_from_slice(&digits[..decpt]);
            out.push(b'.');
            out.extend_from_slice(&digits[decpt..]);
        }
    }
}

/// Appends a JSON string with Python's `ensure_ascii=True` escaping.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        // Plain printable ASCII (other than `"` and `\`) is copied in runs.
        if (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\' {
            continue;
        }
        if b >= 0x80 && !is_char_start(b) {
            continue; // continuation byte: handled with its lead byte below
        }
        out.extend_from_slice(&bytes[start..i]);
        start = i + 1;
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            _ => b"",
        };
        if !escape.is_empty() {
            out.extend_from_slice(escape);
            continue;
        }
        let ch = s[i..].chars().next().expect("i is a char boundary");
        start = i + ch.len_utf8();
        let mut units = [0u16; 2];
        for unit in ch.encode_utf16(&mut units) {
            let unit = *unit;
            out.extend_from_slice(b"\\u");
            for shift in [12, 8, 4, 0] {
                out.push(HEX[usize::from((unit >> shift) & 0xf)]);
            }
        }
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

fn is_char_start(b: u8) -> bool {
    b & 0xc0 != 0x80
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dumps(v: &Value) -> String {
        let mut out = Vec::new();
        write_value(&mut out, v);
        String::from_utf8(out).expect("writer emits ASCII")
    }

    fn float(f: f64) -> String {
        let mut out = Vec::new();
        write_float(&mut out, f);
        String::from_utf8(out).expect("ascii")
    }

    #[test]
    fn floats_match_python_repr() {
        // Each pair is `repr(x)` as printed by CPython 3.11.
        let cases: &[(f64, &str)] = &[
            (1764000000.0, "1764000000.0"),
            (1764000000.25, "1764000000.25"),
            (1763999899.875, "1763999899.875"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (-2.5, "-2.5"),
            (0.1, "0.1"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1e-7, "1e-07"),
            (1.5e-7, "1.5e-07"),
            (123456789012345.6, "123456789012345.6"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.2345e16, "1.2345e+16"),
            (1e22, "1e+22"),
            (1e100, "1e+100"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (8000.5, "8000.5"),
            // An exact tie between ...714.2 and ...714.3 (the value is ...714.25): Python
            // rounds half to even. Found by the proptest below.
            (f64::from_bits(4834453853148446569), "1648763151818714.2"),
            (1764000000.123456, "1764000000.123456"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
        ];
        for (f, want) in cases {
            assert_eq!(float(*f), *want, "repr of {f:e}");
        }
    }

    /// The same layout computed from the standard library's shortest `{:e}` digits, as an
    /// independent oracle for the ryu-based writer.
    fn python_repr_via_std(f: f64) -> String {
        let sci = format!("{:e}", f.abs());
        let (mantissa, exp) = sci.split_once('e').expect("exponent");
        let digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
        let mut out = Vec::new();
        if f.is_sign_negative() {
            out.push(b'-');
        }
        if f == 0.0 {
            out.extend_from_slice(b"0.0");
        } else {
            layout(&mut out, &digits, exp.parse::<i32>().expect("int") + 1);
        }
        String::from_utf8(out).expect("ascii")
    }

    /// `write_float(f)` against [`python_repr_via_std`]: the same value, length and layout, up
    /// to an exact tie that Python and ryu resolve to even and the standard library may not.
    fn agrees_with_the_oracle(f: f64) -> Result<(), proptest::test_runner::TestCaseError> {
        let written = float(f);
        let oracle = python_repr_via_std(f);
        proptest::prop_assert_eq!(written.parse::<f64>().ok(), Some(f));
        // Same shortest length and layout. When two shortest spellings are equally close
        // (an exact tie), Python rounds the last digit half-to-even, as ryu does; the
        // standard library may pick the other one.
        proptest::prop_assert_eq!(written.len(), oracle.len(), "{} vs {}", written, oracle);
        if written != oracle {
            let (w, o) = (written.as_bytes(), oracle.as_bytes());
            let differ: Vec<usize> = (0..w.len()).filter(|&i| w[i] != o[i]).collect();
            proptest::prop_assert_eq!(differ.len(), 1, "{} vs {}", written, oracle);
            let i = differ[0];
            proptest::prop_assert!(
                w[i].abs_diff(o[i]) == 1 && (w[i] - b'0').is_multiple_of(2),
                "{} vs {}: not a tie resolved to even",
                written,
                oracle
            );
        }
        Ok(())
    }

    proptest::proptest! {
        #[test]
        fn ryu_writer_agrees_with_the_std_oracle(bits in proptest::prelude::any::<u64>()) {
            let f = f64::from_bits(bits);
            proptest::prop_assume!(f.is_finite());
            agrees_with_the_oracle(f)?;
        }

        /// Random bits rarely land in the positional range the fast path copies from ryu, where
        /// every timestamp is: this samples it on purpose, timestamps with fractions included.
        #[test]
        fn the_positional_fast_path_agrees_with_the_std_oracle(
            f in 1e-4f64..1e16,
            stamp in 1.0e9f64..2.0e9,
            negative in proptest::prelude::any::<bool>(),
        ) {
            agrees_with_the_oracle(if negative { -f } else { f })?;
            agrees_with_the_oracle(stamp)?;
        }
    }

    #[test]
    fn strings_are_escaped_like_ensure_ascii() {
        assert_eq!(dumps(&json!("Kopi Tubruk ☕")), r#""Kopi Tubruk \u2615""#);
        assert_eq!(dumps(&json!("é😀")), r#""\u00e9\ud83d\ude00""#);
        assert_eq!(
            dumps(&json!("q\"b\\n\n\r\t\u{8}\u{c}\u{1}\u{7f}/")),
            r#""q\"b\\n\n\r\t\b\f\u0001\u007f/""#
        );
        assert_eq!(dumps(&json!("")), r#""""#);
    }

    #[test]
    fn styles_follow_json_dumps_arguments() {
        let value = serde_json::json!({"z": [1, {"y": 2.5, "b": null}], "a": "\u{e9}"});
        let styled = |style| {
            let mut out = Vec::new();
            write_value_styled(&mut out, &value, style);
            String::from_utf8(out).expect("the writer writes ASCII")
        };
        // Each line is what Python 3.11 printed for the same dict.
        assert_eq!(
            styled(JsonStyle::PYTHON_DEFAULT),
            r#"{"z": [1, {"y": 2.5, "b": null}], "a": "\u00e9"}"#
        );
        assert_eq!(
            styled(JsonStyle::COMPACT),
            r#"{"z":[1,{"y":2.5,"b":null}],"a":"\u00e9"}"#
        );
        assert_eq!(
            styled(JsonStyle::COMPACT_SORTED),
            r#"{"a":"\u00e9","z":[1,{"b":null,"y":2.5}]}"#
        );
        // Code-point order, as Python sorts str keys: "Z" < "a" < "\u{e9}" < "\u{1f600}".
        let keys = serde_json::json!({"\u{1f600}": 1, "\u{e9}": 2, "a": 3, "Z": 4});
        let mut out = Vec::new();
        write_value_styled(&mut out, &keys, JsonStyle::COMPACT_SORTED);
        assert_eq!(
            String::from_utf8(out).expect("the writer writes ASCII"),
            r#"{"Z":4,"a":3,"\u00e9":2,"\ud83d\ude00":1}"#
        );
    }

    #[test]
    fn containers_use_python_separators_and_keep_key_order() {
        let v: Value = serde_json::from_str(r#"{"z": 1, "a": [1, 2.0, {}, []], "m": null}"#)
            .expect("valid json");
        assert_eq!(dumps(&v), r#"{"z": 1, "a": [1, 2.0, {}, []], "m": null}"#);
        assert_eq!(
            dumps(&json!([true, false, -7, 18446744073709551615u64])),
            "[true, false, -7, 18446744073709551615]"
        );
    }
}
