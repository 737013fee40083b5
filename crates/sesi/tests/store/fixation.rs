//! Session fixation (checklist rows 56 and 57): an attacker gets a valid session of their own,
//! plants its cookie in the victim's browser, and waits for the victim to log in. A login handler
//! that calls `cycle_id()` and `new_csrf_token()` (or `invalidate()`) leaves the attacker holding a
//! dead id and a token that no longer passes. The tutorial app has no login, so the library is
//! tested here with a small app that has one.

use super::*;
use axum::http::HeaderMap;
use axum::routing::post;

const TOKEN_HEADER: &str = "x-csrf-token";

fn supplied_token(headers: &HeaderMap) -> &str {
    headers
        .get(TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// The login form: hands out the session's CSRF token and lets the visitor fill a cart.
async fn form(session: Session) -> String {
    session.insert("cart", &"3 apples").expect("str");
    session.get_csrf_token()
}

/// Logs in keeping the pre-login data (the cart) under a new id and a new token.
async fn login(session: Session, headers: HeaderMap) -> (StatusCode, String) {
    if !session.check_csrf_token(supplied_token(&headers)) {
        return (StatusCode::FORBIDDEN, "bad token".to_owned());
    }
    session.cycle_id();
    let token = session.new_csrf_token();
    session.insert("user", &"victim").expect("str");
    (StatusCode::OK, token)
}

/// Logs in starting from an empty session: nothing from before the login survives.
async fn strict_login(session: Session, headers: HeaderMap) -> (StatusCode, String) {
    if !session.check_csrf_token(supplied_token(&headers)) {
        return (StatusCode::FORBIDDEN, "bad token".to_owned());
    }
    session.invalidate();
    let token = session.new_csrf_token();
    session.insert("user", &"victim").expect("str");
    (StatusCode::OK, token)
}

/// A state-changing action for the logged-in user, guarded by the CSRF token.
async fn transfer(session: Session, headers: HeaderMap) -> (StatusCode, String) {
    if !session.check_csrf_token(supplied_token(&headers)) {
        return (StatusCode::FORBIDDEN, "bad token".to_owned());
    }
    let user: Option<String> = session.get("user").expect("str");
    (
        StatusCode::OK,
        format!("sent by {}", user.as_deref().unwrap_or("nobody")),
    )
}

async fn me(session: Session) -> String {
    let user: Option<String> = session.get("user").expect("str");
    let cart: Option<String> = session.get("cart").expect("str");
    format!(
        "{} user={} cart={}",
        session.status().name(),
        user.as_deref().unwrap_or("-"),
        cart.as_deref().unwrap_or("-")
    )
}

fn login_app(layer: SessionLayer) -> Router {
    Router::new()
        .route("/form", get(form))
        .route("/login", post(login))
        .route("/strict-login", post(strict_login))
        .route("/transfer", post(transfer))
        .route("/me", get(me))
        .layer(layer)
}

async fn post_with(
    client: &reqwest::Client,
    url: String,
    cookie: Option<&str>,
    token: &str,
) -> Reply {
    let mut request = client.post(url).header(TOKEN_HEADER, token);
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, format!("session={cookie}"));
    }
    Reply::of(request.send().await.expect("request")).await
}

/// The attacker's side: a fresh session, its cookie and its CSRF token.
async fn attackers_session(base: &str) -> (String, String) {
    let attacker = Browser::new();
    let token = attacker.get(format!("{base}/form")).await.ok();
    let cookie = attacker.cookie(base).expect("the attacker got a cookie");
    (cookie, token)
}

/// Plants `cookie` in a new browser, as a subdomain or a script injection would.
fn victim_with_planted(base: &str, cookie: &str) -> Browser {
    let victim = Browser::new();
    let url = base.parse().expect("url");
    victim
        .jar
        .add_cookie_str(&format!("session={cookie}; Path=/"), &url);
    assert_eq!(victim.cookie(base).as_deref(), Some(cookie));
    victim
}

