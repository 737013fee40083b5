//! A browser-like HTTP client (a [`Visitor`] with a cookie jar) and the [`Reply`] it reads.

use std::sync::Arc;
use std::time::Duration;

use reqwest::cookie::{CookieStore as _, Jar};
use reqwest::header::{HeaderMap, SET_COOKIE};
use reqwest::{Method, StatusCode, Url};
use serde_json::{Value, json};

use super::cookie::COOKIE;
use super::html::counter;

/// Longest a request may take before the test fails instead of hanging.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// One HTTP answer, read completely.
#[derive(Debug)]
pub struct Reply {
    /// The status code.
    pub status: StatusCode,
    /// The response headers.
    pub headers: HeaderMap,
    /// The body as text.
    pub body: String,
}

impl Reply {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| {
            panic!(
                "body of a {} is not JSON ({e}): {:?}",
                self.status, self.body
            )
        })
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Every `Set-Cookie` header.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().expect("Set-Cookie is ASCII").to_owned())
            .collect()
    }

    /// The full `Set-Cookie` header for the session cookie, if any.
    pub fn session_set_cookie(&self) -> Option<String> {
        let prefix = format!("{COOKIE}=");
        let all: Vec<String> = self
            .set_cookies()
            .into_iter()
            .filter(|c| c.starts_with(&prefix))
            .collect();
        assert!(all.len() <= 1, "more than one session Set-Cookie: {all:?}");
        all.into_iter().next()
    }

    /// The value the `Set-Cookie` sets the session cookie to, if any.
    pub fn session_cookie_value(&self) -> Option<String> {
        self.session_set_cookie().map(|c| {
            c[COOKIE.len() + 1..]
                .split(';')
                .next()
                .expect("split yields one item")
                .to_owned()
        })
    }

    /// The `Location` header.
    pub fn location(&self) -> Option<&str> {
        self.header("location")
    }

    /// The `Content-Type` header.
    pub fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or("")
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect_status(&self, want: u16) -> &Self {
        assert_eq!(
            self.status.as_u16(),
            want,
            "unexpected status; body: {}",
            self.body
        );
        self
    }

    /// The API error code of a `{"error": {"code", "message"}}` body.
    #[track_caller]
    pub fn error_code(&self) -> String {
        let json = self.json();
        let message = json["error"]["message"].as_str().unwrap_or("");
        assert!(!message.is_empty(), "error without a message: {json}");
        json["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("not an API error: {json}"))
            .to_owned()
    }
}

/// A browser-like client: no redirects followed, and (unless `manual`) a cookie jar.
///
/// Cookies are per host, not per port, so one visitor moved to another server on 127.0.0.1
/// with [`Visitor::at`] sends it the same cookies, as a real browser would.
#[derive(Clone)]
pub struct Visitor {
    client: reqwest::Client,
    jar: Option<Arc<Jar>>,
    /// `http://HOST:PORT` the paths are relative to.
    pub base: String,
}

impl Visitor {
    /// A visitor with an empty cookie jar.
    pub fn new(base: &str) -> Self {
        let jar = Arc::new(Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(Arc::clone(&jar))
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .build()
            .expect("client builds");
        Visitor {
            client,
            jar: Some(jar),
            base: base.to_owned(),
        }
    }

    /// A client with no cookie jar; cookies go in by hand.
    pub fn manual(base: &str) -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .build()
            .expect("client builds");
        Visitor {
            client,
            jar: None,
            base: base.to_owned(),
        }
    }

    /// The same visitor (same jar) talking to another server.
    pub fn at(&self, base: &str) -> Self {
        Visitor {
            base: base.to_owned(),
            ..self.clone()
        }
    }

    fn jar(&self) -> (&Jar, Url) {
        let jar = self.jar.as_ref().expect("a visitor with a jar");
        (jar, self.base.parse().expect("base URL parses"))
    }

    /// The value of the session cookie in the jar.
    pub fn cookie(&self) -> Option<String> {
        self.cookie_named(COOKIE)
    }

    /// The value of cookie `name` in the jar.
    pub fn cookie_named(&self, name: &str) -> Option<String> {
        self.cookies()
            .into_iter()
            .find_map(|(n, v)| (n == name).then_some(v))
    }

    /// The names of all cookies in the jar.
    pub fn cookie_names(&self) -> Vec<String> {
        self.cookies().into_iter().map(|(n, _)| n).collect()
    }

    fn cookies(&self) -> Vec<(String, String)> {
        let (jar, url) = self.jar();
        let Some(header) = jar.cookies(&url) else {
            return Vec::new();
        };
        let header = header.to_str().expect("cookies are ASCII").to_owned();
        header
            .split("; ")
            .filter_map(|pair| {
                let (n, v) = pair.split_once('=')?;
                Some((n.to_owned(), v.to_owned()))
            })
            .collect()
    }

