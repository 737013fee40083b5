//! The library's own answers come from a replaceable responder; `SessionError` is a response in an
//! axum handler; a cookie format of one's own is one builder call.

use sesi_core::format::{CookieContent, DecodeError, Decoded};
use sesi_core::{Record, SessionError, SessionId, Timestamp};

use super::*;
use crate::{ErrorResponder, RequestHead, SessionFailure};

/// Answers JSON and says which request failed.
#[derive(Debug)]
struct JsonAnswers;

impl ErrorResponder for JsonAnswers {
    fn respond(&self, failure: &SessionFailure<'_>, request: &RequestHead) -> Response<String> {
        let code = match failure {
            SessionFailure::TooLarge { .. } => "too_large",
            SessionFailure::StoreUnavailable { .. } => "store",
            _ => "other",
        };
        let mut response = Response::new(format!(
            r#"{{"error": "{code}", "method": "{}", "path": "{}"}}"#,
            request.method,
            request.uri.path()
        ));
        *response.status_mut() = StatusCode::INSUFFICIENT_STORAGE;
        response
    }
}

#[tokio::test]
async fn the_default_answer_to_a_session_too_large_is_never_cached_or_sniffed() {
    let response = call(&app_at(T), request("/big/5000", &[])).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; charset=utf-8"
    );
    assert!(set_cookies(&response).is_empty());
}

#[tokio::test]
async fn a_replaced_responder_answers_for_the_library_and_sees_the_request() {
    let clock = clock_at(T);
    let app = router(
        builder(&clock)
            .with_error_responder(JsonAnswers)
            .build()
            .expect("valid"),
    );
    let response = call(&app, request("/big/5000?x=1", &[])).await;
    assert_eq!(response.status(), StatusCode::INSUFFICIENT_STORAGE);
    assert!(set_cookies(&response).is_empty(), "still nothing is sent");
    assert_eq!(
        outcome(&response).action,
        CookieAction::TooLarge {
            bytes: expected_big_header(5000).len()
        }
    );
    assert_eq!(
        header_values(response.headers(), VARY),
        ["Cookie"],
        "the layer still marks the answer private"
    );
    assert_eq!(
        text(response).await,
        r#"{"error": "too_large", "method": "GET", "path": "/big/5000"}"#
    );
}

/// A handler that uses `?` on session calls, as the README's migration table shows.
async fn guarded_write(Path(n): Path<usize>, session: Session) -> Result<String, SessionError> {
    let visits = session.get::<i64>("counter")?.unwrap_or(0);
    session.try_insert("k", &"x".repeat(n))?;
    Ok(format!("stored after {visits} visits"))
}

#[tokio::test]
async fn session_errors_are_responses_a_refused_write_is_a_422_and_nothing_is_sent() {
    let clock = clock_at(T);
    let app = Router::new()
        .route("/guarded/{n}", get(guarded_write))
        .layer(layer(&clock));
    let response = call(&app, request("/guarded/10", &[])).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(set_cookies(&response).len(), 1);

    let response = call(&app, request("/guarded/5000", &[])).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        set_cookies(&response).is_empty(),
        "the refused write left nothing to send"
    );
    assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
    let body = text(response).await;
    assert!(body.contains("limit is 4096"), "{body}");

    let a = cookie_field(&wire::sign(
        SECRET,
        r#"[1764000000, 1764000000.0, {"counter": "not a number"}]"#,
    ));
    let response = call(&app, request("/guarded/10", &[&a])).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = text(response).await;
    assert!(
        !body.contains("counter"),
        "no detail for the visitor: {body}"
    );
}

/// A format of the test's own: the state as hex-encoded JSON behind the issue time. Not
/// protected at all; it only shows that the layer takes any format in one builder call.
#[derive(Debug)]
struct HexJson {
    /// Write a character no header may hold, as a broken format would.
    broken: bool,
}

impl CookieFormat for HexJson {
    fn name(&self) -> &'static str {
        "hex-json"
    }
    fn encode(&self, record: &Record) -> String {
        let json = serde_json::to_vec(&record.state).expect("a JSON map");
        let hex: String = json.iter().map(|b| format!("{b:02x}")).collect();
        let tail = if self.broken { "\n" } else { "" };
        format!("{}.{hex}{tail}", record.accessed.as_secs_f64() as i64)
    }
    fn encoded_len(&self, record: &Record) -> usize {
        self.encode(record).len()
    }
    fn encode_id(&self, id: &SessionId) -> String {
        let tail = if self.broken { "\n" } else { "" };
        format!("{}{tail}", id.to_hex())
    }
    fn encoded_id_len(&self) -> usize {
        32
    }
    fn decode(&self, value: &str) -> Result<Decoded, DecodeError> {
        let (ts, hex) = value.split_once('.').ok_or(DecodeError::BadSignature)?;
        let ts = ts.parse().map_err(|_| DecodeError::BadSignature)?;
        let bytes: Option<Vec<u8>> = (0..hex.len() / 2)
            .map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
            .collect();
        let bytes = bytes.ok_or(DecodeError::BadSignature)?;
        let state = serde_json::from_slice(&bytes).map_err(DecodeError::MalformedJson)?;
        Ok(Decoded {
            content: CookieContent::State(Record::without_created(Timestamp::Int(ts), state)),
            key_index: 0,
        })
    }
    fn carries_created(&self) -> bool {
        false
    }
}

