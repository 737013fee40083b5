//! `--cookie-format` (`SESI_COOKIE_FORMAT`): one switch, read the same way by `sesi serve`,
//! `sesi cookie decode|encode` and `sesi keygen`. `pyramid`, `pyramid-nacl`, `flask` and `django`
//! exist (the others are tested in `encrypted` and `interop`); any other name is a clear usage
//! error that lists the known ones.

use crate::support::cookie::{SECRET, decode};
use crate::support::process::{Run, run_sesi};

/// The message for an unknown name, wherever it is given.
const UNKNOWN: &str =
    r#"unknown cookie format "bottle": the known formats are pyramid, pyramid-nacl, flask, django"#;

/// Exit 2 (usage) with `UNKNOWN` on stderr, and nothing on stdout.
fn refused(run: &Run) {
    assert_eq!(
        run.code(),
        2,
        "stdout:\n{}stderr:\n{}",
        run.stdout,
        run.stderr
    );
    assert!(run.stderr.contains(UNKNOWN), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

#[test]
fn every_subcommand_refuses_an_unknown_format_by_flag_or_environment() {
    let flag = ["--cookie-format", "bottle"];
    for args in [
        vec!["keygen"],
        vec!["cookie", "decode", "--secret", SECRET, "AAAA"],
        vec!["cookie", "encode", "--secret", SECRET, "{}"],
        vec!["serve", "--addr", "127.0.0.1:0"],
    ] {
        let with_flag: Vec<&str> = args.iter().copied().chain(flag).collect();
        refused(&run_sesi(&with_flag, &[], None));
        refused(&run_sesi(&args, &[("SESI_COOKIE_FORMAT", "bottle")], None));
    }
}

#[test]
fn keygen_prints_a_key_of_the_formats_shape() {
    for (args, env) in [
        (vec!["keygen"], vec![]),
        (vec!["keygen", "--cookie-format", "pyramid"], vec![]),
        (vec!["keygen"], vec![("SESI_COOKIE_FORMAT", "pyramid")]),
    ] {
        let run = run_sesi(&args, &env, None);
        assert_eq!(run.code(), 0, "{}", run.stderr);
        let key = run.stdout.trim();
        assert_eq!(key.len(), 128, "64 random bytes as hex: {key}");
        assert!(key.bytes().all(|b| b.is_ascii_hexdigit()), "{key}");
    }
}

#[test]
fn the_cookie_tools_name_the_format_and_write_what_the_server_reads() {
    let env = [("SESI_COOKIE_FORMAT", "pyramid"), ("SESI_SECRET", SECRET)];
    let encoded = run_sesi(&["cookie", "encode", r#"{"counter": 7}"#], &env, None);
    assert_eq!(encoded.code(), 0, "{}", encoded.stderr);
    let cookie = encoded.stdout.trim().to_owned();
    assert_eq!(
        decode(&cookie).state["counter"],
        7,
        "the test servers' format reads it"
    );
    let decoded = run_sesi(&["cookie", "decode", &cookie], &env, None);
    assert_eq!(decoded.code(), 0, "{}", decoded.stderr);
    assert!(
        decoded.stdout.contains("\nformat    pyramid\n"),
        "{}",
        decoded.stdout
    );
}

#[tokio::test]
async fn serve_reads_the_format_from_its_environment_and_says_which_it_uses() {
    let _share = crate::support::load::share().await;
    let server = crate::support::process::SesiServer::serve(
        &[("SESI_SECRET", SECRET), ("SESI_COOKIE_FORMAT", "pyramid")],
        &[],
    );
    let visitor = server.visitor();
    assert_eq!(visitor.visit().await, 1);
    let cookie = visitor.cookie().expect("a session cookie");
    assert_eq!(decode(&cookie).state["counter"], 1);
    assert!(
        server.log().contains("cookie format pyramid"),
        "{}",
        server.log_tail(5)
    );
}

#[test]
fn keygen_makes_each_frameworks_key_shape_and_takes_format_as_a_short_flag() {
    for (args, len, alphabet) in [
        (
            ["keygen", "--cookie-format", "flask"],
            64,
            "0123456789abcdef",
        ),
        (["keygen", "--format", "flask"], 64, "0123456789abcdef"),
        (
            ["keygen", "--format", "django"],
            50,
            "abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*(-_=+)",
        ),
    ] {
        let run = run_sesi(&args, &[], None);
        assert_eq!(run.code(), 0, "{args:?}: {}", run.stderr);
        let key = run.stdout.trim();
        assert_eq!(key.len(), len, "{args:?}: {key}");
        assert!(key.chars().all(|c| alphabet.contains(c)), "{args:?}: {key}");
    }
}
