//! End to end over real sockets: an axum app behind `SessionLayer` on 127.0.0.1, driven by reqwest
//! over HTTP/1.1 and HTTP/2 (h2c, prior knowledge). Row numbers refer to `docs/security-checklist.md`.
#![cfg(feature = "axum")]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::header::{COOKIE, SET_COOKIE, VARY};
use axum::http::{HeaderMap, StatusCode, Version};
use axum::routing::get;
use sesi::core::DEFAULT_SALT;
use sesi::{
    CookieFormat, CookieStatus, HashAlg, PyramidFormat, Secret, Secrets, Session, SessionLayer,
};
use tokio::net::TcpListener;
use tokio::sync::Barrier;

const SECRET: &str = "an end-to-end test secret, longer than thirty-two bytes";

fn secrets() -> Secrets {
    Secrets::new(Secret::new(SECRET).expect("long enough"))
}

/// Decodes a cookie value with a format instance of its own (not the layer's).
fn decode(value: &str) -> serde_json::Map<String, serde_json::Value> {
    PyramidFormat::new(&secrets(), DEFAULT_SALT, HashAlg::Sha512)
        .decode(value)
        .expect("a cookie the server signed")
        .into_record()
        .expect("a whole session")
        .state
}

async fn count(session: Session) -> String {
    session
        .update("counter", |n: &mut i64| {
            *n += 1;
            *n
        })
        .expect("the counter is an integer")
        .to_string()
}

/// The cookie's status, the counter, and how many `Cookie` fields the request carried.
async fn whoami(session: Session, headers: HeaderMap) -> String {
    let counter: i64 = session.get("counter").expect("integer").unwrap_or(0);
    let status = match session.status() {
        CookieStatus::Malformed(err) => format!("malformed:{}", err.kind()),
        other => other.name().to_owned(),
    };
    let fields = headers.get_all(COOKIE).iter().count();
    format!("{status} counter={counter} fields={fields}")
}

/// Adds `item` to the list, after both racing requests have loaded their session.
async fn race(
    State(barrier): State<Arc<Barrier>>,
    Path(item): Path<String>,
    session: Session,
) -> String {
    let before: Vec<String> = session.get("items").expect("a list").unwrap_or_default();
    barrier.wait().await;
    session
        .update("items", |items: &mut Vec<String>| items.push(item))
        .expect("a list");
    before.join(",")
}

fn app() -> Router {
    Router::new()
        .route("/count", get(count))
        .route("/whoami", get(whoami))
        .route("/untouched", get(|| async { "ok" }))
        .route(
            "/seed",
            get(|session: Session| async move {
                session.insert("items", &["base"]).expect("a list is JSON");
                "seeded"
            }),
        )
        .route("/race/{item}", get(race))
        .with_state(Arc::new(Barrier::new(2)))
        .layer(SessionLayer::new(secrets()))
}

/// Serves [`app`] on an ephemeral port of 127.0.0.1 until the test's runtime ends.
async fn serve() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("bound address");
    tokio::spawn(async move {
        axum::serve(listener, app()).await.expect("server runs");
    });
    addr
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().expect("ASCII").to_owned())
        .collect()
}

/// The value of the response's only `session` Set-Cookie.
fn session_value(response: &reqwest::Response) -> String {
    let headers = set_cookies(response);
    assert_eq!(headers.len(), 1, "{headers:?}");
    let rest = headers[0]
        .strip_prefix("session=")
        .expect("the session cookie");
    rest.split(';').next().expect("a value").to_owned()
}

async fn get_text(
    client: &reqwest::Client,
    url: String,
    cookies: &[String],
) -> (String, Vec<String>) {
    let mut request = client.get(url);
    for cookie in cookies {
        request = request.header(COOKIE, cookie);
    }
    let response = request.send().await.expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let set = set_cookies(&response);
    (response.text().await.expect("body"), set)
}

#[tokio::test]
async fn counter_survives_three_requests_through_the_cookie_jar() {
    let addr = serve().await;
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let mut bodies = Vec::new();
    for _ in 0..3 {
        let response = browser
            .get(format!("http://{addr}/count"))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::OK);
        assert!(
            set_cookies(&response)[0].ends_with("; Path=/; SameSite=Lax"),
            "{:?}",
            set_cookies(&response)
        );
        bodies.push(response.text().await.expect("body"));
    }
    assert_eq!(bodies, ["1", "2", "3"]);
}

