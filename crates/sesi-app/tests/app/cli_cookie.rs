//! `sesi cookie decode`, `sesi cookie encode` and `sesi keygen`, run as the built binary, against
//! the known answers Pyramid produced (`crates/sesi-core/tests/data/pyramid-cookies.json`). No
//! Python needed; `interop::cli` checks the same tools against the live Pyramid.

use std::path::Path;

use serde_json::{Value, json};
use tempfile::TempDir;

use crate::support::process::{Run, run_sesi};

/// The secret of the vectors.
const SECRET: &str = "rahasia_dapur_123";

/// `sesi ARGS` with `stdin`, with none of the caller's SESI_* variables, plus `env`.
fn sesi_env(args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Run {
    run_sesi(args, env, stdin)
}

fn sesi(args: &[&str]) -> Run {
    sesi_env(args, None, &[])
}

/// Exit 0 and the standard output.
fn ok(o: &Run) -> String {
    assert_eq!(o.code(), 0, "stdout:\n{}stderr:\n{}", o.stdout, o.stderr);
    o.stdout.clone()
}

/// A non-zero exit with exactly one line on stderr, which contains every one of `needles`.
fn fails(o: &Run, expected: i32, needles: &[&str]) {
    let stderr = &o.stderr;
    assert_eq!(o.code(), expected, "stdout:\n{}stderr:\n{stderr}", o.stdout);
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr:?}");
    for needle in needles {
        assert!(stderr.contains(needle), "{needle:?} not in {stderr:?}");
    }
}

#[derive(Debug)]
struct Case {
    name: String,
    secret: String,
    salt: String,
    hashalg: String,
    cookie: String,
    valid: bool,
    accessed: Value,
    created: Value,
    state: Value,
}

fn vectors() -> Vec<Case> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../sesi-core/tests/data/pyramid-cookies.json");
    let text = std::fs::read_to_string(&path).expect("the Pyramid vectors");
    let doc: Value = serde_json::from_str(&text).expect("vectors are JSON");
    let text_of = |c: &Value, k: &str| c[k].as_str().expect(k).to_owned();
    doc["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| Case {
            name: text_of(c, "name"),
            secret: text_of(c, "secret"),
            salt: text_of(c, "salt"),
            hashalg: text_of(c, "hashalg"),
            cookie: text_of(c, "cookie"),
            valid: c["valid"].as_bool().expect("valid"),
            accessed: c["accessed"].clone(),
            created: c["created"].clone(),
            state: c["state"].clone(),
        })
        .collect()
}

fn vector(name: &str) -> Case {
    vectors()
        .into_iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no vector {name}"))
}

/// A JSON number as Python writes it (`1764000000.0` for a whole float).
fn py_number(v: &Value) -> String {
    match (v.as_i64(), v.as_f64()) {
        (Some(i), _) => i.to_string(),
        (None, Some(f)) if f.fract() == 0.0 => format!("{f:.1}"),
        (None, Some(f)) => f.to_string(),
        _ => panic!("not a number: {v}"),
    }
}

/// The value printed after `label` in parentheses: `created   2025-... UTC (1764000000.25)`.
fn raw_field(stdout: &str, label: &str) -> String {
    let line = stdout
        .lines()
        .find(|l| l.starts_with(label))
        .unwrap_or_else(|| panic!("no {label} line in:\n{stdout}"));
    let (_, raw) = line.rsplit_once(" (").expect("DATE (RAW)");
    raw.trim_end_matches(')').to_owned()
}

/// The pretty JSON after `state:`.
fn printed_state(stdout: &str) -> Value {
    let (_, rest) = stdout.split_once("state:\n").expect("a state: section");
    let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
    stream.next().expect("a state").expect("state is JSON")
}

fn key_args(c: &Case) -> Vec<&str> {
    vec![
        "--secret",
        &c.secret,
        "--hashalg",
        &c.hashalg,
        "--salt",
        &c.salt,
    ]
}

// ------------------------------------------------------------------------------------ decode

