//! The 4096-byte limit over HTTP (rows 39, 65) and the builder's checks (rows 41-43).

use super::*;
use crate::Expiry;

// --- Cookie size (rows 39, 65) ------------------------------------------------------------------

#[tokio::test]
async fn session_growing_past_4096_bytes_is_a_clear_500_without_set_cookie() {
    let app = app_at(T);
    let largest = (2500..3500)
        .rev()
        .find(|&n| expected_big_header(n).len() <= 4096)
        .expect("the limit lies in the range");

    let response = call(&app, request(&format!("/big/{largest}"), &[])).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        set_cookies(&response),
        [expected_big_header(largest)],
        "the largest cookie that fits is sent, byte for byte"
    );

    let too_big = expected_big_header(largest + 1).len();
    assert!(too_big > 4096);
    let response = call(&app, request(&format!("/big/{}", largest + 1), &[])).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(set_cookies(&response).is_empty());
    assert_eq!(
        outcome(&response).action,
        CookieAction::TooLarge { bytes: too_big },
        "the reported size is the size of the header that was not sent"
    );
    let body = text(response).await;
    assert!(
        body.contains(&format!(
            "session grew too large to store in a cookie ({too_big} bytes, the limit is 4096)"
        )),
        "{body}"
    );
    assert!(
        !body.contains("xxxx"),
        "the session data is not echoed: {body}"
    );
}

// --- Configuration (rows 41-43) -----------------------------------------------------------------

fn config_error(builder: SessionLayerBuilder) -> (&'static str, String) {
    match builder.build() {
        Err(ConfigError::Cookie { what, value, .. }) => (what, value),
        Err(other) => panic!("expected a cookie error, got {other}"),
        Ok(layer) => panic!("accepted {:?}", layer.cookie_settings()),
    }
}

#[test]
fn host_prefix_without_secure_or_with_domain_or_narrow_path_is_a_config_error() {
    let clock = clock_at(T);
    let host = || builder(&clock).with_cookie_name("__Host-session");
    assert_eq!(config_error(host()).0, "name");
    assert_eq!(
        config_error(host().with_secure(true).with_path("/app")).0,
        "name"
    );
    assert_eq!(
        config_error(
            host()
                .with_secure(true)
                .with_domain(Some("example.com".into()))
        )
        .0,
        "name"
    );
    assert_eq!(
        config_error(builder(&clock).with_cookie_name("__Secure-session")).0,
        "name"
    );
    let valid = host()
        .with_secure(true)
        .build()
        .expect("Secure, Path=/ and no Domain is a valid __Host- cookie");
    assert_eq!(valid.cookie_settings().name, "__Host-session");
}

#[test]
fn same_site_none_without_secure_is_a_config_error() {
    let clock = clock_at(T);
    let none = || builder(&clock).with_same_site(Some(SameSite::None));
    assert_eq!(config_error(none()).0, "same_site");
    let valid = none()
        .with_secure(true)
        .build()
        .expect("SameSite=None with Secure is valid");
    assert_eq!(valid.cookie_settings().same_site, Some(SameSite::None));
}

#[test]
fn header_injection_payloads_in_name_path_or_domain_are_config_errors() {
    let clock = clock_at(T);
    let b = || builder(&clock);
    for name in [
        "session; Domain=.parent.tld",
        "session\r\nSet-Cookie: x=y",
        "ses sion",
        "a,b",
        "a=b",
        "",
        "séance",
    ] {
        assert_eq!(
            config_error(b().with_cookie_name(name)),
            ("name", name.to_owned())
        );
    }
    for path in [
        "/; HttpOnly",
        "/a,b",
        "/a b",
        "/x\r\nX-Evil: 1",
        "relative",
        "",
    ] {
        assert_eq!(config_error(b().with_path(path)), ("path", path.to_owned()));
    }
    for domain in [
        "legit.com; Domain=.parent.tld",
        "evil.com,other.com",
        " example.com",
        "exa mple.com",
        "example.com\r\n",
        "",
        ".",
        "-bad.com",
    ] {
        assert_eq!(
            config_error(b().with_domain(Some(domain.to_owned()))),
            ("domain", domain.to_owned())
        );
    }
}

#[test]
fn zero_max_age_is_a_config_error() {
    // `Max-Age=0` deletes the cookie the moment it is set: no session could ever persist.
    let clock = clock_at(T);
    for max_age in [Duration::ZERO, Duration::from_millis(500)] {
        assert_eq!(
            config_error(builder(&clock).with_max_age(Some(max_age))).0,
            "max_age"
        );
    }
}

#[tokio::test]
async fn domain_max_age_and_path_attributes_follow_webobs_order() {
    let clock = clock_at(T);
    let app = router(
        builder(&clock)
            .with_max_age(Some(Duration::from_secs(3600)))
            .with_domain(Some(".example.com".into()))
            .with_path("/shop")
            .build()
            .expect("valid"),
    );
    let response = call(&app, request("/count", &[])).await;
    let headers = set_cookies(&response);
    let value = wire::sign(SECRET, r#"[1764000000, 1764000000.0, {"counter": 1}]"#);
    assert_eq!(
        headers,
        [format!(
            "session={value}; Domain=.example.com; Max-Age=3600; Path=/shop; SameSite=Lax"
        )]
    );
}

#[tokio::test]
async fn hardened_preset_emits_a_host_prefixed_secure_http_only_cookie() {
    let clock = clock_at(T);
    let app = router(builder(&clock).hardened().build().expect("valid preset"));
    let response = call(&app, request("/count", &[])).await;
    let value = wire::sign(SECRET, r#"[1764000000, 1764000000.0, {"counter": 1}]"#);
    assert_eq!(
        set_cookies(&response),
        [format!(
            "__Host-session={value}; Path=/; secure; HttpOnly; SameSite=Lax"
        )]
    );
}

/// `/expiry/{secs}` sets the session's own expiry (`0`: browser session, `default`: the
/// layer's) and counts.
fn expiry_router(layer: SessionLayer) -> Router {
    Router::new()
        .route(
            "/expiry/{which}",
            get(|session: Session, Path(which): Path<String>| async move {
                let expiry = match which.as_str() {
                    "default" => Expiry::Default,
                    "0" => Expiry::BrowserSession,
                    secs => Expiry::MaxAge(Duration::from_secs(secs.parse().expect("secs"))),
                };
                session.set_expiry(expiry).expect("a valid expiry");
                count(session).await
            }),
        )
        .layer(layer)
}

#[tokio::test]
async fn a_sessions_own_expiry_sets_or_drops_max_age_in_webobs_order() {
    let clock = clock_at(T);
    let layer = builder(&clock)
        .with_max_age(Some(Duration::from_secs(3600)))
        .with_domain(Some(".example.com".into()))
        .build()
        .expect("valid");
    let app = expiry_router(layer);
    let cases = [
        (
            "2592000",
            "; Domain=.example.com; Max-Age=2592000; Path=/; SameSite=Lax",
        ),
        ("0", "; Domain=.example.com; Path=/; SameSite=Lax"),
        (
            "default",
            "; Domain=.example.com; Max-Age=3600; Path=/; SameSite=Lax",
        ),
    ];
    for (which, attributes) in cases {
        let response = call(&app, request(&format!("/expiry/{which}"), &[])).await;
        let headers = set_cookies(&response);
        assert_eq!(headers.len(), 1, "{which}: {headers:?}");
        let (_, after_value) = headers[0].split_once("; ").expect("attributes");
        assert_eq!(format!("; {after_value}"), attributes, "{which}");
    }
}
