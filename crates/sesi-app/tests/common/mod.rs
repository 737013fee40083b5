//! Helpers shared by the app's integration tests: an in-process server on 127.0.0.1, the real
//! `sesi` binary, a visitor with a cookie jar, and string-search helpers for the HTML pages.

#![allow(dead_code)] // each test file uses a different subset

use std::net::{SocketAddr, TcpListener as StdListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use reqwest::cookie::{CookieStore as _, Jar};
use reqwest::header::{HeaderMap, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use sesi::core::{Codec, DEFAULT_SALT, Record, Timestamp};
use sesi::{HashAlg, Secret, Secrets};
use sesi_app::Settings;

/// The test servers' secret: 64 bytes, so no weak-secret rule gets in the way.
pub const SECRET: &str = "sesi-app-integration-tests-secret-0123456789abcdef0123456789abcd";

/// The session cookie's name (the default).
pub const COOKIE: &str = "session";

/// Settings for an in-process server signed with [`SECRET`].
pub fn settings() -> Settings {
    Settings::new(Secrets::new(
        Secret::new(SECRET).expect("the test secret is long enough"),
    ))
}

/// The codec the servers use, for reading and forging cookies in tests.
pub fn codec() -> Codec {
    Codec::new(&settings().secrets, DEFAULT_SALT, HashAlg::Sha512)
}

/// Verifies and decodes a cookie value with [`SECRET`]; panics when it does not verify.
pub fn decode(value: &str) -> Record {
    codec()
        .decode(value)
        .unwrap_or_else(|e| {
            let start: String = value.chars().take(40).collect();
            panic!("cookie {start}... does not verify: {e}")
        })
        .record
}

/// Signs `state` into a cookie value, accessed and created now.
pub fn forge(state: Value) -> String {
    let Value::Object(map) = state else {
        panic!("a session state is a JSON object")
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs() as i64;
    codec().encode(&Record::new(Timestamp::Int(now), Timestamp::Int(now), map))
}

/// Changes one character in the middle of a cookie value to another base64url character, so the
/// value stays well-formed but no longer verifies.
pub fn tamper(value: &str) -> String {
    let mut bytes = value.as_bytes().to_vec();
    let i = bytes.len() / 2;
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).expect("base64url is ASCII")
}

/// An app served in-process on 127.0.0.1 (random port) until dropped.
pub struct TestServer {
    pub base: String,
    task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    /// The app with [`settings`].
    pub async fn start() -> Self {
        Self::with_settings(settings()).await
    }

    /// The app with any settings.
    pub async fn with_settings(settings: Settings) -> Self {
        let app = sesi_app::app(&settings).expect("test settings are valid");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("bound address");
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("server runs");
        });
        TestServer {
            base: format!("http://{addr}"),
            task,
        }
    }

    /// A new visitor (empty cookie jar) of this server.
    pub fn visitor(&self) -> Visitor {
        Visitor::new(&self.base)
    }

    /// A client without a cookie jar: every cookie is given by hand.
    pub fn manual(&self) -> Visitor {
        Visitor::manual(&self.base)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One HTTP answer, read completely.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
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
#[derive(Clone)]
pub struct Visitor {
    client: reqwest::Client,
    jar: Option<Arc<Jar>>,
    pub base: String,
}

impl Visitor {
    /// A visitor with an empty cookie jar.
    pub fn new(base: &str) -> Self {
        let jar = Arc::new(Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(Arc::clone(&jar))
            .redirect(reqwest::redirect::Policy::none())
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

    /// The session cookie's value in the jar.
    pub fn cookie(&self) -> Option<String> {
        let jar = self.jar.as_ref().expect("a visitor with a jar");
        let url = self.base.parse().expect("base URL parses");
        let header = jar.cookies(&url)?;
        let header = header.to_str().expect("cookies are ASCII").to_owned();
        header
            .split("; ")
            .find_map(|pair| pair.strip_prefix(&format!("{COOKIE}=")).map(str::to_owned))
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

    /// The session's CSRF token, from `GET /api/session` (which changes nothing else).
    pub async fn token(&self) -> String {
        let reply = self.get("/api/session").await;
        reply.expect_status(200);
        reply.json()["csrf_token"]
            .as_str()
            .expect("GET /api/session tells the CSRF token")
            .to_owned()
    }

    /// The session's decoded state, from `GET /api/session`.
    pub async fn state(&self) -> Value {
        let reply = self.get("/api/session").await;
        reply.expect_status(200);
        reply.json()["state"].clone()
    }

    /// Visits `/` and returns the counter it shows.
    pub async fn visit(&self) -> i64 {
        let reply = self.get("/").await;
        reply.expect_status(200);
        counter(&reply.body)
    }

    /// The cart as `[(product id, quantity)]`, from `GET /api/cart` (which pops no flash).
    pub async fn cart(&self) -> Vec<(String, u64)> {
        let reply = self.get("/api/cart").await;
        reply.expect_status(200);
        api_lines(&reply.json())
    }

    /// Adds a product through the API, asserting 201.
    pub async fn add(&self, product: &str, quantity: i64) {
        let token = self.token().await;
        self.api(
            Method::POST,
            "/api/cart/items",
            Some(serde_json::json!({"product_id": product, "quantity": quantity})),
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

// ---------------------------------------------------------------------------------------------
// HTML, by plain string search.

/// Undoes askama's HTML escaping.
pub fn unescape(s: &str) -> String {
    s.replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The text between `start` and the next `end` after it.
pub fn between<'a>(body: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = body.find(start)? + start.len();
    let len = body[from..].find(end)?;
    Some(&body[from..from + len])
}

/// The text of the element with this id (up to the next `<`), unescaped.
pub fn text_of(body: &str, id: &str) -> Option<String> {
    let open = format!("id=\"{id}\"");
    let at = body.find(&open)?;
    let rest = &body[at..];
    let from = rest.find('>')? + 1;
    let len = rest[from..].find('<')?;
    Some(unescape(&rest[from..from + len]))
}

/// The number in `id="counter">N<`.
#[track_caller]
pub fn counter(body: &str) -> i64 {
    between(body, "id=\"counter\">", "<")
        .unwrap_or_else(|| panic!("no counter on the page: {body}"))
        .trim()
        .parse()
        .expect("the counter is a number")
}

/// Every `data-product-id="X" data-qty="N"` cart line, in page order.
pub fn cart_lines(body: &str) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(at) = rest.find("data-product-id=\"") {
        rest = &rest[at + "data-product-id=\"".len()..];
        let id_end = rest.find('"').expect("attribute closes");
        let id = &rest[..id_end];
        if let Some(qty) = rest[id_end..].strip_prefix("\" data-qty=\"") {
            let qty_end = qty.find('"').expect("attribute closes");
            out.push((
                id.to_owned(),
                qty[..qty_end].parse().expect("data-qty is a number"),
            ));
        }
    }
    out
}

fn paragraphs(body: &str, open: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(at) = rest.find(open) {
        rest = &rest[at + open.len()..];
        let from = rest.find('>').expect("tag closes") + 1;
        let len = rest[from..].find("</p>").expect("paragraph closes");
        out.push(unescape(&rest[from..from + len]));
    }
    out
}

/// The flash notices (`class="flash"`) on a page.
pub fn notices(body: &str) -> Vec<String> {
    paragraphs(body, "<p class=\"flash\"")
}

/// The flash errors (`class="flash error"`) on a page.
pub fn flash_errors(body: &str) -> Vec<String> {
    paragraphs(body, "<p class=\"flash error\"")
}

/// Every flash message of any kind.
pub fn all_flashes(body: &str) -> Vec<String> {
    let mut all = notices(body);
    all.extend(flash_errors(body));
    all
}

/// The value of the first `csrf_token` hidden input.
#[track_caller]
pub fn csrf_field(body: &str) -> String {
    between(body, "name=\"csrf_token\" value=\"", "\"")
        .unwrap_or_else(|| panic!("no csrf_token field on the page: {body}"))
        .to_owned()
}

/// The verdict's `data-status="..."`.
#[track_caller]
pub fn data_status(body: &str) -> String {
    between(body, "data-status=\"", "\"")
        .unwrap_or_else(|| panic!("no data-status on the page: {body}"))
        .to_owned()
}

// ---------------------------------------------------------------------------------------------
// The real binary.

/// A directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// A fresh empty directory.
    pub fn new() -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("the clock is after 1970")
            .subsec_nanos();
        let path = std::env::temp_dir().join(format!(
            "sesi-app-test-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Default for TempDir {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A free port on 127.0.0.1 (bound, then released).
pub fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// `sesi` with a clean environment: no `SESI_*` variables from the caller, `XDG_DATA_HOME` and
/// `HOME` pointing into `data_home`, logs at info.
pub fn sesi(data_home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sesi"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SESI_") {
            cmd.env_remove(name);
        }
    }
    cmd.env("XDG_DATA_HOME", data_home.join("data"))
        .env("HOME", data_home.join("home"))
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    cmd
}

/// A running `sesi serve` process, killed on drop. Its stdout and stderr go to a log file.
pub struct SesiProcess {
    child: Option<Child>,
    pub base: String,
    log: PathBuf,
}

impl SesiProcess {
    /// Runs `sesi serve --addr 127.0.0.1:0` (plus `args`) and waits until it listens.
    pub fn serve(dir: &TempDir, env: &[(&str, &str)], args: &[&str]) -> Self {
        let mut cmd = sesi(dir.path());
        cmd.args(["serve", "--addr", "127.0.0.1:0"]).args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Self::spawn_command(cmd, dir)
    }

    /// Runs `cmd` (a `sesi serve` on port 0) and waits until its log names the port it listens on
    /// and that port accepts connections.
    pub fn spawn_command(mut cmd: Command, dir: &TempDir) -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let log = dir
            .path()
            .join(format!("sesi-{}.log", N.fetch_add(1, Ordering::Relaxed)));
        let file = std::fs::File::create(&log).expect("create log file");
        cmd.stdout(file.try_clone().expect("dup log file"))
            .stderr(file);
        let child = cmd.spawn().expect("sesi starts");
        let mut process = SesiProcess {
            child: Some(child),
            base: String::new(),
            log,
        };
        let addr = process.wait_until_listening();
        process.base = format!("http://{addr}");
        process
    }

    fn wait_until_listening(&mut self) -> SocketAddr {
        const MARK: &str = "sesi listening on http://";
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let log = self.log();
            let listening = log.find(MARK).and_then(|at| {
                let rest = &log[at + MARK.len()..];
                let addr: SocketAddr = rest.split_whitespace().next()?.parse().ok()?;
                Some(SocketAddr::from(([127, 0, 0, 1], addr.port())))
            });
            if let Some(addr) = listening {
                if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                    return addr;
                }
            }
            let child = self.child.as_mut().expect("running");
            if let Some(status) = child.try_wait().expect("poll child") {
                panic!("sesi serve exited with {status} before listening:\n{log}");
            }
            assert!(
                Instant::now() < deadline,
                "sesi serve did not listen within 20 s:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Everything the process logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A visitor of this server.
    pub fn visitor(&self) -> Visitor {
        Visitor::new(&self.base)
    }

    /// Sends SIGTERM and waits (at most 10 s) for the exit status and the whole log.
    pub fn terminate(self) -> (ExitStatus, String) {
        self.signal("TERM")
    }

    /// Sends a signal (`TERM`, `INT`) and waits (at most 10 s) for the exit status and the log.
    pub fn signal(mut self, name: &str) -> (ExitStatus, String) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} failed");
        let mut child = self.child.take().expect("running");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = child.try_wait().expect("poll child") {
                return (status, self.log());
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "sesi serve did not stop within 10 s of SIGTERM:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for SesiProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Runs `sesi` to completion with a timeout, returning (exit status, stdout, stderr).
pub fn run_sesi(mut cmd: Command) -> (ExitStatus, String, String) {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = cmd.spawn().expect("sesi starts");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let output = match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(output) => output.expect("sesi runs"),
        Err(_) => {
            let _ = Command::new("kill")
                .arg("-KILL")
                .arg(pid.to_string())
                .status();
            panic!("sesi did not finish within 20 s");
        }
    };
    (
        output.status,
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
