//! The real `sesi serve` binary: help, secrets (generated, reused, weak), bad flags, SIGTERM,
//! two processes sharing one visitor (scale-out), and the absolute lifetime (`--max-lifetime`).

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;
use tempfile::TempDir;

use crate::support::cookie::tamper;
use crate::support::html::{cart_lines, data_status};
use crate::support::http::Visitor;
use crate::support::load;
use crate::support::process::{SesiServer, run_sesi, sesi_command};

const STRONG: &str = "a-strong-shared-secret-for-two-processes-0123456789abcdef-xyz0123";

#[test]
fn serve_help_explains_the_secret_and_the_options() {
    let run = run_sesi(&["serve", "--help"], &[], None);
    let stdout = &run.stdout;
    assert!(run.status.success(), "{}", run.stderr);
    for needle in [
        "SESI_SECRET",
        "SESI_SECRET_FILE",
        "--addr",
        "--secret-file",
        "--allow-weak-secret",
        "--hashalg",
        "--salt",
        "--timeout",
        "--reissue-time",
        "--max-lifetime",
        "--cookie-name",
        "--secure",
        "--httponly",
        "--samesite",
        "--log-format",
        "SESI_LOG_FORMAT",
        "NO_COLOR",
        "127.0.0.1:6543",
        // Where the generated secret is kept.
        "sesi/secret",
    ] {
        assert!(
            stdout.contains(needle),
            "--help lacks {needle:?}:\n{stdout}"
        );
    }
}

#[tokio::test]
async fn without_a_secret_the_first_start_creates_a_private_secret_file_and_the_next_reuses_it() {
    let _share = load::share().await;
    let home = TempDir::new().expect("temp dir");
    let secret_file = home.path().join("data").join("sesi").join("secret");
    assert!(!secret_file.exists());
    // Both processes share the home, where the generated secret is kept.
    let serve = || {
        let mut cmd = sesi_command(home.path());
        cmd.args(["serve", "--addr", "127.0.0.1:0"]);
        SesiServer::spawn(cmd)
    };

    let first = serve();
    let text = std::fs::read_to_string(&secret_file).expect("the secret file was created");
    assert_eq!(text.trim().len(), 128, "64 random bytes as hex");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&secret_file)
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "readable only by the owner: {mode:o}");
    }
    assert!(
        first.log().contains(&secret_file.display().to_string()),
        "the log names the file:\n{}",
        first.log()
    );
    let visitor = first.visitor();
    assert_eq!(visitor.visit().await, 1);
    assert_eq!(visitor.visit().await, 2);
    let (status, _) = first.terminate();
    assert!(status.success());

    let second = serve();
    assert_eq!(
        std::fs::read_to_string(&secret_file).expect("still there"),
        text,
        "the secret is reused, not regenerated"
    );
    let visitor = visitor.at(&second.base);
    let page = visitor.get("/session").await;
    assert_eq!(data_status(&page.body), "valid", "the old cookie verifies");
    assert_eq!(visitor.visit().await, 3, "the session survived the restart");
}

#[test]
fn a_weak_secret_is_refused_off_loopback() {
    let run = run_sesi(
        &["serve", "--addr", "0.0.0.0:0"],
        &[("SESI_SECRET", "rahasia_dapur_123")],
        None,
    );
    let stderr = &run.stderr;
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--allow-weak-secret"), "{stderr}");
    assert!(
        stderr.contains("17 bytes"),
        "the message gives the size: {stderr}"
    );
}

#[test]
fn logs_go_to_standard_error_and_nothing_to_standard_output() {
    // A port that is taken: the server logs its start, then fails to listen.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let addr = taken.local_addr().expect("its address").to_string();
    let run = run_sesi(
        &["serve", "--addr", &addr],
        &[("SESI_SECRET", STRONG)],
        None,
    );
    assert_ne!(run.code(), 0, "{}", run.stderr);
    assert!(run.stderr.contains("secrets from"), "{}", run.stderr);
    assert_eq!(run.stdout, "", "nothing on standard output");
}

