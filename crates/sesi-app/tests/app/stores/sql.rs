//! `sesi serve --store sqlite://PATH` and `--store postgres://...` with the real binary: SQLite
//! sessions survive a restart of the server; two servers on one PostgreSQL share a visitor.

use reqwest::Method;
use serde_json::json;

use super::serve;
use crate::support::cookie::SECRET;
use crate::support::http::lines;
use crate::support::process::run_sesi;
use crate::support::skip::skip;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_sessions_survive_a_restart_of_sesi_serve() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}", dir.path().join("sessions.db").display());
    let first = serve(&url, &[]);
    let browser = first.visitor();
    let token = browser.token().await;
    for want in 1..=3 {
        assert_eq!(browser.count(&token).await, want);
    }
    browser
        .api(
            Method::POST,
            "/api/cart/items",
            Some(json!({"product_id": "kopi-tubruk", "quantity": 2})),
            Some(&token),
        )
        .await
        .expect_status(201);
    let (status, log) = first.terminate();
    assert!(status.success(), "a clean stop:\n{log}");

    let second = serve(&url, &[]);
    let back = browser.at(&second.base);
    assert_eq!(
        back.count(&token).await,
        4,
        "the counter goes on after the restart"
    );
    assert_eq!(back.cart().await, lines(&[("kopi-tubruk", 2)]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_postgres_serve_one_visitor_alternately() {
    let port = std::env::var("SESI_POSTGRES_PORT").unwrap_or_else(|_| "15432".to_owned());
    let url = std::env::var("SESI_POSTGRES_URL")
        .unwrap_or_else(|_| format!("postgres://sesi@127.0.0.1:{port}/sesi_test"));
    if std::net::TcpStream::connect(format!("127.0.0.1:{port}")).is_err() {
        skip(&format!("no PostgreSQL answers on 127.0.0.1:{port}"));
        return;
    }
    let servers = [serve(&url, &[]), serve(&url, &["--lock"])];
    let browser = servers[0].visitor();
    let on = [browser.clone(), browser.at(&servers[1].base)];
    let token = on[0].token().await;
    for i in 0..6 {
        let want = i64::try_from(i).expect("small") + 1;
        assert_eq!(on[i % 2].count(&token).await, want, "request {i}");
    }
}

#[test]
fn a_database_that_does_not_answer_stops_serve_with_the_reason() {
    let port = sesi_testkit::free_port();
    let url = format!("postgres://sesi:hunter2@127.0.0.1:{port}/app?connect_timeout=2");
    let run = run_sesi(
        &["serve", "--addr", "127.0.0.1:0", "--store", &url],
        &[("SESI_SECRET", SECRET)],
        None,
    );
    assert_ne!(run.code(), 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("cannot open the session database postgres://***@127.0.0.1"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("hunter2"),
        "no password in the message"
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    let run = run_sesi(
        &[
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--store",
            "sqlite::memory:",
        ],
        &[("SESI_SECRET", SECRET)],
        None,
    );
    assert_ne!(run.code(), 0);
    assert!(run.stderr.contains("one per connection"), "{}", run.stderr);
}