#[tokio::test]
async fn a_planted_store_session_is_dead_after_login_and_its_csrf_token_no_longer_passes() {
    for (path, cart_after) in [("/login", "3 apples"), ("/strict-login", "-")] {
        let store = Arc::new(MemoryStore::new(100));
        let base = serve_router(login_app(
            store_layer(store.clone()).build().expect("valid"),
        ))
        .await;
        let (planted, old_token) = attackers_session(&base).await;
        let planted_id = id_of(&planted);

        // The victim browses with the planted cookie: same session, so the same token.
        let victim = victim_with_planted(&base, &planted);
        assert_eq!(victim.get(format!("{base}/form")).await.ok(), old_token);
        let login = post_with(&victim.client, format!("{base}{path}"), None, &old_token).await;
        assert_eq!(login.status, StatusCode::OK, "{path}: {}", login.body);
        let new_token = login.body;
        assert_ne!(new_token, old_token, "{path}: a new CSRF token");
        let cookie = victim.cookie(&base).expect("a session cookie");
        assert_ne!(id_of(&cookie), planted_id, "{path}: a new id");
        assert_eq!(
            store.len(),
            1,
            "{path}: the planted id is gone from the store"
        );
        assert_eq!(
            store.on_probation(),
            0,
            "{path}: the logged-in session is protected from eviction"
        );
        assert_eq!(
            victim.get(format!("{base}/me")).await.ok(),
            format!("valid user=victim cart={cart_after}"),
            "{path}"
        );

        // The attacker's copy loads nothing of the victim's, and their token does not pass.
        assert_eq!(
            replay(&base, "/me", &planted).await.ok(),
            "unknown-session user=- cart=-",
            "{path}"
        );
        let client = reqwest::Client::new();
        let forged = post_with(
            &client,
            format!("{base}/transfer"),
            Some(&planted),
            &old_token,
        )
        .await;
        assert_eq!(
            forged.status,
            StatusCode::FORBIDDEN,
            "{path}: {}",
            forged.body
        );

        // Nor does the old token pass in the victim's own session (a CSRF page that learned it).
        let cross_site = post_with(
            &client,
            format!("{base}/transfer"),
            Some(&cookie),
            &old_token,
        )
        .await;
        assert_eq!(cross_site.status, StatusCode::FORBIDDEN, "{path}");
        let real = post_with(
            &client,
            format!("{base}/transfer"),
            Some(&cookie),
            &new_token,
        )
        .await;
        assert_eq!(real.ok(), "sent by victim", "{path}");
    }
}

#[tokio::test]
async fn a_planted_cookie_session_gains_nothing_from_the_victims_login() {
    // In cookie mode the attacker's copy stays valid (it is their own signed state), but it is a
    // snapshot from before the login: no user, and a token the victim's session no longer has.
    let base = serve_router(login_app(SessionLayer::new(secrets()))).await;
    let (planted, old_token) = attackers_session(&base).await;
    let victim = victim_with_planted(&base, &planted);
    assert_eq!(victim.get(format!("{base}/form")).await.ok(), old_token);
    let login = post_with(&victim.client, format!("{base}/login"), None, &old_token).await;
    let new_token = login.ok();
    let cookie = victim.cookie(&base).expect("a session cookie");
    assert_ne!(cookie, planted);

    assert_eq!(
        replay(&base, "/me", &planted).await.ok(),
        "valid user=- cart=3 apples",
        "the attacker's own pre-login session, nothing more"
    );
    let client = reqwest::Client::new();
    let attacker_says = post_with(
        &client,
        format!("{base}/transfer"),
        Some(&planted),
        &old_token,
    )
    .await;
    assert_eq!(attacker_says.ok(), "sent by nobody");
    let cross_site = post_with(
        &client,
        format!("{base}/transfer"),
        Some(&cookie),
        &old_token,
    )
    .await;
    assert_eq!(cross_site.status, StatusCode::FORBIDDEN);
    let real = post_with(
        &client,
        format!("{base}/transfer"),
        Some(&cookie),
        &new_token,
    )
    .await;
    assert_eq!(real.ok(), "sent by victim");
}