#[tokio::test]
async fn a_weak_secret_is_accepted_with_a_warning_on_loopback() {
    let _share = load::share().await;
    let server = SesiServer::serve(&[("SESI_SECRET", "rahasia_dapur_123")], &[]);
    let log = server.log();
    assert!(log.contains("WEAK SECRET"), "{log}");
    assert!(
        log.contains("rahasia_dapur_123"),
        "the warning names the tutorial secret: {log}"
    );
    assert_eq!(server.visitor().visit().await, 1);
}

#[tokio::test]
async fn a_weak_secret_is_accepted_off_loopback_with_allow_weak_secret() {
    let _share = load::share().await;
    let home = TempDir::new().expect("temp dir");
    let mut cmd = sesi_command(home.path());
    cmd.env("SESI_SECRET", "rahasia_dapur_123").args([
        "serve",
        "--addr",
        "0.0.0.0:0",
        "--allow-weak-secret",
    ]);
    let server = SesiServer::spawn(cmd);
    assert!(server.log().contains("WEAK SECRET"));
    let (status, _) = server.terminate();
    assert!(status.success());
}

#[tokio::test]
async fn sigterm_shuts_down_gracefully_with_exit_code_0() {
    let _share = load::share().await;
    let server = SesiServer::serve(&[("SESI_SECRET", STRONG)], &[]);
    assert_eq!(server.visitor().visit().await, 1);
    let (status, log) = server.terminate();
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(log.contains("SIGTERM"), "{log}");
}

#[tokio::test]
async fn ctrl_c_shuts_down_gracefully_and_every_request_is_logged_with_its_session_outcome() {
    let _share = load::share().await;
    let server = SesiServer::serve(&[("SESI_SECRET", STRONG)], &[]);
    let visitor = server.visitor();
    visitor.visit().await;
    let tampered = tamper(&visitor.cookie().expect("a cookie"));
    let manual = Visitor::manual(&server.base);
    manual
        .get_with("/cart", &[("cookie", &format!("session={tampered}"))])
        .await
        .expect_status(200);
    manual.get("/healthz").await.expect_status(200);
    manual.get("/nowhere").await.expect_status(404);
    let (status, log) = server.signal("INT");
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(log.contains("Ctrl-C received"), "{log}");
    let requests: Vec<&str> = log.lines().filter(|l| l.contains(" request ")).collect();
    assert_eq!(requests.len(), 4, "one line per request:\n{log}");
    for (line, parts) in requests.iter().zip([
        &[
            "method=GET",
            "path=\"/\"",
            "status=200",
            "latency_us=",
            "session=\"absent\"",
        ][..],
        &["path=\"/cart\"", "status=200", "session=\"bad-signature\""],
        // /healthz sits outside the session layer: no session at all.
        &["path=\"/healthz\"", "status=200", "session=\"-\""],
        &["path=\"/nowhere\"", "status=404"],
    ]) {
        for part in parts {
            assert!(line.contains(part), "{part} missing in {line}");
        }
    }
}