#[tokio::test]
async fn any_cookie_format_is_one_builder_call_and_a_broken_one_is_refused_not_sent() {
    let app = router(
        SessionLayer::builder(HexJson { broken: false })
            .with_clock(clock_at(T))
            .build()
            .expect("valid"),
    );
    let response = call(&app, request("/count", &[])).await;
    let value = "1764000000.7b22636f756e746572223a317d"; // {"counter":1}
    assert_eq!(
        set_cookies(&response),
        [format!("session={value}{DEFAULT_ATTRS}")]
    );
    let again = cookie_field(value);
    assert_eq!(body_of(&app, "/count", &[&again]).await, "2");

    let no_lifetime = SessionLayer::builder(HexJson { broken: false })
        .with_max_lifetime(Some(Duration::from_secs(3600)))
        .build();
    assert!(
        matches!(no_lifetime, Err(ConfigError::Session(_))),
        "{no_lifetime:?}"
    );

    let app = router(
        SessionLayer::builder(HexJson { broken: true })
            .with_clock(clock_at(T))
            .build()
            .expect("valid"),
    );
    let response = call(&app, request("/count", &[])).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(set_cookies(&response).is_empty());
    assert_eq!(outcome(&response).action, CookieAction::InvalidValue);
    assert!(text(response).await.contains("hex-json cookie format"));
}

#[tokio::test]
async fn a_store_is_left_unchanged_when_the_cookie_pointing_at_it_cannot_be_sent() {
    let store = std::sync::Arc::new(sesi_core::store::MemoryStore::new(10));
    let app = router(
        SessionLayer::builder(HexJson { broken: true })
            .with_clock(clock_at(T))
            .with_store(store.clone())
            .build()
            .expect("valid"),
    );
    let response = call(&app, request("/count", &[])).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(set_cookies(&response).is_empty());
    assert_eq!(outcome(&response).action, CookieAction::InvalidValue);
    assert!(
        store.is_empty(),
        "nothing saved for a cookie that was never sent"
    );
}

#[test]
fn a_zero_store_timeout_or_lock_wait_or_lease_is_refused() {
    let store = || std::sync::Arc::new(sesi_core::store::MemoryStore::new(10));
    let lock = crate::LockConfig::default();
    for (builder, what) in [
        (
            builder(&clock_at(T))
                .with_store(store())
                .with_store_timeout(Duration::ZERO),
            "timeout",
        ),
        (
            builder(&clock_at(T))
                .with_store(store())
                .with_lock(Some(crate::LockConfig {
                    wait: Duration::ZERO,
                    ..lock
                })),
            "lock wait",
        ),
        (
            builder(&clock_at(T))
                .with_spill_store(store())
                .with_lock(Some(crate::LockConfig {
                    lease: Duration::ZERO,
                    ..lock
                })),
            "lock lease",
        ),
    ] {
        match builder.build() {
            Err(ConfigError::Store { what: got, .. }) => assert_eq!(got, what),
            other => panic!("{what}: expected a store error, got {other:?}"),
        }
    }
}

#[test]
fn a_zero_probation_is_refused() {
    let store = std::sync::Arc::new(sesi_core::store::MemoryStore::new(10));
    let built = builder(&clock_at(T))
        .with_store(store)
        .with_probation(Some(Duration::ZERO))
        .build();
    match built {
        Err(ConfigError::Store { what, why, .. }) => {
            assert_eq!(what, "probation");
            assert!(why.contains("turn probation off"), "{why}");
        }
        other => panic!("expected a store error, got {other:?}"),
    }
}

#[test]
fn a_duration_with_a_fraction_of_a_second_is_refused_not_truncated() {
    let clock = clock_at(T);
    for builder in [
        builder(&clock).with_timeout(Some(Duration::from_millis(1500))),
        builder(&clock).with_reissue_time(Some(Duration::from_millis(10))),
        builder(&clock).with_max_lifetime(Some(Duration::from_secs_f64(60.5))),
    ] {
        let err = builder.build().expect_err("not whole seconds");
        assert!(matches!(err, ConfigError::Session(_)), "{err}");
        assert!(err.to_string().contains("whole number of seconds"), "{err}");
    }
}
