//! `--cookie-format pyramid-nacl` through the real binary: keys of exactly 32 bytes in hex from
//! every tool, encrypted cookies the visitor cannot read, rotation, the zero-config key, and an
//! inspector that shows the visitor's own session but never decrypts a pasted cookie. The live
//! interop with Pyramid is in `interop::encrypted`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sesi::core::{CookieFormat, NaclKey, PyramidNaclFormat};
use tempfile::TempDir;

use crate::support::html::data_status;
use crate::support::load;
use crate::support::process::{SesiServer, run_sesi, sesi_command};

/// Two fixed keys, as `sesi keygen --cookie-format pyramid-nacl` prints them.
pub const KEY: &str = "4e1a9d0c7b2f38e5a6c1d0b9f8e7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9";
pub const OLD_KEY: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0";

const NACL: (&str, &str) = ("SESI_COOKIE_FORMAT", "pyramid-nacl");

/// The format with `keys` (the first current), as the tests' own reader.
pub fn nacl(keys: &[&str]) -> PyramidNaclFormat {
    PyramidNaclFormat::from_keys(keys.iter().map(|k| NaclKey::from_hex(k).expect("a key")))
        .expect("keys")
}

/// The counter in an encrypted cookie, opened with `key` alone.
fn counter_in(cookie: &str, key: &str) -> i64 {
    let decoded = nacl(&[key])
        .decode(cookie)
        .expect("opens with this key alone");
    decoded.record().expect("a whole session").state["counter"]
        .as_i64()
        .expect("a counter")
}

