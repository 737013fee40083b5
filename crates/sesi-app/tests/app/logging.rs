//! What the server logs about sessions (checklist row 66), read from the real binary's log at
//! debug level: one event per discarded cookie with its reason, and never a cookie value, a
//! secret or the session's data. The store-failure path is checked with Redis stopped in
//! `stores::outages`.

use serde_json::{Map, Value, json};
use sesi::CookieFormat;
use sesi::core::{Record, Timestamp};

use crate::support::cookie::{SECRET, codec, forge, tamper};
use crate::support::http::Visitor;
use crate::support::load;
use crate::support::process::SesiServer;

/// Session data no log line may show.
const MARKER: &str = "LOG-MARKER-session-data";

/// Everything at debug, the library's and the app's events included.
const DEBUG_LOG: (&str, &str) = ("RUST_LOG", "debug");

fn serve(args: &[&str]) -> SesiServer {
    SesiServer::serve(&[("SESI_SECRET", SECRET), DEBUG_LOG], args)
}

/// A signed state whose last access was `idle` seconds ago.
fn idle_cookie(idle: i64, state: Value) -> String {
    let Value::Object(map) = state else {
        panic!("a session state is a JSON object")
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs() as i64;
    let then = Timestamp::Int(now - idle);
    codec().encode(&Record::new(then, then, map))
}

/// Asserts that no 12-character stretch of `value` appears in `log`.
#[track_caller]
fn assert_not_in_log(log: &str, what: &str, value: &str) {
    for window in value.as_bytes().windows(12) {
        let window = std::str::from_utf8(window).expect("a cookie value is ASCII");
        assert!(
            !log.contains(window),
            "{what} in the log ({window}):\n{log}"
        );
    }
}

/// The `discarded session cookie` events in `log`.
fn discard_events(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| l.contains("discarded session cookie"))
        .collect()
}

#[tokio::test]
async fn discarded_cookies_and_refusals_are_logged_with_a_reason_and_nothing_secret() {
    let _share = load::share().await;
    let data = json!({"note": MARKER});
    // A state that fits the cookie until `GET /` adds `"counter": 1` (the JSON budget is 2,984
    // bytes; this one is 2,976).
    let mut padded = Map::new();
    padded.insert(
        "pad".to_owned(),
        Value::String(MARKER.repeat(130)[..2965].to_owned()),
    );

    let mut cookie_mode = serve(&[]);
    let visitor = cookie_mode.visitor();
    visitor.get("/").await.expect_status(200);
    let issued = visitor.cookie().expect("a session cookie");
    let mut sent = vec![
        ("bad-signature", tamper(&forge(data.clone()))),
        ("expired", idle_cookie(100_000, data.clone())),
        ("malformed", format!("{MARKER}!!!")),
    ];
    let manual = Visitor::manual(&cookie_mode.base);
    for (_, cookie) in &sent {
        manual
            .get_with("/", &[("cookie", &format!("session={cookie}"))])
            .await
            .expect_status(200);
    }
    let too_large = forge(Value::Object(padded));
    let refused = manual
        .get_with("/", &[("cookie", &format!("session={too_large}"))])
        .await;
    refused.expect_status(422);

    let mut store_mode = serve(&["--store", "memory"]);
    let mut elsewhere = serve(&["--store", "memory"]);
    let stranger = Visitor::new(&elsewhere.base);
    stranger.get("/").await.expect_status(200);
    let unknown = stranger
        .cookie()
        .expect("an id cookie from the other server");
    let manual = Visitor::manual(&store_mode.base);
    for (reason, cookie) in [
        ("whole-session-refused", forge(data.clone())),
        ("unknown-session", unknown.clone()),
    ] {
        manual
            .get_with("/", &[("cookie", &format!("session={cookie}"))])
            .await
            .expect_status(200);
        sent.push((reason, cookie));
    }

    // Each server's log once the line of its last request is in it: `GET /`, the three bad
    // cookies and the refusal; the two refused cookies; the stranger's visit.
    let cookie_log = cookie_mode.log_after_requests(5);
    let store_log = store_mode.log_after_requests(2);
    for (reason, cookie) in &sent {
        let log = if reason.starts_with("whole") || reason.starts_with("unknown") {
            &store_log
        } else {
            &cookie_log
        };
        let events: Vec<&str> = discard_events(log)
            .into_iter()
            .filter(|l| l.contains(&format!("reason=\"{reason}\"")))
            .collect();
        assert_eq!(events.len(), 1, "one {reason} event:\n{log}");
        assert!(events[0].contains("DEBUG"), "{}", events[0]);
        assert_not_in_log(log, reason, cookie);
    }
    // The app's guard refuses before anything is saved; the request line says so.
    assert!(
        cookie_log
            .lines()
            .any(|l| l.contains(" request ") && l.contains("status=422")),
        "the refusal is in the request log:\n{cookie_log}"
    );
    assert_not_in_log(&cookie_log, "the too-large cookie", &too_large);
    assert_not_in_log(&cookie_log, "an issued cookie", &issued);
    let stranger_log = elsewhere.log_after_requests(1);
    assert_not_in_log(&stranger_log, "an issued id cookie", &unknown);
    for log in [&cookie_log, &store_log, &stranger_log] {
        assert!(!log.contains(SECRET), "the secret in the log:\n{log}");
        assert!(
            !log.contains("LOG-MARKER"),
            "session data in the log:\n{log}"
        );
    }
}