#[tokio::test]
async fn cookie_settings_come_from_flags_and_environment() {
    let _share = load::share().await;
    let server = SesiServer::serve(
        &[("SESI_SECRET", STRONG), ("SESI_COOKIE_NAME", "sid")],
        &["--samesite", "strict", "--httponly", "false"],
    );
    let reply = server.visitor().get("/").await;
    let set_cookie = reply.set_cookies().join("\n");
    assert!(set_cookie.starts_with("sid="), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Strict"), "{set_cookie}");
    assert!(!set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(!set_cookie.contains("secure"), "{set_cookie}");
    drop(server);

    // The defaults: Pyramid's, except HttpOnly on.
    let server = SesiServer::serve(&[("SESI_SECRET", STRONG)], &[]);
    let reply = server.visitor().get("/").await;
    let set_cookie = reply.session_set_cookie().expect("a session cookie");
    assert!(set_cookie.contains("; Path=/"), "{set_cookie}");
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    assert!(!set_cookie.contains("Max-Age"), "{set_cookie}");
}

#[tokio::test]
async fn a_second_secret_still_verifies_old_cookies() {
    let _share = load::share().await;
    let old = SesiServer::serve(&[("SESI_SECRET", STRONG)], &[]);
    let visitor = old.visitor();
    visitor.visit().await;
    visitor.visit().await;
    drop(old);

    // Rotation: a new secret signs, the old one only verifies (a repeated --secret).
    let new_secret = "n".repeat(64);
    let new = SesiServer::serve(&[], &["--secret", &new_secret, "--secret", STRONG]);
    let visitor = visitor.at(&new.base);
    let page = visitor.get("/session").await;
    assert_eq!(data_status(&page.body), "old-key");
    assert_eq!(visitor.visit().await, 3);
    let page = visitor.get("/session").await;
    assert_eq!(
        data_status(&page.body),
        "valid",
        "re-signed with the new secret"
    );
}

#[tokio::test]
async fn a_secret_file_rotation_re_signs_on_a_read_and_the_old_secret_can_then_be_dropped() {
    let _share = load::share().await;
    let dir = TempDir::new().expect("temp dir");
    let file = dir.path().join("secrets");
    let path = file.to_str().expect("a UTF-8 temp path");
    // Reads never re-issue for age: a Set-Cookie on a read can only come from the rotation.
    let args = ["--secret-file", path, "--reissue-time", "none"];
    let generated = sesi::Secret::generate().expect("the OS gives random bytes");
    let new_secret = &generated.expose_text().expect("generated secrets are hex")[..64];

    std::fs::write(&file, format!("{STRONG}\n")).expect("write the secret file");
    let a = SesiServer::serve(&[], &args);
    let visitor = a.visitor();
    assert_eq!(visitor.visit().await, 1);
    assert_eq!(visitor.visit().await, 2);
    let read = visitor.get("/session").await;
    assert_eq!(data_status(&read.body), "valid");
    assert_eq!(
        read.session_set_cookie(),
        None,
        "without a rotation a read sends nothing"
    );
    let signed_by_a = visitor.cookie().expect("a cookie");
    drop(a);

    // The new secret signs, the old one only verifies.
    std::fs::write(&file, format!("{new_secret}\n{STRONG}\n")).expect("write the secret file");
    let rotated = SesiServer::serve(&[], &args);
    let visitor = visitor.at(&rotated.base);
    let read = visitor.get("/session").await;
    read.expect_status(200);
    assert_eq!(data_status(&read.body), "old-key");
    let resigned = read
        .session_cookie_value()
        .expect("a read of an old-key cookie re-signs it");
    assert_ne!(resigned, signed_by_a);
    assert_eq!(visitor.cookie(), Some(resigned), "the browser took it");
    drop(rotated);

    // Once every visitor has been seen, the old secret goes.
    std::fs::write(&file, format!("{new_secret}\n")).expect("write the secret file");
    let b = SesiServer::serve(&[], &args);
    let visitor = visitor.at(&b.base);
    assert_eq!(data_status(&visitor.get("/session").await.body), "valid");
    assert_eq!(
        visitor.visit().await,
        3,
        "the session went on under the new secret"
    );
}

#[test]
fn bad_flag_values_exit_2_with_a_clear_message() {
    for (flag, value) in [
        ("--timeout", "abc"),
        ("--reissue-time", "-1"),
        ("--hashalg", "md5"),
        ("--samesite", "sometimes"),
    ] {
        let arg = format!("{flag}={value}");
        let run = run_sesi(
            &["serve", "--addr", "127.0.0.1:1", &arg],
            &[("SESI_SECRET", STRONG)],
            None,
        );
        let stderr = &run.stderr;
        assert_eq!(run.status.code(), Some(2), "{flag} {value}: {stderr}");
        assert!(stderr.contains(flag), "{flag} names the flag: {stderr}");
        assert!(stderr.contains(value), "{flag} names the value: {stderr}");
    }
    let run = run_sesi(
        &["serve", "--timeout", "abc"],
        &[("SESI_SECRET", STRONG)],
        None,
    );
    let stderr = &run.stderr;
    assert!(stderr.contains("whole number of seconds"), "{stderr}");
    // A bad address is a usage error too.
    let run = run_sesi(
        &["serve", "--addr", "localhost"],
        &[("SESI_SECRET", STRONG)],
        None,
    );
    let stderr = &run.stderr;
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("HOST:PORT"), "{stderr}");
}

#[tokio::test]
async fn two_processes_with_one_secret_serve_one_visitor_alternately() {
    let _share = load::share().await;
    let env = [("SESI_SECRET", STRONG)];
    let a = SesiServer::serve(&env, &[]);
    let b = SesiServer::serve(&env, &[]);
    let on_a = a.visitor();
    let on_b = on_a.at(&b.base); // the same browser, the same cookie jar

    for n in 1..=10 {
        let visitor = if n % 2 == 1 { &on_a } else { &on_b };
        assert_eq!(visitor.visit().await, n, "visit {n} lost no increment");
    }

    let products = [
        "kopi-tubruk",
        "es-teh-manis",
        "nasi-goreng",
        "mie-goreng",
        "sate-ayam",
        "gado-gado",
    ];
    for (i, product) in products.iter().enumerate() {
        let visitor = if i % 2 == 0 { &on_a } else { &on_b };
        let token = visitor.token().await;
        if i % 3 == 0 {
            // Through the form...
            visitor
                .post_form(
                    "/cart/add",
                    &[
                        ("csrf_token", &token),
                        ("product_id", product),
                        ("quantity", "1"),
                    ],
                )
                .await
                .expect_status(303);
        } else {
            // ...or the API.
            visitor
                .api(
                    Method::POST,
                    "/api/cart/items",
                    Some(json!({"product_id": product, "quantity": i + 1})),
                    Some(&token),
                )
                .await
                .expect_status(201);
        }
    }
    let want: Vec<(String, u64)> = products
        .iter()
        .enumerate()
        .map(|(i, p)| ((*p).to_owned(), if i % 3 == 0 { 1 } else { i as u64 + 1 }))
        .collect();
    assert_eq!(on_a.cart().await, want);
    assert_eq!(on_b.cart().await, want);
    let page = on_b.get("/cart").await;
    assert_eq!(cart_lines(&page.body), want);
    assert_eq!(on_a.visit().await, 11);
}

#[tokio::test]
async fn max_lifetime_starts_a_constantly_active_visitor_afresh_once_the_session_is_older() {
    let _share = load::share().await;
    let server = SesiServer::serve(&[("SESI_SECRET", STRONG)], &["--max-lifetime", "2"]);
    let visitor = server.visitor();
    // The session is created while the first visit is under way: between `sent` and `first`.
    let sent = Instant::now();
    assert_eq!(visitor.visit().await, 1);
    let first = Instant::now();

    // A visit every half second: never idle, and younger than 2 s, so it goes on...
    for (n, after_ms) in [(2, 500), (3, 1000), (4, 1500)] {
        tokio::time::sleep_until((first + Duration::from_millis(after_ms)).into()).await;
        assert_eq!(visitor.visit().await, n, "visit {n}");
        let age = sent.elapsed();
        assert!(
            age < Duration::from_millis(1950),
            "visit {n} was meant to come before the lifetime ended, but answered {age:?} after \
             the first one began"
        );
    }
    // ...until it is more than 2 s old: however active, it starts again.
    tokio::time::sleep_until((first + Duration::from_millis(2500)).into()).await;
    assert_eq!(visitor.visit().await, 1, "a fresh session once 2 s are up");
    assert_eq!(visitor.visit().await, 2, "which then goes on");

    let deadline = Instant::now() + Duration::from_secs(5);
    let visits = loop {
        let log = server.log();
        let visits: Vec<String> = log
            .lines()
            .filter(|l| l.contains(" request ") && l.contains("path=\"/\""))
            .map(str::to_owned)
            .collect();
        if visits.len() >= 6 || Instant::now() > deadline {
            break visits;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(visits.len(), 6, "one log line per visit:\n{}", server.log());
    for (i, line) in visits.iter().enumerate() {
        let status = match i {
            0 => "absent",
            4 => "lifetime-exceeded",
            _ => "valid",
        };
        assert!(
            line.contains(&format!("session=\"{status}\"")),
            "visit {} is judged {status}: {line}",
            i + 1
        );
    }
}
