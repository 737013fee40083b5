//! The extractor, plain tower use without axum, and logging (row 66).

use super::*;

// --- Extractor and tower use --------------------------------------------------------------------

#[tokio::test]
async fn extractor_without_the_layer_is_a_500_that_names_the_fix() {
    let app = Router::new().route("/count", get(count));
    let response = call(&app, request("/count", &[])).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    let body = text(response).await;
    assert!(body.contains("is SessionLayer installed"), "{body}");
}

#[tokio::test]
async fn from_extensions_works_in_a_plain_tower_service_without_axum() {
    let handler = |req: Request<String>| async move {
        let body = match Session::from_extensions(req.extensions()) {
            Some(session) => session
                .update("counter", |n: &mut i64| {
                    *n += 1;
                    *n
                })
                .expect("integer counter")
                .to_string(),
            None => "no session".to_owned(),
        };
        Ok::<_, Infallible>(Response::new(body))
    };
    let service = ServiceBuilder::new()
        .layer(layer(&clock_at(T + 100.0)))
        .service_fn(handler);
    let mut req = Request::new(String::new());
    req.headers_mut().insert(
        COOKIE,
        HeaderValue::try_from(format!("session={}", vector_a())).expect("ASCII"),
    );
    let response = service.oneshot(req).await.expect("infallible");
    assert_eq!(response.body(), "2");
    let value = the_cookie(&response);
    assert_eq!(
        wire::open(SECRET, &value).expect("signed")[2],
        json!({"counter": 2})
    );

    let bare = tower::service_fn(handler);
    let response = bare
        .oneshot(Request::new(String::new()))
        .await
        .expect("infallible");
    assert_eq!(response.body(), "no session");
}

// --- Logging (row 66) ---------------------------------------------------------------------------

#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl LogBuffer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

#[tokio::test]
async fn discarded_cookie_reason_is_logged_once_at_debug_without_value_or_secret() {
    let logs = LogBuffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    // tracing caches each callsite's interest globally. While only one dispatcher exists, a
    // callsite first hit on another test's thread (no subscriber there) is cached as "never" and
    // this test would see nothing; with a second live dispatcher tracing asks all of them.
    let _second_dispatcher = tracing::Dispatch::new(tracing_subscriber::registry());

    // The signed payload carries a marker, to prove raw JSON never reaches the log.
    let not_json = wire::sign(SECRET, "MARKER-PAYLOAD not json");
    let cases = [
        (tampered_a(), T + 100.0, "bad-signature"),
        (vector_a(), T + 5000.0, "expired"),
        (not_json, T + 100.0, "malformed"),
        ("!!!not-base64!!!".to_owned(), T + 100.0, "malformed"),
    ];
    for (cookie, now, expected) in &cases {
        let before = logs.text().len();
        let app = app_at(*now);
        let field = cookie_field(cookie);
        let discarded = |text: &str| {
            text.lines()
                .filter(|l| l.contains("discarded session cookie"))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        // An untouched session is never decoded, so there is nothing to log.
        let _ = body_of(&app, "/untouched", &[&field]).await;
        assert!(discarded(&logs.text()[before..]).is_empty());

        // `/count` reads and then writes: still one event per request.
        let _ = body_of(&app, "/read", &[&field]).await;
        let _ = body_of(&app, "/count", &[&field]).await;
        let text = logs.text();
        let new = &text[before..];
        let lines = discarded(new);
        assert_eq!(
            lines.len(),
            2,
            "one event per request: {new} ALL: {}",
            logs.text()
        );
        for line in lines {
            assert!(line.contains("DEBUG"), "{line}");
            assert!(line.contains(expected), "{line}");
        }
        for window in cookie.as_bytes().windows(12) {
            let window = std::str::from_utf8(window).expect("ASCII cookie");
            assert!(!new.contains(window), "cookie value logged: {new}");
        }
    }
    let all = logs.text();
    assert!(!all.contains(SECRET), "{all}");
    assert!(!all.contains("MARKER"), "{all}");
}