#[test]
fn decode_prints_every_valid_vector_exactly() {
    let cases: Vec<Case> = vectors().into_iter().filter(|c| c.valid).collect();
    assert!(cases.len() >= 10, "the vectors are there");
    for c in cases {
        let mut args = vec!["cookie", "decode"];
        args.extend(key_args(&c));
        args.push(&c.cookie);
        let stdout = ok(&sesi(&args));
        assert!(
            stdout.starts_with(&format!(
                "verified  by the current secret (the first one given), {} with salt {:?}\n",
                c.hashalg, c.salt
            )),
            "{}: {stdout}",
            c.name
        );
        assert_eq!(
            raw_field(&stdout, "accessed"),
            py_number(&c.accessed),
            "{}",
            c.name
        );
        assert_eq!(
            raw_field(&stdout, "created"),
            py_number(&c.created),
            "{}",
            c.name
        );
        let state = printed_state(&stdout);
        assert_eq!(state.to_string(), c.state.to_string(), "{}", c.name);
    }
}

#[test]
fn decode_shows_dates_in_utc() {
    let c = vector("cart");
    let stdout = ok(&sesi(&["cookie", "decode", "--secret", SECRET, &c.cookie]));
    assert!(
        stdout.contains("accessed  2025-11-24 16:00:05 UTC (1764000005)\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("created   2025-11-24 15:58:19 UTC (1763999899.875)\n"),
        "{stdout}"
    );
    assert!(stdout.contains("\"name\": \"Kopi Tubruk ☕\""), "{stdout}");
}

#[test]
fn decode_names_the_fallback_secret_that_verified() {
    let c = vector("counter");
    // A rotation list is a repeated --secret, the first signing.
    let stdout = ok(&sesi(&[
        "cookie",
        "decode",
        "--secret",
        "a-brand-new-secret",
        "--secret",
        SECRET,
        &c.cookie,
    ]));
    assert!(
        stdout.starts_with("verified  by fallback secret #1 (re-issue it with the current secret)"),
        "{stdout}"
    );
    assert_eq!(printed_state(&stdout), json!({"counter": 1}));

    // The same from a secret file, one per line, and from SESI_SECRET.
    let dir = TempDir::new().expect("temp dir");
    let file = dir.path().join("secrets");
    std::fs::write(&file, format!("first\nsecond\n{SECRET}\n")).expect("write");
    let path = file.to_str().expect("UTF-8 path");
    let stdout = ok(&sesi(&[
        "cookie",
        "decode",
        "--secret-file",
        path,
        &c.cookie,
    ]));
    assert!(
        stdout.starts_with("verified  by fallback secret #2"),
        "{stdout}"
    );
    // SESI_SECRET holds exactly one secret: a comma in it is part of it, never a separator.
    let o = sesi_env(
        &["cookie", "decode", &c.cookie],
        None,
        &[("SESI_SECRET", &format!("a-brand-new-secret,{SECRET}"))],
    );
    fails(&o, 1, &["cookie does not verify", "bad signature"]);
    let with_comma = "a secret, with a comma, is one secret";
    let cookie = ok(&sesi_env(
        &["cookie", "encode", "{}"],
        None,
        &[("SESI_SECRET", with_comma)],
    ));
    let o = sesi(&["cookie", "decode", "--secret", with_comma, cookie.trim()]);
    assert!(ok(&o).starts_with("verified  by the current secret"));
    let o = sesi(&["cookie", "decode", "--secret", "a secret", cookie.trim()]);
    fails(&o, 1, &["bad signature"]);
}

#[test]
fn decode_refuses_every_invalid_vector_with_one_line() {
    let cases: Vec<Case> = vectors()
        .into_iter()
        .filter(|c| !c.valid && !c.cookie.is_empty())
        .collect();
    assert!(cases.len() >= 7, "the vectors are there");
    for c in cases {
        let mut args = vec!["cookie", "decode"];
        args.extend(key_args(&c));
        args.push(&c.cookie);
        let o = sesi(&args);
        fails(&o, 1, &["sesi: cookie does not verify: "]);
        assert_eq!(o.stdout, "", "{}: nothing on stdout", c.name);
    }
}

#[test]
fn decode_with_the_wrong_secret_salt_or_hashalg_exits_1() {
    let c = vector("counter");
    let o = sesi(&["cookie", "decode", "--secret", "not-the-secret", &c.cookie]);
    fails(&o, 1, &["does not verify", "signature"]);
    let o = sesi(&[
        "cookie", "decode", "--secret", SECRET, "--salt", "other.", &c.cookie,
    ]);
    fails(&o, 1, &["does not verify"]);
    let o = sesi(&[
        "cookie",
        "decode",
        "--secret",
        SECRET,
        "--hashalg",
        "sha256",
        &c.cookie,
    ]);
    fails(&o, 1, &["does not verify"]);
}

#[test]
fn no_verify_prints_the_payload_marked_unverified() {
    let c = vector("wrong-secret");
    // Without any secret.
    let stdout = ok(&sesi(&["cookie", "decode", "--no-verify", &c.cookie]));
    assert!(stdout.starts_with("UNVERIFIED: "), "{stdout}");
    assert_eq!(stdout.matches("UNVERIFIED").count(), 2, "{stdout}");
    assert!(!stdout.contains("verified  by"), "{stdout}");
    assert!(printed_state(&stdout).is_object());
    // With a secret that does not match, it is still shown, still unverified.
    let stdout = ok(&sesi(&[
        "cookie",
        "decode",
        "--no-verify",
        "--secret",
        SECRET,
        &c.cookie,
    ]));
    assert!(stdout.starts_with("UNVERIFIED: "), "{stdout}");

    // The payload of a good cookie, read without the secret.
    let good = vector("counter");
    let stdout = ok(&sesi(&["cookie", "decode", "--no-verify", &good.cookie]));
    assert_eq!(raw_field(&stdout, "created"), "1764000000.25");
    assert_eq!(printed_state(&stdout), json!({"counter": 1}));

    // Not a cookie at all: nothing to show.
    let o = sesi(&["cookie", "decode", "--no-verify", "!!not base64!!"]);
    fails(&o, 1, &["cannot be read"]);
}

#[test]
fn decode_without_any_secret_says_how_to_give_one() {
    let c = vector("counter");
    let o = sesi(&["cookie", "decode", &c.cookie]);
    fails(&o, 2, &["no secret given", "--secret", "--no-verify"]);
}

#[test]
fn timeout_says_whether_the_cookie_would_be_expired() {
    // The vector was last accessed in 2025: long expired under a one-minute timeout.
    let c = vector("counter");
    let stdout = ok(&sesi(&[
        "cookie",
        "decode",
        "--secret",
        SECRET,
        "--timeout",
        "60",
        &c.cookie,
    ]));
    assert!(stdout.contains("\nexpired   yes (idle "), "{stdout}");
    assert!(stdout.contains("timeout 60 s"), "{stdout}");
    let stdout = ok(&sesi(&[
        "cookie",
        "decode",
        "--secret",
        SECRET,
        "--timeout",
        "none",
        &c.cookie,
    ]));
    assert!(stdout.contains("\nexpired   no (no timeout)"), "{stdout}");

    // A cookie made now is not.
    let fresh = ok(&sesi(&["cookie", "encode", "--secret", SECRET, "{}"]));
    let stdout = ok(&sesi(&[
        "cookie",
        "decode",
        "--secret",
        SECRET,
        "--timeout",
        "60",
        fresh.trim(),
    ]));
    assert!(stdout.contains("\nexpired   no (idle "), "{stdout}");

    // Without --timeout nothing is said about expiry.
    let stdout = ok(&sesi(&["cookie", "decode", "--secret", SECRET, &c.cookie]));
    assert!(!stdout.contains("expired"), "{stdout}");
}

#[test]
fn decode_reads_the_cookie_from_stdin_and_accepts_name_equals_value() {
    let c = vector("counter");
    let piped = sesi_env(
        &["cookie", "decode", "--secret", SECRET, "-"],
        Some(&format!("{}\n", c.cookie)),
        &[],
    );
    let direct = ok(&sesi(&["cookie", "decode", "--secret", SECRET, &c.cookie]));
    assert_eq!(ok(&piped), direct);

    for copied in [
        format!("session={}", c.cookie),
        format!("warung_sid={}", c.cookie),
        format!("  session={}  ", c.cookie),
    ] {
        let o = sesi(&["cookie", "decode", "--secret", SECRET, &copied]);
        assert_eq!(ok(&o), direct, "{copied:?}");
    }
    let piped = sesi_env(
        &["cookie", "decode", "--secret", SECRET, "-"],
        Some(&format!("session={}\n", c.cookie)),
        &[],
    );
    assert_eq!(ok(&piped), direct);
}

// ------------------------------------------------------------------------------------ encode

#[test]
fn encode_reproduces_every_valid_vector_byte_for_byte() {
    let cases: Vec<Case> = vectors()
        .into_iter()
        .filter(|c| c.valid && c.state.is_object())
        .collect();
    assert!(cases.len() >= 10, "the vectors are there");
    for c in cases {
        let (accessed, created) = (py_number(&c.accessed), py_number(&c.created));
        let state = c.state.to_string();
        let mut args = vec!["cookie", "encode"];
        args.extend(key_args(&c));
        args.extend(["--accessed", &accessed, "--created", &created, &state]);
        let stdout = ok(&sesi(&args));
        assert_eq!(stdout, format!("{}\n", c.cookie), "{}", c.name);
    }
}

#[test]
fn encode_then_decode_round_trips_with_stdin() {
    let state = "{\"counter\": 3, \"cart\": {\"bakso\": 2}, \"nama\": \"é ☕ 😀\", \"f\": 0.1}\n";
    let encoded = sesi_env(
        &[
            "cookie",
            "encode",
            "--secret",
            SECRET,
            "--hashalg",
            "sha256",
            "--accessed",
            "1764000000",
            "--created",
            "1764000000.5",
            "-",
        ],
        Some(state),
        &[],
    );
    let cookie = ok(&encoded);
    assert_eq!(cookie.lines().count(), 1);
    let decoded = sesi_env(
        &[
            "cookie",
            "decode",
            "--secret",
            SECRET,
            "--hashalg",
            "sha256",
            "-",
        ],
        Some(&cookie),
        &[],
    );
    let stdout = ok(&decoded);
    assert_eq!(raw_field(&stdout, "accessed"), "1764000000");
    assert_eq!(raw_field(&stdout, "created"), "1764000000.5");
    let expected: Value = serde_json::from_str(state).expect("JSON");
    assert_eq!(printed_state(&stdout).to_string(), expected.to_string());
}

#[test]
fn encode_defaults_to_now_like_pyramid() {
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64();
    let cookie = ok(&sesi(&["cookie", "encode", "--secret", SECRET, "{}"]));
    let stdout = ok(&sesi(&[
        "cookie",
        "decode",
        "--secret",
        SECRET,
        cookie.trim(),
    ]));
    let accessed = raw_field(&stdout, "accessed");
    let created = raw_field(&stdout, "created");
    assert!(
        !accessed.contains('.'),
        "accessed is a whole second: {accessed}"
    );
    let accessed: f64 = accessed.parse().expect("number");
    let created: f64 = created.parse().expect("number");
    assert!((accessed - before).abs() < 5.0, "{accessed} vs {before}");
    assert!((created - before).abs() < 5.0, "{created} vs {before}");
    assert!(accessed <= created, "accessed is created rounded down");
}

/// `make_cookie.py --secret rahasia_dapur_123 --accessed 1795626880 --created 1795626880.6376545`
/// of `{}`, and of a state with floats that a parser must read exactly to write them back.
const EXACT_FLOAT_EMPTY: &str = "vrKlEZj_13jiVHFpQ-hL0lzMakbCU43ywFe8zPLqPhAeG4QR0dvVA9xokwXAqG-Ujao8BriIweE7fYCS6Xs7hFsxNzk1NjI2ODgwLCAxNzk1NjI2ODgwLjYzNzY1NDUsIHt9XQ";
const EXACT_FLOAT_STATE: &str = r#"{"t": 0.30000000000000004, "u": 1795626880.6376545}"#;
const EXACT_FLOAT_COOKIE: &str = "MhnJXDXpX4vOvBeGW3EbBAH5I4jx7NYx0q3jdHsk7TZ-jBX7qswxyhZH5AvK4vq2jDNN0mMFotl47BO97gtfglsxNzk1NjI2ODgwLCAxNzk1NjI2ODgwLjYzNzY1NDUsIHsidCI6IDAuMzAwMDAwMDAwMDAwMDAwMDQsICJ1IjogMTc5NTYyNjg4MC42Mzc2NTQ1fV0";

fn encode_exact(state: &str) -> String {
    ok(&sesi(&[
        "cookie",
        "encode",
        "--secret",
        SECRET,
        "--accessed",
        "1795626880",
        "--created",
        "1795626880.6376545",
        state,
    ]))
}

#[test]
fn encode_signs_float_timestamps_exactly() {
    assert_eq!(encode_exact("{}"), format!("{EXACT_FLOAT_EMPTY}\n"));
}

/// Regression: serde_json without its `float_roundtrip` feature reads `1795626880.6376545` as
/// `1795626880.6376543` (one unit in the last place off), so a Pyramid cookie's `created` and
/// float state values were changed when read, shown or re-signed.
#[test]
fn floats_are_read_exactly_as_python_wrote_them() {
    let stdout = ok(&sesi(&[
        "cookie",
        "decode",
        "--secret",
        SECRET,
        EXACT_FLOAT_EMPTY,
    ]));
    assert_eq!(raw_field(&stdout, "created"), "1795626880.6376545");
    let stdout = ok(&sesi(&[
        "cookie",
        "decode",
        "--secret",
        SECRET,
        EXACT_FLOAT_COOKIE,
    ]));
    assert!(stdout.contains("\"u\": 1795626880.6376545\n"), "{stdout}");
    assert_eq!(
        encode_exact(EXACT_FLOAT_STATE),
        format!("{EXACT_FLOAT_COOKIE}\n")
    );
}

#[test]
fn encode_refuses_integers_that_would_be_rounded() {
    let o = sesi(&[
        "cookie",
        "encode",
        "--secret",
        SECRET,
        r#"{"n": 18446744073709551616}"#,
    ]);
    fails(&o, 2, &["18446744073709551616", "64 bits"]);
    // The largest 64-bit integers are fine.
    let state = r#"{"max": 18446744073709551615, "min": -9223372036854775808}"#;
    let cookie = ok(&sesi(&["cookie", "encode", "--secret", SECRET, state]));
    let stdout = ok(&sesi(&[
        "cookie",
        "decode",
        "--secret",
        SECRET,
        cookie.trim(),
    ]));
    assert_eq!(
        printed_state(&stdout).to_string(),
        r#"{"max":18446744073709551615,"min":-9223372036854775808}"#
    );
}

#[test]
fn bad_input_exits_non_zero_with_a_clear_message() {
    let o = sesi(&["cookie", "encode", "--secret", SECRET, "{\"counter\": 1,}"]);
    fails(&o, 2, &["not valid JSON"]);
    let o = sesi_env(
        &["cookie", "encode", "--secret", SECRET, "-"],
        Some("not json"),
        &[],
    );
    fails(&o, 2, &["not valid JSON"]);
    for not_object in ["[1, 2]", "\"counter\"", "42", "null"] {
        let o = sesi(&["cookie", "encode", "--secret", SECRET, not_object]);
        fails(&o, 2, &["must be a JSON object"]);
    }
    let o = sesi(&["cookie", "encode", "{}"]);
    fails(&o, 2, &["no secret given"]);
    let o = sesi(&[
        "cookie",
        "encode",
        "--secret",
        SECRET,
        "--created",
        "yesterday",
        "{}",
    ]);
    assert_eq!(o.code(), 2);
    assert!(o.stderr.contains("not a JSON number"), "{}", o.stderr);
}

#[test]
fn unknown_hashalg_is_refused_by_both_subcommands() {
    let c = vector("counter");
    for sub in [
        vec![
            "cookie",
            "decode",
            "--secret",
            SECRET,
            "--hashalg",
            "md5",
            &c.cookie,
        ],
        vec![
            "cookie",
            "encode",
            "--secret",
            SECRET,
            "--hashalg",
            "md5",
            "{}",
        ],
    ] {
        let o = sesi(&sub);
        assert_eq!(o.code(), 2, "{sub:?}");
        assert!(o.stderr.contains("md5"), "{}", o.stderr);
        assert_eq!(o.stdout, "");
    }
}

#[test]
fn unreadable_or_empty_secret_file_is_an_error() {
    let c = vector("counter");
    let dir = TempDir::new().expect("temp dir");
    let missing = dir.path().join("missing");
    let missing = missing.to_str().expect("UTF-8 path");
    for args in [
        vec!["cookie", "decode", "--secret-file", missing, &c.cookie],
        vec!["cookie", "encode", "--secret-file", missing, "{}"],
    ] {
        fails(&sesi(&args), 2, &["cannot read secret file", missing]);
    }
    let empty = dir.path().join("empty");
    std::fs::write(&empty, "\n  \n").expect("write");
    let empty = empty.to_str().expect("UTF-8 path");
    fails(
        &sesi(&["cookie", "decode", "--secret-file", empty, &c.cookie]),
        2,
        &["holds no secret"],
    );
}

// ------------------------------------------------------------------------------------ keygen

#[test]
fn keygen_prints_a_fresh_128_hex_char_secret() {
    let first = ok(&sesi(&["keygen"]));
    let second = ok(&sesi(&["keygen"]));
    for key in [&first, &second] {
        let key = key.strip_suffix('\n').expect("one line");
        assert_eq!(key.len(), 128, "{key}");
        assert!(
            key.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
            "{key}"
        );
    }
    assert_ne!(first, second);
}

#[test]
fn keygen_secret_works_as_sesi_secret() {
    let key = ok(&sesi(&["keygen"]));
    let env = [("SESI_SECRET", key.trim())];
    let cookie = ok(&sesi_env(
        &["cookie", "encode", r#"{"counter": 1}"#],
        None,
        &env,
    ));
    let stdout = ok(&sesi_env(&["cookie", "decode", cookie.trim()], None, &env));
    assert!(
        stdout.starts_with("verified  by the current secret"),
        "{stdout}"
    );
    assert_eq!(printed_state(&stdout), json!({"counter": 1}));
    // And only that secret.
    let o = sesi(&["cookie", "decode", "--secret", SECRET, cookie.trim()]);
    fails(&o, 1, &["does not verify"]);
}

/// Regression: a base64url value may start with `-`; it must be read as the cookie, not as an
/// option (found by a CI run where an encoded cookie happened to start with `-`).
#[test]
fn decode_accepts_a_cookie_that_starts_with_a_dash() {
    use sesi::core::{
        CookieFormat, DEFAULT_SALT, HashAlg, PyramidFormat, Record, Secret, Secrets, Timestamp,
    };
    let secret = Secret::new_insecure(SECRET).expect("non-empty");
    let codec = PyramidFormat::new(&Secrets::new(secret), DEFAULT_SALT, HashAlg::Sha512);
    let cookie = (0..10_000)
        .map(|n| {
            let state = json!({ "counter": n });
            let state = state.as_object().expect("object").clone();
            codec.encode(&Record::new(
                Timestamp::Int(1764000000),
                Timestamp::Float(1764000000.5),
                state,
            ))
        })
        .find(|cookie| cookie.starts_with('-'))
        .expect("about one cookie in 64 starts with '-'");
    let printed = ok(&sesi(&["cookie", "decode", "--secret", SECRET, &cookie]));
    assert!(printed.contains("\"counter\""), "{printed}");
}

#[test]
fn decode_names_the_id_inside_a_store_cookie() {
    use sesi::CookieFormat as _;
    const STRONG: &str = "the store cookie test secret: longer than 32 bytes";
    let secrets = sesi::Secrets::new(sesi::Secret::new(STRONG).expect("long enough"));
    let codec = sesi::PyramidFormat::new(&secrets, sesi::core::DEFAULT_SALT, sesi::HashAlg::Sha512);
    let id = sesi::core::store::SessionId::generate();
    let cookie = codec.encode_id(&id);
    let stdout = ok(&sesi(&["cookie", "decode", "--secret", STRONG, &cookie]));
    assert!(
        stdout.contains("verified  by the current secret"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("session   id {}", id.to_hex())),
        "{stdout}"
    );
    assert!(stdout.contains("store"), "{stdout}");
}

#[test]
fn the_cookie_tools_read_salt_and_hashalg_from_the_environment_like_serve() {
    let env = [
        ("SESI_SECRET", SECRET),
        ("SESI_SALT", "myapp."),
        ("SESI_HASHALG", "sha256"),
    ];
    let cookie = sesi_env(&["cookie", "encode", r#"{"counter": 2}"#], None, &env);
    let cookie = ok(&cookie).trim().to_owned();
    let stdout = ok(&sesi_env(&["cookie", "decode", &cookie], None, &env));
    assert!(stdout.contains("sha256 with salt \"myapp.\""), "{stdout}");
    // Without them the same cookie does not verify.
    fails(
        &sesi(&["cookie", "decode", "--secret", SECRET, &cookie]),
        1,
        &["does not verify"],
    );
}

#[test]
fn a_secret_and_a_secret_file_together_are_refused_not_guessed() {
    let dir = TempDir::new().expect("temp dir");
    let file = dir.path().join("secret");
    std::fs::write(&file, format!("{SECRET}\n")).expect("write");
    let file = file.to_str().expect("UTF-8 path");
    let out = sesi_env(
        &["cookie", "decode", "--secret-file", file, "abc"],
        None,
        &[("SESI_SECRET", SECRET)],
    );
    assert_eq!(out.code(), 2, "{}", out.stderr);
    assert!(out.stderr.contains("--secret-file"), "{}", out.stderr);
}
