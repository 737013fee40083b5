//! The `sesi cookie` tools against WebOb's own serializer (`make_cookie.py`,
//! `check_cookie.py`) and the Pyramid app: what one writes, the other reads, byte for byte.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use super::{
    SECRET, browser, pyramid_add_item, pyramid_counter, pyramid_flash, pyramid_flashes,
    pyramid_session, pyramid_triple, settings,
};
use crate::support::load;
use crate::support::process::run_sesi;
use crate::support::pyramid::{Pyramid, python};

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs_f64()
}

fn sesi_encode(args: &[&str]) -> String {
    let mut all = vec!["cookie", "encode"];
    all.extend_from_slice(args);
    let out = run_sesi(&all, &[], None);
    assert!(out.status.success(), "sesi {all:?}: {}", out.stderr);
    out.stdout.trim().to_owned()
}

/// What `sesi cookie decode` printed, taken apart.
#[derive(Debug)]
struct Decoded {
    verified_by: String,
    accessed_raw: String,
    created_raw: String,
    accessed_date: String,
    state: Value,
}

fn sesi_decode(args: &[&str]) -> Decoded {
    let mut all = vec!["cookie", "decode"];
    all.extend_from_slice(args);
    let out = run_sesi(&all, &[], None);
    let text = out.stdout;
    assert!(out.status.success(), "sesi {all:?}: {}{text}", out.stderr);
    let line = |label: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(label))
            .unwrap_or_else(|| panic!("no {label:?} line in:\n{text}"))
            .trim()
            .to_owned()
    };
    // `accessed  2025-11-24 16:00:00 UTC (1764000000)`
    let split = |l: String| {
        let (date, raw) = l.rsplit_once(" (").expect("DATE (RAW)");
        (date.to_owned(), raw.trim_end_matches(')').to_owned())
    };
    let (accessed_date, accessed_raw) = split(line("accessed"));
    let (_, created_raw) = split(line("created"));
    let (_, state) = text.split_once("state:\n").expect("state");
    let state_end = state.find("\n}").map_or(state.len(), |i| i + 2);
    Decoded {
        verified_by: line("verified  by"),
        accessed_raw,
        created_raw,
        accessed_date,
        state: serde_json::from_str(&state[..state_end]).expect("state is JSON"),
    }
}

#[tokio::test]
async fn cli_encode_output_is_accepted_by_pyramid() {
    let _share = load::share().await;
    let Some(py) = python() else { return };
    let state = json!({"counter": 41, "cart": {"bakso": 2}, "_f_": ["Selamat datang ☕"]});
    let state_text = state.to_string();

    // Given timestamps: WebOb reads back exactly what was asked for.
    let fixed = sesi_encode(&[
        "--secret",
        SECRET,
        "--accessed",
        "1764000000",
        "--created",
        "1764000000.25",
        &state_text,
    ]);
    let line = py
        .check_cookie(&["--secret", SECRET, &fixed])
        .expect("Pyramid verifies it");
    let (accessed, created, read) = pyramid_triple(&line);
    assert_eq!(
        (accessed.as_str(), created.as_str()),
        ("1764000000", "1764000000.25")
    );
    assert_eq!(read.to_string(), state_text, "same state, same key order");

    // Default timestamps are now, an int and a float like Pyramid's own.
    let before = now();
    let fresh = sesi_encode(&["--secret", SECRET, &state_text]);
    let line = py
        .check_cookie(&["--secret", SECRET, "--timeout", "60", &fresh])
        .expect("Pyramid verifies it and it is not expired");
    let (accessed, created, _) = pyramid_triple(&line);
    let accessed: i64 = accessed.parse().expect("accessed is an int");
    assert!(
        (accessed as f64 - before).abs() < 5.0,
        "{accessed} vs {before}"
    );
    assert!(created.contains('.'), "created is a float: {created}");

    // Hash algorithm and salt are honoured.
    let custom = sesi_encode(&[
        "--secret",
        SECRET,
        "--hashalg",
        "sha384",
        "--salt",
        "",
        &state_text,
    ]);
    py.check_cookie(&[
        "--secret",
        SECRET,
        "--hashalg",
        "sha384",
        "--salt",
        "",
        &custom,
    ])
    .expect("sha384 with the empty salt");
    py.check_cookie(&["--secret", SECRET, &custom])
        .expect_err("not with the defaults");

    // The Pyramid app takes the session over.
    let p = Pyramid::start(&py, &settings());
    let b = browser();
    b.set_cookie("session", &fresh);
    let seen = pyramid_session(&b, &p).await;
    assert_eq!(seen["new"], false);
    assert_eq!(seen["state"], state);
    assert_eq!(pyramid_counter(&b, &p).await, 42);
    let popped = pyramid_flashes(&b, &p, "/flash/pop", "").await;
    assert_eq!(popped, json!(["Selamat datang ☕"]));
}