#[test]
fn every_tool_takes_the_format_and_its_keys_are_exactly_64_hex_characters() {
    let key = run_sesi(&["keygen", "--cookie-format", "pyramid-nacl"], &[], None);
    assert_eq!(key.code(), 0, "{}", key.stderr);
    let key = key.stdout.trim().to_owned();
    assert_eq!(key.len(), 64, "32 random bytes as hex: {key}");
    assert!(key.bytes().all(|b| b.is_ascii_hexdigit()));

    let env = [NACL, ("SESI_SECRET", key.as_str())];
    let encoded = run_sesi(&["cookie", "encode", r#"{"counter": 7}"#], &env, None);
    assert_eq!(encoded.code(), 0, "{}", encoded.stderr);
    let cookie = encoded.stdout.trim().to_owned();
    assert_eq!(counter_in(&cookie, &key), 7);
    let raw = URL_SAFE_NO_PAD.decode(&cookie).expect("base64url");
    assert!(
        !String::from_utf8_lossy(&raw).contains("counter"),
        "unreadable"
    );

    let decoded = run_sesi(&["cookie", "decode", &cookie], &env, None);
    assert_eq!(decoded.code(), 0, "{}", decoded.stderr);
    assert!(
        decoded.stdout.contains("decrypted by the current key"),
        "{}",
        decoded.stdout
    );
    assert!(
        decoded.stdout.contains("\nformat    pyramid-nacl\n"),
        "{}",
        decoded.stdout
    );
    assert!(
        decoded.stdout.contains("\"counter\": 7"),
        "{}",
        decoded.stdout
    );

    // Without the key there is nothing to read, and another key opens nothing.
    let blind = run_sesi(&["cookie", "decode", "--no-verify", &cookie], &[NACL], None);
    assert_eq!(blind.code(), 1, "{}", blind.stderr);
    assert!(
        blind.stderr.contains("cannot be read without the key"),
        "{}",
        blind.stderr
    );
    let other = [NACL, ("SESI_SECRET", OLD_KEY)];
    let foreign = run_sesi(&["cookie", "decode", &cookie], &other, None);
    assert_eq!(foreign.code(), 1, "{}", foreign.stderr);
    assert!(
        foreign.stderr.contains("does not verify"),
        "{}",
        foreign.stderr
    );

    // Anything but 64 hex characters is refused by name, never derived into a key.
    for bad in ["rahasia_dapur_123", &"z".repeat(64), &key[..63]] {
        let env = [NACL, ("SESI_SECRET", bad)];
        let run = run_sesi(&["cookie", "encode", "{}"], &env, None);
        assert_eq!(run.code(), 2, "{bad}: {}", run.stderr);
        assert!(run.stderr.contains("64 hex characters"), "{}", run.stderr);
        assert!(run.stdout.is_empty());
        if bad.len() > 20 {
            assert!(
                !run.stderr.contains(bad),
                "the key is not echoed: {}",
                run.stderr
            );
        }
    }
}

#[tokio::test]
async fn the_server_keeps_sessions_in_encrypted_cookies_and_the_inspector_never_decrypts_a_paste() {
    let _share = load::share().await;
    let server = SesiServer::serve(&[NACL, ("SESI_SECRET", KEY)], &[]);
    assert!(
        server
            .log()
            .contains("cookie format pyramid-nacl, encrypted"),
        "{}",
        server.log()
    );
    let visitor = server.visitor();
    assert_eq!(visitor.visit().await, 1);
    assert_eq!(visitor.visit().await, 2);
    let cookie = visitor.cookie().expect("a session cookie");
    assert_eq!(counter_in(&cookie, KEY), 2);
    let raw = URL_SAFE_NO_PAD.decode(&cookie).expect("base64url");
    assert!(
        !String::from_utf8_lossy(&raw).contains("counter"),
        "the visitor cannot read it"
    );

    // The visitor's own session: marked encrypted, shown decrypted.
    let page = visitor.get("/session").await;
    page.expect_status(200);
    assert_eq!(data_status(&page.body), "valid");
    assert!(page.body.contains("id=\"encrypted\""), "{}", page.body);
    assert!(page.body.contains("&#34;counter&#34;: 2"), "{}", page.body);
    assert!(page.body.contains("the encrypted cookie"), "{}", page.body);

    // A pasted cookie, even a valid one, is not decrypted: no decryption oracle.
    let stranger = crate::support::http::Visitor::manual(&server.base);
    let pasted = stranger
        .post_form("/session/decode", &[("cookie", &cookie)])
        .await;
    pasted.expect_status(200);
    assert!(
        pasted.body.contains("not decrypted here"),
        "{}",
        pasted.body
    );
    assert_ne!(data_status(&pasted.body), "valid", "not even verified");
    assert!(
        !pasted.body.contains("&#34;counter&#34;"),
        "nothing of the pasted session: {}",
        pasted.body
    );
}

#[tokio::test]
async fn a_cookie_from_the_old_key_is_read_and_comes_back_under_the_new_one() {
    let _share = load::share().await;
    let old = SesiServer::serve(&[NACL, ("SESI_SECRET", OLD_KEY)], &[]);
    let visitor = old.visitor();
    assert_eq!(visitor.visit().await, 1);
    drop(old);

    // Rotation: the new key first, the old one only opens.
    let rotated = SesiServer::serve(&[NACL], &["--secret", KEY, "--secret", OLD_KEY]);
    let visitor = visitor.at(&rotated.base);
    let page = visitor.get("/session").await;
    assert_eq!(data_status(&page.body), "old-key", "opened by the fallback");
    assert_eq!(visitor.visit().await, 2, "the session goes on");
    let cookie = visitor.cookie().expect("a session cookie");
    assert_eq!(
        counter_in(&cookie, KEY),
        2,
        "re-encrypted with the new key alone"
    );
    assert!(nacl(&[OLD_KEY]).decode(&cookie).is_err());
}

#[test]
fn a_secret_that_is_not_a_key_stops_the_server_with_the_reason() {
    for (bad, why) in [
        ("rahasia_dapur_123", "17 bytes long"),
        (
            "a-strong-shared-secret-for-two-processes-0123456789abcdef-xyz012",
            "not 0-9 or a-f",
        ),
    ] {
        let run = run_sesi(
            &["serve", "--addr", "127.0.0.1:0"],
            &[NACL, ("SESI_SECRET", bad)],
            None,
        );
        assert_eq!(run.code(), 2, "{}", run.stderr);
        assert!(
            run.stderr.contains("pyramid-nacl cookie format: secret #1"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains(why), "{}", run.stderr);
        assert!(
            !run.stderr.contains(bad),
            "the secret is not echoed: {}",
            run.stderr
        );
    }
}

#[tokio::test]
async fn without_a_key_the_first_start_generates_one_of_the_formats_shape_and_reuses_it() {
    let _share = load::share().await;
    let home = TempDir::new().expect("temp dir");
    let key_file = home
        .path()
        .join("data")
        .join("sesi")
        .join("secret-pyramid-nacl");
    let serve = || {
        let mut cmd = sesi_command(home.path());
        cmd.args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--cookie-format",
            "pyramid-nacl",
        ]);
        SesiServer::spawn(cmd)
    };
    let first = serve();
    let text = std::fs::read_to_string(&key_file).expect("the key file was created");
    let key = text.trim().to_owned();
    assert_eq!(key.len(), 64, "32 random bytes as hex");
    assert!(NaclKey::from_hex(&key).is_ok());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key_file)
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "readable only by the owner: {mode:o}");
    }
    assert!(
        !home
            .path()
            .join("data")
            .join("sesi")
            .join("secret")
            .exists(),
        "the pyramid secret file is another format's, not touched"
    );
    let visitor = first.visitor();
    assert_eq!(visitor.visit().await, 1);
    assert_eq!(counter_in(&visitor.cookie().expect("a cookie"), &key), 1);
    drop(first);

    let second = serve();
    assert_eq!(
        std::fs::read_to_string(&key_file).expect("still there"),
        text
    );
    assert_eq!(
        visitor.at(&second.base).visit().await,
        2,
        "the session survived the restart"
    );
}
