//! "Log out everywhere" across servers, over real HTTP: the `login` example's app runs twice on
//! 127.0.0.1, the two servers sharing one store (one `MemoryStore`, one SQLite file through two
//! pools, one Redis through two connections, one PostgreSQL table through two pools). Devices
//! are HTTP clients with cookie jars, moving between the servers as browsers behind a load
//! balancer do. A revoked session must be dead on both servers at once.
#![cfg(feature = "axum")]

#[allow(dead_code)]
#[path = "../examples/login.rs"]
mod login;

use std::sync::Arc;

use sesi::core::store::{MemoryStore, SessionId, SessionStore};
use sesi::core::{CookieContent, DEFAULT_SALT};
use sesi::{CookieFormat, HashAlg, PyramidFormat, Secret, Secrets};

const SECRET: &str = "the log-out-everywhere test secret, long enough";

fn secrets() -> Secrets {
    Secrets::new(Secret::new(SECRET).expect("long enough"))
}

/// A server running the login app on `store`; its base URL.
async fn serve(store: Arc<dyn SessionStore>) -> String {
    serve_app(login::app(store, secrets()).expect("the app builds")).await
}

/// A server running `app`; its base URL.
async fn serve_app(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

/// A browser: its own cookie jar, shared by every server on 127.0.0.1 (jars ignore ports).
struct Device(reqwest::Client, Arc<reqwest::cookie::Jar>);

impl Device {
    fn new() -> Self {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(Arc::clone(&jar))
            .build()
            .expect("client");
        Device(client, jar)
    }

    fn jar(&self) -> &reqwest::cookie::Jar {
        &self.1
    }

    async fn get(&self, base: &str, path: &str) -> String {
        let reply = self
            .0
            .get(format!("{base}{path}"))
            .send()
            .await
            .expect("GET");
        reply.text().await.expect("body")
    }

    async fn post(&self, base: &str, path: &str, form: &[(&str, &str)]) -> String {
        let token = self.get(base, "/token").await;
        let reply = self
            .0
            .post(format!("{base}{path}"))
            .header("x-csrf-token", token)
            .form(form)
            .send()
            .await
            .expect("POST");
        assert!(reply.status().is_success(), "{path}: {}", reply.status());
        reply.text().await.expect("body")
    }

    async fn login(&self, base: &str, user: &str) {
        let said = self.post(base, "/login", &[("user", user)]).await;
        assert_eq!(said, format!("Logged in as {user}."));
    }

    async fn who(&self, base: &str) -> String {
        self.get(base, "/").await
    }
}

/// The whole story on two servers over `stores` (one store each, sharing their data).
async fn revocation_reaches_every_server(stores: [Arc<dyn SessionStore>; 2]) {
    let [a, b] = stores;
    let servers = [serve(a).await, serve(b).await];
    let [s0, s1] = [servers[0].as_str(), servers[1].as_str()];
    let user = format!("ada-{}", SessionId::generate().short());
    let (phone, laptop, tablet, bob) = (Device::new(), Device::new(), Device::new(), Device::new());
    phone.login(s0, &user).await;
    laptop.login(s1, &user).await;
    tablet.login(s0, &user).await;
    bob.login(s1, "bob").await;
    let me = format!("Logged in as {user}.");
    for server in servers.iter() {
        assert_eq!(laptop.who(server).await, me, "logged in on both servers");
    }

    let list = phone.get(s1, "/sessions").await;
    assert!(
        list.starts_with(&format!("3 sessions of {user}:")),
        "{list}"
    );
    assert_eq!(list.matches("(this device)").count(), 1, "{list}");
    // Each entry: a label of its own, when it began and when it was last seen, both moments ago.
    let entries: Vec<&str> = list.lines().skip(1).collect();
    assert_eq!(entries.len(), 3, "{list}");
    let mut labels: Vec<&str> = entries.iter().filter_map(|e| e.split(' ').next()).collect();
    labels.sort_unstable();
    labels.dedup();
    assert_eq!(labels.len(), 3, "distinct labels: {list}");
    for entry in &entries {
        let words: Vec<&str> = entry.split(' ').collect();
        assert_eq!(
            (words[1], words[3], words[5], words[6]),
            ("started", "s", "last", "seen"),
            "{entry}"
        );
        for ago in [words[2], words[7]] {
            let secs: u64 = ago.parse().unwrap_or_else(|_| panic!("seconds: {entry}"));
            assert!(secs < 60, "moments ago: {entry}");
        }
    }

    let said = phone.post(s1, "/logout-others", &[]).await;
    assert_eq!(said, "Logged out 2 other sessions.");
    for server in servers.iter() {
        assert_eq!(
            laptop.who(server).await,
            "Not logged in.",
            "revoked everywhere"
        );
        assert_eq!(
            tablet.who(server).await,
            "Not logged in.",
            "revoked everywhere"
        );
        assert_eq!(phone.who(server).await, me, "the current device stays");
        assert_eq!(
            bob.who(server).await,
            "Logged in as bob.",
            "another user is untouched"
        );
    }
    let list = phone.get(s0, "/sessions").await;
    assert!(
        list.starts_with(&format!("1 sessions of {user}:")),
        "{list}"
    );

    laptop.login(s1, &user).await;
    let said = phone.post(s0, "/logout-everywhere", &[]).await;
    assert_eq!(said, "Logged out 2 sessions.");
    for server in servers.iter() {
        assert_eq!(phone.who(server).await, "Not logged in.");
        assert_eq!(laptop.who(server).await, "Not logged in.");
    }
    assert_eq!(bob.who(s0).await, "Logged in as bob.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_one_memory_store_shared_by_two_servers() {
    let store: Arc<dyn SessionStore> = Arc::new(MemoryStore::new(1_000));
    revocation_reaches_every_server([Arc::clone(&store), store]).await;
}

/// In spill mode a small session rides in the cookie, where nothing can revoke it; a session
/// tied to a user stays in the store, however small, so it can be.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_spill_mode_a_users_session_is_stored_and_revocable() {
    let store: Arc<dyn SessionStore> = Arc::new(MemoryStore::new(1_000));
    let spill = |store: Arc<dyn SessionStore>| {
        let layer = sesi::SessionLayer::builder(secrets())
            .with_spill_store(store)
            .build()
            .expect("a valid layer");
        login::with_layer(layer).expect("the app builds")
    };
    let s0 = serve_app(spill(Arc::clone(&store))).await;
    let s1 = serve_app(spill(Arc::clone(&store))).await;
    let (phone, laptop) = (Device::new(), Device::new());
    phone.get(&s0, "/token").await;
    // What the phone's cookie carries: the whole session, or only its id.
    let holds_id = |device: &Device| {
        let url = s0.parse().expect("a URL");
        let header = reqwest::cookie::CookieStore::cookies(device.jar(), &url).expect("a cookie");
        let value = header
            .to_str()
            .expect("ascii")
            .trim_start_matches("session=")
            .to_owned();
        let format = PyramidFormat::new(&secrets(), DEFAULT_SALT, HashAlg::Sha512);
        match format.decode(&value).expect("a valid cookie").content {
            CookieContent::Id(_) => true,
            CookieContent::State(_) => false,
        }
    };
    assert!(
        !holds_id(&phone),
        "a small anonymous session rides in the cookie"
    );
    phone.login(&s0, "ada").await;
    laptop.login(&s1, "ada").await;
    assert!(holds_id(&phone), "a user's session is in the store");
    let said = laptop.post(&s1, "/logout-others", &[]).await;
    assert_eq!(said, "Logged out 1 other sessions.");
    assert_eq!(phone.who(&s0).await, "Not logged in.");
    assert_eq!(laptop.who(&s0).await, "Logged in as ada.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_sqlite_through_two_pools() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}", dir.path().join("sessions.db").display());
    let a = sesi_sql::SqlStore::connect(&url).await.expect("open");
    a.migrate().await.expect("migrate");
    let b = sesi_sql::SqlStore::connect(&url).await.expect("open again");
    revocation_reaches_every_server([Arc::new(a), Arc::new(b)]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_postgres_through_two_pools() {
    let url = std::env::var("SESI_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://sesi@127.0.0.1:15432/sesi_test".to_owned());
    let a = match sesi_sql::SqlStore::connect(&url).await {
        Ok(store) => store,
        Err(err) => {
            sesi_testkit::skip(&format!("no PostgreSQL answers at {url} ({err})"));
            return;
        }
    };
    let table = format!("t_{}", SessionId::generate().to_hex());
    let a = a.with_table(&table).expect("valid");
    a.migrate().await.expect("migrate");
    let b = sesi_sql::SqlStore::connect(&url)
        .await
        .expect("a second pool")
        .with_table(&table)
        .expect("valid");
    revocation_reaches_every_server([Arc::new(a), Arc::new(b)]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_through_two_connections() {
    let url =
        std::env::var("SESI_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let prefix = format!("sesi-test-{}:", SessionId::generate().short());
    let connect =
        || sesi_redis::RedisStore::connect_with(&url, &prefix, std::time::Duration::from_secs(2));
    let a = match connect().await {
        Ok(store) => store,
        Err(err) => {
            sesi_testkit::skip(&format!("no Redis answers at {url} ({err})"));
            return;
        }
    };
    let b = connect().await.expect("a second connection");
    revocation_reaches_every_server([Arc::new(a), Arc::new(b)]).await;
}