#[tokio::test]
async fn cli_decode_reads_what_the_pyramid_app_wrote() {
    let _share = load::share().await;
    let Some(py) = python() else { return };
    let p = Pyramid::start(&py, &settings());
    let b = browser();
    pyramid_counter(&b, &p).await;
    pyramid_add_item(&b, &p, "rendang", 2).await;
    pyramid_flash(&b, &p, "Terima kasih, é ☕ 😀", "").await;
    let token = b.at(&p.base).get_json("/csrf").await["csrf_token"].clone();
    let cookie = b.cookie().expect("cookie");

    let seen = pyramid_session(&b, &p).await;
    let (accessed, created, state) = pyramid_triple(
        &py.check_cookie(&["--secret", SECRET, &cookie])
            .expect("valid"),
    );
    assert_eq!(state, seen["state"]);
    assert_eq!(state["_csrft_"], token);

    let decoded = sesi_decode(&["--secret", SECRET, &cookie]);
    assert!(
        decoded.verified_by.contains("the current secret"),
        "{decoded:?}"
    );
    assert_eq!(decoded.accessed_raw, accessed);
    assert_eq!(decoded.created_raw, created, "Python's float repr");
    assert_eq!(
        decoded.accessed_raw.parse::<f64>().ok(),
        seen["accessed"].as_f64()
    );
    assert_eq!(
        decoded.created_raw.parse::<f64>().ok(),
        seen["created"].as_f64()
    );
    assert_eq!(decoded.state.to_string(), seen["state"].to_string());
}

#[test]
fn cli_decode_reads_make_cookie_output_exactly() {
    let _share = load::share_blocking();
    let Some(py) = python() else { return };
    let state = r#"{"counter": 7, "cart": {"kopi-tubruk": 2}, "nama": "Kopi ☕ é 😀", "_f_error": ["Stok habis"]}"#;
    for (hashalg, salt) in [
        ("sha512", "pyramid.session."),
        ("sha1", "pyramid.session."),
        ("sha256", ""),
    ] {
        let cookie = py.make_cookie(&[
            "--secret",
            SECRET,
            "--hashalg",
            hashalg,
            "--salt",
            salt,
            "--accessed",
            "1764000000",
            "--created",
            "1763999899.875",
            state,
        ]);
        let decoded = sesi_decode(&[
            "--secret",
            SECRET,
            "--hashalg",
            hashalg,
            "--salt",
            salt,
            &cookie,
        ]);
        assert_eq!(decoded.accessed_raw, "1764000000");
        assert_eq!(decoded.accessed_date, "2025-11-24 16:00:00 UTC");
        assert_eq!(decoded.created_raw, "1763999899.875");
        let expected: Value = serde_json::from_str(state).expect("JSON");
        assert_eq!(decoded.state.to_string(), expected.to_string());
        assert!(
            decoded.verified_by.contains(hashalg),
            "{hashalg}: {decoded:?}"
        );
    }
}

#[test]
fn cli_encode_matches_make_cookie_byte_for_byte() {
    let _share = load::share_blocking();
    let Some(py) = python() else { return };
    let states = [
        r#"{}"#,
        r#"{"counter": 1}"#,
        r#"{"nama": "Kopi Tubruk ☕", "kota": "Yogyakarta é", "emoji": "😀", "ctl": "tab\t\"q\" \\ / \u0000 \u007f"}"#,
        r#"{"f": [1e-07, 1e+22, 0.1, 1e16, 1.5e300, 1.0, -0.0, 5e-324, 123456789.123, 2.5e-5]}"#,
        r#"{"t": 0.30000000000000004, "u": 1795626880.6376545, "v": 1.7976931348623157e308}"#,
        r#"{"a": {"b": [1, {"c": null, "d": true, "e": false}]}, "": [], "z": {}}"#,
        r#"{"max_u64": 18446744073709551615, "min_i64": -9223372036854775808, "big": 9007199254740993}"#,
        r#"{"z": 1, "a": 2, "m": 3}"#,
        r#"{"_f_": ["Ditambahkan"], "_f_error": ["Stok habis"], "_csrft_": "a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1"}"#,
    ];
    let stamps = [
        ("1764000000", "1764000000.25"),
        ("1764000000", "1764000000.0"),
        ("1795625508", "1795625508.3302891"),
        ("1795626880", "1795626880.6376545"),
        ("0", "1e-07"),
    ];
    for (i, state) in states.iter().enumerate() {
        let (accessed, created) = stamps[i % stamps.len()];
        for hashalg in ["sha512", "sha256"] {
            let args = [
                "--secret",
                SECRET,
                "--hashalg",
                hashalg,
                "--accessed",
                accessed,
                "--created",
                created,
                state,
            ];
            let ours = sesi_encode(&args);
            let theirs = py.make_cookie(&args);
            assert_eq!(ours, theirs, "{hashalg} {accessed} {created} {state}");
        }
    }
}

#[test]
fn cli_encode_reads_the_state_from_stdin_like_make_cookie() {
    let _share = load::share_blocking();
    let Some(py) = python() else { return };
    let state = "{\"counter\": 3, \"nama\": \"é\"}\n";
    let args = [
        "--secret",
        SECRET,
        "--accessed",
        "1764000000",
        "--created",
        "1764000000.5",
        "-",
    ];
    let mut all = vec!["cookie", "encode"];
    all.extend_from_slice(&args);
    let ours = run_sesi(&all, &[], Some(state));
    assert!(ours.status.success());
    let theirs = py.script("make_cookie.py", &args, Some(state));
    assert!(theirs.status.success());
    assert_eq!(ours.stdout, theirs.stdout);
}