    /// Puts `name=value` in the jar, replacing the cookie of that name.
    pub fn set_cookie(&self, name: &str, value: &str) {
        let (jar, url) = self.jar();
        jar.add_cookie_str(&format!("{name}={value}; Path=/"), &url);
        assert_eq!(
            self.cookie_named(name).as_deref(),
            Some(value),
            "cookie replaced"
        );
    }

    /// Sends a request; `headers` are extra request headers.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<(&str, String)>,
    ) -> Reply {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        if let Some((content_type, body)) = body {
            req = req.header("content-type", content_type).body(body);
        }
        let res = req.send().await.expect("the server answers");
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.text().await.expect("the body reads");
        Reply {
            status,
            headers,
            body,
        }
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, &[], None).await
    }

    /// `GET path` with extra headers.
    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        self.send(Method::GET, path, headers, None).await
    }

    /// `GET path`, expecting 200 and JSON.
    pub async fn get_json(&self, path: &str) -> Value {
        self.get(path).await.expect_status(200).json()
    }

    /// `POST path` with no body, expecting 200 and JSON.
    pub async fn post_json(&self, path: &str) -> Value {
        let reply = self.send(Method::POST, path, &[], None).await;
        reply.expect_status(200).json()
    }

    /// `GET path`, expecting 200, as text.
    pub async fn get_text(&self, path: &str) -> String {
        let reply = self.get(path).await;
        reply.expect_status(200);
        reply.body
    }

    /// `POST path` with an `application/x-www-form-urlencoded` body.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        self.post_form_with(path, fields, &[]).await
    }

    /// `POST path` with a form body and extra headers.
    pub async fn post_form_with(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Reply {
        let body = form_encode(fields);
        self.send(
            Method::POST,
            path,
            headers,
            Some(("application/x-www-form-urlencoded", body)),
        )
        .await
    }

    /// An API call with an optional JSON body and an optional `X-CSRF-Token`.
    pub async fn api(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> Reply {
        let headers: Vec<(&str, &str)> = token.map(|t| ("x-csrf-token", t)).into_iter().collect();
        let body = body.map(|b| ("application/json", b.to_string()));
        self.send(method, path, &headers, body).await
    }

    /// `GET /api/session` (which changes nothing): the state, the CSRF token, the verdict.
    pub async fn session(&self) -> Value {
        self.get_json("/api/session").await
    }

    /// The session's CSRF token, from `GET /api/session`.
    pub async fn token(&self) -> String {
        self.session().await["csrf_token"]
            .as_str()
            .expect("GET /api/session tells the CSRF token")
            .to_owned()
    }

    /// The session's decoded state, from `GET /api/session`.
    pub async fn state(&self) -> Value {
        self.session().await["state"].clone()
    }

    /// Visits `/` and returns the counter it shows.
    pub async fn visit(&self) -> i64 {
        let reply = self.get("/").await;
        reply.expect_status(200);
        counter(&reply.body)
    }

    /// Counts through the API (`POST /api/counter` with a JSON body) and returns the count.
    pub async fn count(&self, token: &str) -> i64 {
        let reply = self
            .api(Method::POST, "/api/counter", Some(json!({})), Some(token))
            .await;
        reply.expect_status(200).json()["counter"]
            .as_i64()
            .expect("an integer")
    }

    /// The cart as `[(product id, quantity)]`, from `GET /api/cart` (which pops no flash).
    pub async fn cart(&self) -> Vec<(String, u64)> {
        api_lines(&self.get_json("/api/cart").await)
    }

    /// Adds a product through the API, asserting 201.
    pub async fn add(&self, product: &str, quantity: i64) {
        let token = self.token().await;
        self.api(
            Method::POST,
            "/api/cart/items",
            Some(json!({"product_id": product, "quantity": quantity})),
            Some(&token),
        )
        .await
        .expect_status(201);
    }
}

/// `a=1&b=2`, percent-encoding everything but unreserved characters.
pub fn form_encode(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encodes all but RFC 3986 unreserved characters.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The lines of an API cart as `[(product id, quantity)]`.
pub fn api_lines(cart: &Value) -> Vec<(String, u64)> {
    cart["lines"]
        .as_array()
        .unwrap_or_else(|| panic!("a cart has lines: {cart}"))
        .iter()
        .map(|l| {
            (
                l["product_id"].as_str().expect("product_id").to_owned(),
                l["quantity"].as_u64().expect("quantity"),
            )
        })
        .collect()
}

/// `[(id, qty)]` from string literals.
pub fn lines(items: &[(&str, u64)]) -> Vec<(String, u64)> {
    items.iter().map(|(id, q)| ((*id).to_owned(), *q)).collect()
}