#[tokio::test]
async fn untouched_route_does_not_reset_the_cookie() {
    let addr = serve().await;
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let first = browser
        .get(format!("http://{addr}/count"))
        .send()
        .await
        .expect("request");
    assert_eq!(set_cookies(&first).len(), 1);

    let untouched = browser
        .get(format!("http://{addr}/untouched"))
        .send()
        .await
        .expect("request");
    assert_eq!(untouched.status(), StatusCode::OK);
    assert!(set_cookies(&untouched).is_empty());
    assert!(untouched.headers().get(VARY).is_none());

    let again = browser
        .get(format!("http://{addr}/count"))
        .send()
        .await
        .expect("request");
    assert_eq!(
        again.text().await.expect("body"),
        "2",
        "the cookie was kept"
    );
}

#[tokio::test]
async fn tampered_cookie_starts_a_fresh_session_with_200() {
    let addr = serve().await;
    let client = client();
    let mut value = String::new();
    for _ in 0..2 {
        let mut request = client.get(format!("http://{addr}/count"));
        if !value.is_empty() {
            request = request.header(COOKIE, format!("session={value}"));
        }
        value = session_value(&request.send().await.expect("request"));
    }
    assert_eq!(decode(&value)["counter"], 2);

    // One character changed in the signature, then one in the payload: both still base64url.
    for at in [10, value.len() - 10] {
        let mut bytes = value.clone().into_bytes();
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).expect("ASCII");
        let cookie = format!("session={tampered}");
        let (body, _) = get_text(
            &client,
            format!("http://{addr}/whoami"),
            std::slice::from_ref(&cookie),
        )
        .await;
        assert_eq!(body, "bad-signature counter=0 fields=1", "flipped at {at}");
        let (body, set) = get_text(&client, format!("http://{addr}/count"), &[cookie]).await;
        assert_eq!(body, "1", "the counter restarts");
        assert_eq!(set.len(), 1);
    }
}

#[tokio::test]
async fn split_cookie_fields_over_http2_find_the_session() {
    let addr = serve().await;
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .expect("client");
    let first = h2
        .get(format!("http://{addr}/count"))
        .send()
        .await
        .expect("request");
    assert_eq!(first.version(), Version::HTTP_2);
    let value = session_value(&first);

    // RFC 9113 8.2.3: a client may send one `cookie` field per cookie.
    let fields = [
        "a=1".to_owned(),
        format!("session={value}"),
        "z=2".to_owned(),
    ];
    let (body, _) = get_text(&h2, format!("http://{addr}/whoami"), &fields).await;
    assert_eq!(body, "valid counter=1 fields=3");
    let (body, _) = get_text(&h2, format!("http://{addr}/count"), &fields).await;
    assert_eq!(body, "2");
}

#[tokio::test]
async fn two_cookie_fields_over_http1_find_the_session() {
    let addr = serve().await;
    let client = client();
    let first = client
        .get(format!("http://{addr}/count"))
        .send()
        .await
        .expect("request");
    assert_eq!(first.version(), Version::HTTP_11);
    let value = session_value(&first);
    let fields = ["theme=dark".to_owned(), format!("session={value}")];
    let (body, _) = get_text(&client, format!("http://{addr}/whoami"), &fields).await;
    assert_eq!(body, "valid counter=1 fields=2");
}

#[tokio::test]
async fn concurrent_requests_from_one_cookie_each_save_only_their_own_change() {
    // Row 60, a documented limitation: the cookie is the whole session, so two tabs that change
    // it at once each get a consistent cookie, and whichever the browser stores last wins.
    let addr = serve().await;
    let client = client();
    let seeded = client
        .get(format!("http://{addr}/seed"))
        .send()
        .await
        .expect("request");
    let cookie = format!("session={}", session_value(&seeded));

    let send = |item: &str| {
        client
            .get(format!("http://{addr}/race/{item}"))
            .header(COOKIE, cookie.clone())
            .send()
    };
    let (apple, banana) = tokio::time::timeout(Duration::from_secs(20), async {
        tokio::join!(send("apple"), send("banana"))
    })
    .await
    .expect("both requests were in their handlers at once");
    let (apple, banana) = (apple.expect("request"), banana.expect("request"));
    let apple_cookie = session_value(&apple);
    let banana_cookie = session_value(&banana);
    assert_eq!(
        decode(&apple_cookie)["items"],
        serde_json::json!(["base", "apple"])
    );
    assert_eq!(
        decode(&banana_cookie)["items"],
        serde_json::json!(["base", "banana"])
    );
    assert_eq!(apple.text().await.expect("body"), "base");
    assert_eq!(banana.text().await.expect("body"), "base");
}
