//! Server-side stores with the real binary: `sesi serve --store redis://...` processes sharing a
//! redis-server that each test starts on a free port of its own (no persistence), so it can stop
//! and restart it. Browsers are reqwest clients with a cookie jar; cookies are per host, not per
//! port, so one browser sends the same cookie to both servers on 127.0.0.1, as a real one would.
//!
//! Without redis-server these tests FAIL under CI (`CI` set) and are skipped with a loud notice
//! elsewhere (`scripts/install-test-deps.sh --only redis` installs it).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use serde_json::{Value, json};
use sesi::core::store::SessionId;
use sesi::core::{Codec, CookieContent, DEFAULT_SALT};
use sesi::{HashAlg, Secret, Secrets};
use tempfile::TempDir;

const SECRET: &str = "the stores test secret: sixty-four bytes of nothing in particular";

fn codec() -> Codec {
    let secrets = Secrets::new(Secret::new(SECRET).expect("long enough"));
    Codec::new(&secrets, DEFAULT_SALT, HashAlg::Sha512)
}

fn content(cookie: &str) -> CookieContent {
    codec()
        .decode_any(cookie)
        .unwrap_or_else(|e| panic!("a cookie sesi signed: {e}"))
}

fn id_of(cookie: &str) -> SessionId {
    match content(cookie) {
        CookieContent::Id { id, .. } => id,
        CookieContent::State(d) => panic!("expected an id cookie, got the state {:?}", d.record),
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

// ---------------------------------------------------------------------------------------------
// A redis-server of the test's own.

struct Redis {
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl Redis {
    /// A fresh redis-server on a free port, or `None` (after a loud notice) when redis-server is
    /// not installed and this is not CI.
    fn start(dir: &Path) -> Option<Redis> {
        let fix = "install it with scripts/install-test-deps.sh --only redis (scripts/redis.sh \
                   starts one by hand)";
        if Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_err()
        {
            assert!(
                !in_ci(),
                "redis-server is not installed; the store tests cannot run under CI: {fix}"
            );
            eprintln!(
                "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
                 !!! SKIPPED: redis-server is not installed, so `sesi serve --store redis://`\n\
                 !!! was NOT tested. To run these tests, {fix}.\n\
                 !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
            );
            return None;
        }
        let mut redis = Redis {
            port: free_port(),
            dir: dir.to_owned(),
            child: None,
        };
        redis.restart();
        Some(redis)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// (Re)starts redis-server on the same port, with nothing in it, and waits for PONG.
    fn restart(&mut self) {
        assert!(self.child.is_none(), "stop it first");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("redis.log"))
            .expect("redis log file");
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(log.try_clone().expect("dup"))
            .stderr(log)
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.command("PING").as_deref() != Some("+PONG") {
            assert!(
                Instant::now() < deadline,
                "redis-server on port {} did not answer within 10 s",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// One inline command; the first line of the reply (`+PONG`, `:0`), or `None` if no answer.
    fn command(&self, command: &str) -> Option<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        stream.write_all(format!("{command}\r\n").as_bytes()).ok()?;
        let mut reply = Vec::new();
        let mut byte = [0u8; 1];
        while !reply.ends_with(b"\r\n") {
            stream.read_exact(&mut byte).ok()?;
            reply.push(byte[0]);
        }
        Some(String::from_utf8_lossy(&reply).trim_end().to_owned())
    }

    /// `commands` in order on one connection (so a `SELECT` holds for the ones after it); the
    /// first line of each reply.
    fn pipeline(&self, commands: &[&str]) -> Vec<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("redis accepts");
        stream
            .set_read_timeout(Some(Duration::from_secs(2)))
            .expect("set timeout");
        let sent: String = commands.iter().map(|c| format!("{c}\r\n")).collect();
        stream.write_all(sent.as_bytes()).expect("send");
        let mut replies = Vec::new();
        let mut reply = Vec::new();
        let mut byte = [0u8; 1];
        while replies.len() < commands.len() {
            stream.read_exact(&mut byte).expect("redis replies");
            reply.push(byte[0]);
            if reply.ends_with(b"\r\n") {
                replies.push(String::from_utf8_lossy(&reply).trim_end().to_owned());
                reply.clear();
            }
        }
        replies
    }

    fn keys(&self) -> usize {
        let reply = self.command("DBSIZE").expect("redis answers");
        reply
            .strip_prefix(':')
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("DBSIZE said {reply}"))
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

// ---------------------------------------------------------------------------------------------
// `sesi serve` processes.

struct Sesi {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Sesi {
    /// `sesi serve --addr 127.0.0.1:0 --store <store> <args>`, waiting until it listens.
    fn serve(dir: &Path, store: &str, args: &[&str]) -> Sesi {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let log = dir.join(format!("sesi-{n}.log"));
        let file = std::fs::File::create(&log).expect("log file");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sesi"));
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("SESI_") {
                cmd.env_remove(name);
            }
        }
        let child = cmd
            .args(["serve", "--addr", "127.0.0.1:0", "--store", store])
            .args(args)
            .env("SESI_SECRET", SECRET)
            .env("XDG_DATA_HOME", dir.join("data"))
            .env("HOME", dir.join("home"))
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("dup"))
            .stderr(file)
            .spawn()
            .expect("sesi starts");
        let mut sesi = Sesi {
            child,
            base: String::new(),
            log,
        };
        sesi.base = format!("http://{}", sesi.wait_until_listening());
        sesi
    }

    fn wait_until_listening(&mut self) -> SocketAddr {
        const MARK: &str = "sesi listening on http://";
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let log = self.log();
            let addr = log.find(MARK).and_then(|at| {
                let rest = &log[at + MARK.len()..];
                rest.split_whitespace().next()?.parse::<SocketAddr>().ok()
            });
            if let Some(addr) = addr {
                if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                    return addr;
                }
            }
            if let Some(status) = self.child.try_wait().expect("poll") {
                panic!("sesi serve exited with {status} before listening:\n{log}");
            }
            assert!(
                Instant::now() < deadline,
                "sesi serve did not listen within 20 s:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Still running, and nothing panicked.
    fn assert_healthy(&mut self) {
        assert!(
            self.child.try_wait().expect("poll").is_none(),
            "sesi serve exited:\n{}",
            self.log()
        );
        assert!(
            !self.log().contains("panicked"),
            "a panic in the log:\n{}",
            self.log()
        );
    }
}

impl Drop for Sesi {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// A browser.

struct Browser {
    client: reqwest::Client,
    jar: Arc<Jar>,
}

struct Reply {
    status: StatusCode,
    set_cookies: Vec<String>,
    body: String,
}

impl Reply {
    async fn of(response: reqwest::Response) -> Reply {
        let status = response.status();
        let set_cookies = response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().expect("ASCII").to_owned())
            .collect();
        let body = response.text().await.expect("body");
        Reply {
            status,
            set_cookies,
            body,
        }
    }

    fn expect(self, status: u16) -> Reply {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        self
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("JSON ({e}): {}", self.body))
    }
}

impl Browser {
    fn new() -> Browser {
        let jar = Arc::new(Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        Browser { client, jar }
    }

    /// The session cookie the browser holds for 127.0.0.1.
    fn cookie(&self) -> Option<String> {
        let url = "http://127.0.0.1/".parse().expect("url");
        let header = self.jar.cookies(&url)?;
        header
            .to_str()
            .expect("ASCII")
            .split("; ")
            .find_map(|pair| pair.strip_prefix("session="))
            .map(str::to_owned)
    }

    async fn get(&self, url: String) -> Reply {
        Reply::of(self.client.get(url).send().await.expect("request")).await
    }

    /// `GET /api/session`: the state and the CSRF token.
    async fn session(&self, sesi: &Sesi) -> Value {
        self.get(sesi.url("/api/session")).await.expect(200).json()
    }

    async fn token(&self, sesi: &Sesi) -> String {
        self.session(sesi).await["csrf_token"]
            .as_str()
            .expect("a token")
            .to_owned()
    }

    async fn api(&self, sesi: &Sesi, method: &str, path: &str, token: &str, body: Value) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let response = self
            .client
            .request(method, sesi.url(path))
            .header("x-csrf-token", token)
            .json(&body)
            .send()
            .await
            .expect("request");
        Reply::of(response).await
    }

    async fn count(&self, sesi: &Sesi, token: &str) -> i64 {
        self.api(sesi, "POST", "/api/counter", token, json!({}))
            .await
            .expect(200)
            .json()["counter"]
            .as_i64()
            .expect("an integer")
    }

    async fn cart(&self, sesi: &Sesi) -> Vec<(String, u64)> {
        let cart = self.get(sesi.url("/api/cart")).await.expect(200).json();
        cart["lines"]
            .as_array()
            .unwrap_or_else(|| panic!("a cart has lines: {cart}"))
            .iter()
            .map(|l| {
                (
                    l["product_id"].as_str().expect("id").to_owned(),
                    l["quantity"].as_u64().expect("quantity"),
                )
            })
            .collect()
    }

    async fn reset(&self, sesi: &Sesi, token: &str) -> Reply {
        let response = self
            .client
            .post(sesi.url("/session/reset"))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(format!("csrf_token={token}"))
            .send()
            .await
            .expect("request");
        Reply::of(response).await
    }
}

/// `GET path` with `cookie` as the session cookie, from a client with no jar (a copied cookie).
async fn replay(sesi: &Sesi, path: &str, cookie: &str) -> Reply {
    let response = reqwest::Client::new()
        .get(sesi.url(path))
        .header(COOKIE, format!("session={cookie}"))
        .send()
        .await
        .expect("request");
    Reply::of(response).await
}

fn lines(items: &[(&str, u64)]) -> Vec<(String, u64)> {
    items.iter().map(|(id, q)| ((*id).to_owned(), *q)).collect()
}

/// The text of `<strong id="storage">` on the inspector page.
fn storage(page: &str) -> String {
    let start = page
        .find(r#"<strong id="storage">"#)
        .unwrap_or_else(|| panic!("the inspector names the storage:\n{page}"));
    let rest = &page[start + r#"<strong id="storage">"#.len()..];
    rest[..rest.find("</strong>").expect("closed")].to_owned()
}

/// The counter on the counter page.
fn counter(page: &str) -> i64 {
    let start = page.find(r#"<strong id="counter">"#).expect("the counter");
    let rest = &page[start + r#"<strong id="counter">"#.len()..];
    rest[..rest.find('<').expect("closed")]
        .parse()
        .expect("an integer")
}

// ---------------------------------------------------------------------------------------------
// Two servers, one Redis.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_sharing_redis_serve_one_visitor_alternately_with_nothing_lost() {
    let dir = TempDir::new().expect("temp dir");
    let Some(redis) = Redis::start(dir.path()) else {
        return;
    };
    let servers = [
        Sesi::serve(dir.path(), &redis.url(), &[]),
        Sesi::serve(dir.path(), &redis.url(), &[]),
    ];
    let browser = Browser::new();
    let token = browser.token(&servers[0]).await;
    for i in 0..6 {
        assert_eq!(
            browser.count(&servers[i % 2], &token).await,
            i64::try_from(i).expect("small") + 1,
            "request {i} on server {}",
            i % 2
        );
    }
    let [a, b] = &servers;
    browser
        .api(
            a,
            "POST",
            "/api/cart/items",
            &token,
            json!({"product_id": "kopi-tubruk", "quantity": 2}),
        )
        .await
        .expect(201);
    browser
        .api(
            b,
            "POST",
            "/api/cart/items",
            &token,
            json!({"product_id": "nasi-goreng", "quantity": 1}),
        )
        .await
        .expect(201);
    browser
        .api(
            a,
            "PATCH",
            "/api/cart/items/kopi-tubruk",
            &token,
            json!({"quantity": 3}),
        )
        .await
        .expect(200);
    let want = lines(&[("kopi-tubruk", 3), ("nasi-goreng", 1)]);
    assert_eq!(browser.cart(b).await, want);
    assert_eq!(browser.cart(a).await, want);
    assert_eq!(browser.session(b).await["state"]["counter"], 6);

    let cookie = browser.cookie().expect("a session cookie");
    let id = id_of(&cookie);
    assert_eq!(redis.keys(), 1, "one session in Redis");
    assert_eq!(
        redis
            .command(&format!("EXISTS sesi:{}", id.to_hex()))
            .as_deref(),
        Some(":1"),
        "under the cookie's id"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalidate_on_one_server_logs_the_visitor_out_on_the_other() {
    let dir = TempDir::new().expect("temp dir");
    let Some(redis) = Redis::start(dir.path()) else {
        return;
    };
    let (a, b) = (
        Sesi::serve(dir.path(), &redis.url(), &[]),
        Sesi::serve(dir.path(), &redis.url(), &[]),
    );
    let browser = Browser::new();
    let token = browser.token(&a).await;
    browser.count(&a, &token).await;
    browser
        .api(
            &a,
            "POST",
            "/api/cart/items",
            &token,
            json!({"product_id": "mie-goreng", "quantity": 1}),
        )
        .await
        .expect(201);
    let copied = browser.cookie().expect("a session cookie");
    let on_b = replay(&b, "/api/session", &copied).await.expect(200).json();
    assert_eq!(on_b["status"], "valid");
    assert_eq!(on_b["state"]["counter"], 1);

    let reset = browser.reset(&a, &token).await.expect(303);
    assert!(
        reset.set_cookies.iter().any(|c| c.contains("Max-Age=0")),
        "the cookie is removed: {:?}",
        reset.set_cookies
    );
    assert_eq!(redis.keys(), 0, "and the session is gone from Redis");

    // The browser starts afresh on the other server...
    let fresh = browser.session(&b).await;
    assert_eq!(fresh["new"], true);
    assert_eq!(fresh["state"].get("counter"), None);
    // ...and a copy of the old cookie (a second tab, or a thief) is dead there too.
    let copy = replay(&b, "/api/session", &copied).await.expect(200).json();
    assert_eq!(copy["status"], "unknown-session");
    assert_eq!(copy["new"], true);
    assert_eq!(copy["state"].get("counter"), None);
    assert_eq!(copy["state"].get("cart"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_lock_ten_parallel_increments_through_two_servers_give_exactly_ten() {
    let dir = TempDir::new().expect("temp dir");
    let Some(redis) = Redis::start(dir.path()) else {
        return;
    };
    let servers = Arc::new([
        Sesi::serve(dir.path(), &redis.url(), &["--lock"]),
        Sesi::serve(dir.path(), &redis.url(), &["--lock"]),
    ]);
    let browser = Arc::new(Browser::new());
    let token = browser.token(&servers[0]).await;
    let before = browser.count(&servers[1], &token).await;

    let mut requests = Vec::new();
    for i in 0..10 {
        let (browser, servers, token) = (browser.clone(), servers.clone(), token.clone());
        requests.push(tokio::spawn(async move {
            browser.count(&servers[i % 2], &token).await
        }));
    }
    let mut answered = Vec::new();
    for request in requests {
        answered.push(request.await.expect("request task"));
    }
    answered.sort_unstable();
    assert_eq!(
        answered,
        (before + 1..=before + 10).collect::<Vec<_>>(),
        "one request of the session at a time, across both servers"
    );
    assert_eq!(
        browser.session(&servers[0]).await["state"]["counter"],
        before + 10
    );
}

/// A lock value no `sesi serve` would write (theirs are 32 hex characters): another holder's.
const FOREIGN_TOKEN: &str = "held-by-another-server";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_lock_a_request_waits_for_a_lock_held_elsewhere_until_its_lease_ends() {
    let dir = TempDir::new().expect("temp dir");
    let Some(redis) = Redis::start(dir.path()) else {
        return;
    };
    let sesi = Sesi::serve(dir.path(), &redis.url(), &["--lock"]);
    let browser = Browser::new();
    let token = browser.token(&sesi).await;
    assert_eq!(browser.count(&sesi, &token).await, 1);
    let lock = format!(
        "sesi:lock:{}",
        id_of(&browser.cookie().expect("a cookie")).to_hex()
    );
    assert_eq!(
        redis.command(&format!("EXISTS {lock}")).as_deref(),
        Some(":0"),
        "each request releases its lock"
    );

    // Another server holds the session's lock, with a 1.5 s lease.
    assert_eq!(
        redis
            .command(&format!("SET {lock} {FOREIGN_TOKEN} NX PX 1500"))
            .as_deref(),
        Some("+OK")
    );
    let start = Instant::now();
    let counted = browser.count(&sesi, &token).await;
    let waited = start.elapsed();
    assert_eq!(counted, 2, "the request went ahead once the lease ended");
    assert!(
        waited >= Duration::from_secs(1),
        "the request waited for the lease (1.5 s), not {waited:?}"
    );
    assert_eq!(
        redis.command(&format!("EXISTS {lock}")).as_deref(),
        Some(":0"),
        "and released the lock it then took"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_lock_a_lock_held_past_the_wait_answers_503_and_changes_nothing() {
    let dir = TempDir::new().expect("temp dir");
    let Some(redis) = Redis::start(dir.path()) else {
        return;
    };
    let sesi = Sesi::serve(dir.path(), &redis.url(), &["--lock"]);
    let browser = Browser::new();
    let token = browser.token(&sesi).await;
    assert_eq!(browser.count(&sesi, &token).await, 1);
    let cookie = browser.cookie().expect("a cookie");
    let lock = format!("sesi:lock:{}", id_of(&cookie).to_hex());

    // Another server holds the lock far longer than a request waits (5 s, `--lock`'s default).
    assert_eq!(
        redis
            .command(&format!("SET {lock} {FOREIGN_TOKEN} NX PX 20000"))
            .as_deref(),
        Some("+OK")
    );
    let start = Instant::now();
    let reply = browser
        .api(&sesi, "POST", "/api/counter", &token, json!({}))
        .await;
    let waited = start.elapsed();
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "the request must not run while another holds the lock: {}",
        reply.body
    );
    assert!(
        (Duration::from_millis(4500)..Duration::from_secs(7)).contains(&waited),
        "the 503 came after the 5 s lock wait, not after {waited:?}"
    );
    assert!(
        reply.body.contains("session is locked by another request"),
        "the message says why: {}",
        reply.body
    );
    assert!(
        reply.set_cookies.is_empty(),
        "the browser's cookie is not overwritten: {:?}",
        reply.set_cookies
    );
    assert_eq!(browser.cookie(), Some(cookie));
    let pttl = integer(
        &redis
            .command(&format!("PTTL {lock}"))
            .expect("redis answers"),
    );
    assert!(
        pttl > 10_000,
        "the other holder's lock is left alone: PTTL {pttl} (-2: deleted)"
    );

    // The other holder lets go: the refused request had changed nothing.
    assert_eq!(redis.command(&format!("DEL {lock}")).as_deref(), Some(":1"));
    assert_eq!(browser.session(&sesi).await["state"]["counter"], 1);
    assert_eq!(browser.count(&sesi, &token).await, 2);
}

// ---------------------------------------------------------------------------------------------
// Redis goes away and comes back.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_outage_answers_503_within_the_bound_and_the_service_recovers_by_itself() {
    let dir = TempDir::new().expect("temp dir");
    let Some(mut redis) = Redis::start(dir.path()) else {
        return;
    };
    // One server without and one with locking: both paths meet the outage.
    let mut servers = [
        Sesi::serve(dir.path(), &redis.url(), &["--store-timeout-ms", "500"]),
        Sesi::serve(
            dir.path(),
            &redis.url(),
            &["--store-timeout-ms", "500", "--lock"],
        ),
    ];
    let browser = Browser::new();
    let token = browser.token(&servers[0]).await;
    browser.count(&servers[0], &token).await;
    assert_eq!(browser.count(&servers[1], &token).await, 2);
    let cookie = browser.cookie().expect("a session cookie");

    redis.stop();
    for sesi in &servers {
        for path in ["/api/session", "/", "/cart", "/session"] {
            let start = Instant::now();
            let reply = browser.get(sesi.url(path)).await;
            let elapsed = start.elapsed();
            assert_eq!(
                reply.status,
                StatusCode::SERVICE_UNAVAILABLE,
                "{path}: {}",
                reply.body
            );
            assert!(
                elapsed < Duration::from_secs(3),
                "{path} answered after {elapsed:?}"
            );
            assert!(
                reply.set_cookies.is_empty(),
                "{path}: the browser's cookie is not overwritten: {:?}",
                reply.set_cookies
            );
            assert!(
                reply.body.contains("session could not be loaded or saved"),
                "{path}: a clear message: {}",
                reply.body
            );
        }
        let post = browser
            .api(sesi, "POST", "/api/counter", &token, json!({}))
            .await;
        assert_eq!(
            post.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            post.body
        );
        // A new visitor cannot be saved either: no cookie pointing at nothing.
        let newcomer = Browser::new();
        let reply = newcomer.get(sesi.url("/")).await;
        assert_eq!(
            reply.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            reply.body
        );
        assert_eq!(newcomer.cookie(), None);
        assert_eq!(
            browser.get(sesi.url("/healthz")).await.expect(200).body,
            "ok"
        );
        assert_eq!(
            browser.get(sesi.url("/api/products")).await.status,
            StatusCode::OK,
            "a route that does not use the session still works"
        );
    }
    assert_eq!(
        browser.cookie().as_ref(),
        Some(&cookie),
        "the browser kept its cookie"
    );

    redis.restart();
    let mut recovered = Vec::new();
    for sesi in &servers {
        let deadline = Instant::now() + Duration::from_secs(10);
        recovered.push(loop {
            let reply = browser.get(sesi.url("/api/session")).await;
            if reply.status == StatusCode::OK {
                break reply.json();
            }
            assert_eq!(
                reply.status,
                StatusCode::SERVICE_UNAVAILABLE,
                "{}",
                reply.body
            );
            assert!(
                Instant::now() < deadline,
                "{} did not recover within 10 s of Redis coming back:\n{}",
                sesi.base,
                sesi.log()
            );
            assert_eq!(
                browser.get(sesi.url("/healthz")).await.expect(200).body,
                "ok"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        });
    }
    // Redis kept nothing, so the session is gone: a fresh one, not an error page...
    assert_eq!(
        recovered[0]["status"], "unknown-session",
        "{}",
        recovered[0]
    );
    assert_eq!(recovered[0]["new"], true);
    assert_eq!(recovered[0]["state"].get("counter"), None);
    // ...which the other server, recovered too, shares.
    assert_eq!(recovered[1]["status"], "valid", "{}", recovered[1]);
    assert_eq!(recovered[1]["csrf_token"], recovered[0]["csrf_token"]);
    assert_ne!(browser.cookie(), Some(cookie), "a new session, a new id");
    let page = browser.get(servers[0].url("/")).await.expect(200);
    assert_eq!(counter(&page.body), 1, "counting again from one");
    let token = browser.token(&servers[1]).await;
    assert_eq!(browser.count(&servers[1], &token).await, 2);
    for sesi in &mut servers {
        sesi.assert_healthy();
    }
}

/// A 503 for a request that met a store slower than `--store-timeout-ms 500`, answered in well
/// under the 3 s the store takes, leaving the browser's cookie alone.
#[track_caller]
fn refused_within_the_timeout(what: &str, reply: &Reply, took: Duration) {
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{what} (after {took:?}): {}",
        reply.body
    );
    assert!(
        took < Duration::from_secs(2),
        "{what} answered after {took:?}, not within the 500 ms store timeout"
    );
    assert!(
        reply.set_cookies.is_empty(),
        "{what}: the browser's cookie is not overwritten: {:?}",
        reply.set_cookies
    );
    assert!(
        reply.body.contains("session could not be loaded or saved"),
        "{what}: a clear message: {}",
        reply.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_redis_answers_503_within_the_store_timeout_and_the_visitor_goes_on_once_it_answers() {
    let dir = TempDir::new().expect("temp dir");
    let Some(redis) = Redis::start(dir.path()) else {
        return;
    };
    let mut sesi = Sesi::serve(dir.path(), &redis.url(), &["--store-timeout-ms", "500"]);
    let browser = Browser::new();
    assert_eq!(
        counter(&browser.get(sesi.url("/")).await.expect(200).body),
        1
    );
    let token = browser.token(&sesi).await;
    let cookie = browser.cookie().expect("a session cookie");

    // Redis stays up and keeps the session, but answers no command for 3 s.
    let paused = Instant::now();
    assert_eq!(
        redis.command("CLIENT PAUSE 3000 ALL").as_deref(),
        Some("+OK")
    );
    // Routes outside the session never wait for the store...
    let health = browser.get(sesi.url("/healthz")).await;
    let health_took = paused.elapsed();
    assert_eq!(health.status, StatusCode::OK, "{}", health.body);
    assert_eq!(health.body, "ok");
    assert!(
        health_took < Duration::from_secs(1),
        "/healthz answered during the pause, not after {health_took:?}"
    );
    // ...and those that use it give up after the store timeout, well before Redis answers.
    let start = Instant::now();
    let page = browser.get(sesi.url("/")).await;
    refused_within_the_timeout("GET /", &page, start.elapsed());
    let start = Instant::now();
    let post = browser
        .api(&sesi, "POST", "/api/counter", &token, json!({}))
        .await;
    refused_within_the_timeout("POST /api/counter", &post, start.elapsed());
    assert_eq!(
        browser.cookie(),
        Some(cookie.clone()),
        "the browser kept its cookie"
    );

    // Once Redis answers again, the same session goes on where it was: nothing was counted twice.
    let deadline = paused + Duration::from_secs(3 + 5);
    let page = loop {
        let reply = browser.get(sesi.url("/")).await;
        if reply.status == StatusCode::OK {
            break reply;
        }
        assert_eq!(
            reply.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            reply.body
        );
        assert!(
            Instant::now() < deadline,
            "no recovery within 5 s of the pause ending:\n{}",
            sesi.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        paused.elapsed() >= Duration::from_millis(2900),
        "a 200 only once the pause is over, not after {:?}",
        paused.elapsed()
    );
    assert_eq!(counter(&page.body), 2, "the visitor counts on");
    assert_eq!(id_of(&browser.cookie().expect("a cookie")), id_of(&cookie));
    assert_eq!(browser.count(&sesi, &token).await, 3);
    sesi.assert_healthy();
}

// ---------------------------------------------------------------------------------------------
// The inspector and spill-over.

#[tokio::test]
async fn the_inspector_shows_a_session_in_the_store_with_its_id_shortened() {
    let dir = TempDir::new().expect("temp dir");
    let Some(redis) = Redis::start(dir.path()) else {
        return;
    };
    let sesi = Sesi::serve(dir.path(), &redis.url(), &[]);
    let browser = Browser::new();
    browser.get(sesi.url("/")).await.expect(200);
    let id = id_of(&browser.cookie().expect("a session cookie"));
    let page = browser.get(sesi.url("/session")).await.expect(200).body;
    assert_eq!(
        storage(&page),
        format!("the server-side store, id {}…", id.short())
    );
    assert!(
        !page.contains(&id.to_hex()),
        "the whole id (a bearer credential) is never shown"
    );
    assert!(page.contains("counter"), "the stored state is shown");
}

#[tokio::test]
async fn spill_keeps_a_small_session_in_the_cookie() {
    let dir = TempDir::new().expect("temp dir");
    let Some(redis) = Redis::start(dir.path()) else {
        return;
    };
    let sesi = Sesi::serve(dir.path(), &redis.url(), &["--spill"]);
    let browser = Browser::new();
    let page = browser.get(sesi.url("/")).await.expect(200).body;
    assert_eq!(counter(&page), 1);
    assert_eq!(
        counter(&browser.get(sesi.url("/")).await.expect(200).body),
        2
    );
    let cookie = browser.cookie().expect("a session cookie");
    let CookieContent::State(decoded) = content(&cookie) else {
        panic!("a small session stays in the cookie: {cookie}");
    };
    assert_eq!(decoded.record.state["counter"], 2);
    let page = browser.get(sesi.url("/session")).await.expect(200).body;
    assert!(
        storage(&page).starts_with("the cookie"),
        "{}",
        storage(&page)
    );
    assert_eq!(redis.keys(), 0, "nothing in Redis");
}

#[tokio::test]
async fn the_memory_store_keeps_sessions_in_the_process_only() {
    let dir = TempDir::new().expect("temp dir");
    let sesi = Sesi::serve(dir.path(), "memory", &[]);
    let browser = Browser::new();
    browser.get(sesi.url("/")).await.expect(200);
    let page = browser.get(sesi.url("/")).await.expect(200).body;
    assert_eq!(counter(&page), 2);
    let cookie = browser.cookie().expect("a session cookie");
    let id = id_of(&cookie);
    let inspector = browser.get(sesi.url("/session")).await.expect(200).body;
    assert_eq!(
        storage(&inspector),
        format!("the server-side store, id {}…", id.short())
    );
    // A restart loses them: the cookie now points at nothing, and the visitor starts afresh.
    drop(sesi);
    let sesi = Sesi::serve(dir.path(), "memory", &[]);
    let after = replay(&sesi, "/api/session", &cookie)
        .await
        .expect(200)
        .json();
    assert_eq!(after["status"], "unknown-session");
    assert_eq!(
        counter(&browser.get(sesi.url("/")).await.expect(200).body),
        1
    );
}

// ---------------------------------------------------------------------------------------------
// What `--timeout` and the URL's database mean in Redis.

/// A reply like `:1234` as a number.
fn integer(reply: &str) -> i64 {
    reply
        .strip_prefix(':')
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("an integer reply: {reply}"))
}

#[tokio::test]
async fn the_idle_timeout_is_the_keys_ttl_in_redis_and_an_idle_session_is_gone_after_it() {
    let dir = TempDir::new().expect("temp dir");
    let Some(redis) = Redis::start(dir.path()) else {
        return;
    };
    let sesi = Sesi::serve(dir.path(), &redis.url(), &["--timeout", "2"]);
    let browser = Browser::new();
    let page = browser.get(sesi.url("/")).await.expect(200).body;
    assert_eq!(counter(&page), 1);
    let cookie = browser.cookie().expect("a session cookie");
    let key = format!("sesi:{}", id_of(&cookie).to_hex());
    let ttl = integer(
        &redis
            .command(&format!("PTTL {key}"))
            .expect("redis answers"),
    );
    assert!(
        (1..=2000).contains(&ttl),
        "{key} expires within the 2 s timeout: PTTL {ttl} (-1: never, -2: no such key)"
    );

    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        redis.command(&format!("EXISTS {key}")).as_deref(),
        Some(":0"),
        "Redis dropped the idle session by itself"
    );
    let page = browser.get(sesi.url("/")).await.expect(200).body;
    assert_eq!(counter(&page), 1, "a new session");
    assert_ne!(browser.cookie(), Some(cookie), "under a new id");
}

#[tokio::test]
async fn the_database_in_the_redis_url_is_the_one_used() {
    let dir = TempDir::new().expect("temp dir");
    let Some(redis) = Redis::start(dir.path()) else {
        return;
    };
    let sesi = Sesi::serve(dir.path(), &format!("{}/3", redis.url()), &[]);
    let browser = Browser::new();
    assert_eq!(
        counter(&browser.get(sesi.url("/")).await.expect(200).body),
        1
    );
    assert_eq!(
        counter(&browser.get(sesi.url("/")).await.expect(200).body),
        2
    );
    let key = format!(
        "sesi:{}",
        id_of(&browser.cookie().expect("a cookie")).to_hex()
    );
    assert_eq!(redis.keys(), 0, "nothing in database 0");
    let in_3 = redis.pipeline(&["SELECT 3", "DBSIZE", &format!("EXISTS {key}")]);
    assert_eq!(
        in_3,
        ["+OK", ":1", ":1"],
        "the one session is in database 3"
    );
}
