//! The session factory's settings on both sides: hash algorithm and salt, cookie name,
//! `timeout` and `reissue_time` (including `none`), and tampered cookies.

use std::time::Duration;

use serde_json::json;

use super::{
    SECRET, browser, pyramid_counter, pyramid_session, pyramid_triple, sesi_counter_page,
    sesi_session, settings,
};
use crate::support::cookie::flip_char;
use crate::support::load;
use crate::support::process::run_sesi;
use crate::support::pyramid::{Peers, Settings, python};

#[tokio::test]
async fn sha256_and_custom_salt_work_when_both_agree_and_fail_against_defaults() {
    let _share = load::share().await;
    let Some(py) = python() else { return };
    let custom = Settings {
        hashalg: Some("sha256"),
        salt: Some("warung.session."),
        ..settings()
    };
    let peers = Peers::start(&py, &custom);
    let defaults = Peers::start(&py, &settings());
    let b = browser();
    assert_eq!(pyramid_counter(&b, &peers.pyramid).await, 1);
    assert_eq!(sesi_counter_page(&b, &peers.sesi).await, 2);
    assert_eq!(pyramid_counter(&b, &peers.pyramid).await, 3);
    let cookie = b.cookie().expect("cookie");

    // WebOb verifies it only with sha256 and that salt; so does sesi.
    let read = py
        .check_cookie(&[
            "--secret",
            SECRET,
            "--hashalg",
            "sha256",
            "--salt",
            "warung.session.",
            &cookie,
        ])
        .expect("Pyramid verifies the cookie with sha256 and the salt");
    assert_eq!(pyramid_triple(&read).2["counter"], 3, "{read}");
    let err = py
        .check_cookie(&["--secret", SECRET, &cookie])
        .expect_err("not with the defaults");
    assert!(err.contains("Invalid signature"), "{err}");

    // Peers on the default settings start a fresh session instead.
    assert_eq!(pyramid_counter(&b, &defaults.pyramid).await, 1);
    b.set_cookie("session", &cookie);
    assert_eq!(sesi_counter_page(&b, &defaults.sesi).await, 1);
    b.set_cookie("session", &cookie);
    assert_eq!(
        sesi_session(&b, &defaults.sesi).await["status"],
        "bad-signature"
    );

    // And the custom pair rejects a default cookie.
    let b = browser();
    assert_eq!(pyramid_counter(&b, &defaults.pyramid).await, 1);
    assert_eq!(sesi_counter_page(&b, &defaults.sesi).await, 2);
    assert_eq!(sesi_counter_page(&b, &peers.sesi).await, 1);
}

#[tokio::test]
async fn custom_cookie_name_is_shared_and_other_cookies_are_ignored() {
    let _share = load::share().await;
    let Some(py) = python() else { return };
    let named = Settings {
        cookie_name: Some("warung_sid"),
        ..settings()
    };
    let peers = Peers::start(&py, &named);
    let b = browser();
    // A valid cookie under the default name, which neither side should look at.
    let decoy = run_sesi(
        &["cookie", "encode", "--secret", SECRET, r#"{"counter": 99}"#],
        &[],
        None,
    );
    assert!(decoy.status.success());
    b.set_cookie("session", decoy.stdout.trim());

    assert_eq!(pyramid_counter(&b, &peers.pyramid).await, 1);
    assert_eq!(sesi_counter_page(&b, &peers.sesi).await, 2);
    assert_eq!(pyramid_counter(&b, &peers.pyramid).await, 3);
    let mut names = b.cookie_names();
    names.sort();
    assert_eq!(names, ["session", "warung_sid"]);
    assert_eq!(b.cookie().as_deref(), Some(decoy.stdout.trim()));
}

#[tokio::test]
async fn timeout_none_and_reissue_time_none_on_both_sides() {
    let _share = load::share().await;
    let Some(py) = python() else { return };
    // A cookie last touched in 2001: only a peer without a timeout still accepts it.
    let old = run_sesi(
        &[
            "cookie",
            "encode",
            "--secret",
            SECRET,
            "--accessed",
            "1000000000",
            "--created",
            "1000000000.5",
            r#"{"counter": 41}"#,
        ],
        &[],
        None,
    );
    assert!(old.status.success());
    let old = old.stdout.trim().to_owned();

    let never = Settings {
        timeout: Some("none"),
        reissue_time: Some("none"),
        ..settings()
    };
    let reissuing = Settings {
        timeout: Some("none"),
        ..settings()
    };
    let peers = Peers::start(&py, &never);
    let control = Peers::start(&py, &reissuing);

    let b = browser();
    b.set_cookie("session", &old);
    assert_eq!(pyramid_counter(&b, &peers.pyramid).await, 42);
    assert_eq!(sesi_counter_page(&b, &peers.sesi).await, 43);
    assert_eq!(pyramid_counter(&b, &peers.pyramid).await, 44);

    // Reads never re-issue the cookie with reissue_time none, however old `accessed` is...
    b.set_cookie("session", &old);
    let res = b.at(&peers.pyramid.base).get("/flash/peek").await;
    assert!(res.set_cookies().is_empty(), "Pyramid re-issued on a read");
    let res = b.at(&peers.sesi.base).get("/api/cart").await;
    assert!(res.set_cookies().is_empty(), "sesi re-issued on a read");
    assert_eq!(b.cookie().as_deref(), Some(old.as_str()));

    // ...while with the default reissue_time (0) the same reads do.
    let res = b.at(&control.pyramid.base).get("/flash/peek").await;
    assert!(!res.set_cookies().is_empty(), "Pyramid did not re-issue");
    b.set_cookie("session", &old);
    let res = b.at(&control.sesi.base).get("/api/cart").await;
    assert!(!res.set_cookies().is_empty(), "sesi did not re-issue");

    // A default-timeout peer (the control with timeout 1200 would be the same) drops it.
    let defaults = settings().serve_sesi();
    b.set_cookie("session", &old);
    assert_eq!(sesi_counter_page(&b, &defaults).await, 1);
}

#[tokio::test]
async fn session_timed_out_on_one_side_is_empty_on_the_other() {
    let _share = load::share().await;
    let Some(py) = python() else { return };
    let short = Settings {
        timeout: Some("2"),
        ..settings()
    };
    let peers = Peers::start(&py, &short);

    // Last written by Pyramid.
    let a = browser();
    assert_eq!(pyramid_counter(&a, &peers.pyramid).await, 1);
    assert_eq!(sesi_counter_page(&a, &peers.sesi).await, 2);
    assert_eq!(pyramid_counter(&a, &peers.pyramid).await, 3);
    // Last written by sesi.
    let b = browser();
    assert_eq!(sesi_counter_page(&b, &peers.sesi).await, 1);
    assert_eq!(pyramid_counter(&b, &peers.pyramid).await, 2);
    assert_eq!(sesi_counter_page(&b, &peers.sesi).await, 3);

    // `accessed` is a whole second, so after 3.2 s at least 3 s have passed: more than 2.
    tokio::time::sleep(Duration::from_millis(3200)).await;

    let seen = sesi_session(&a, &peers.sesi).await;
    assert_eq!(seen["status"], "expired");
    assert_eq!(seen["state"].get("counter"), None, "{seen}");
    assert_eq!(sesi_counter_page(&a, &peers.sesi).await, 1);

    let seen = pyramid_session(&b, &peers.pyramid).await;
    assert_eq!(seen["state"], json!({}), "{seen}");
    assert_eq!(pyramid_counter(&b, &peers.pyramid).await, 1);
}

#[tokio::test]
async fn tampered_cookie_starts_fresh_session_on_both_sides() {
    let _share = load::share().await;
    let Some(py) = python() else { return };
    let peers = Peers::start(&py, &settings());
    let b = browser();
    assert_eq!(pyramid_counter(&b, &peers.pyramid).await, 1);
    assert_eq!(sesi_counter_page(&b, &peers.sesi).await, 2);

    // A cookie written by sesi, one character changed in the signature.
    let cookie = b.cookie().expect("cookie");
    b.set_cookie("session", &flip_char(&cookie, 5));
    let seen = pyramid_session(&b, &peers.pyramid).await;
    assert_eq!(seen["new"], true, "{seen}");
    assert_eq!(seen["state"], json!({}));
    assert_eq!(
        sesi_session(&b, &peers.sesi).await["status"],
        "bad-signature"
    );
    b.set_cookie("session", &flip_char(&cookie, 5));
    assert_eq!(sesi_counter_page(&b, &peers.sesi).await, 1);
    assert_eq!(pyramid_counter(&b, &peers.pyramid).await, 2);

    // A cookie written by Pyramid, one character changed in the signed JSON.
    let cookie = b.cookie().expect("cookie");
    let middle = cookie.len() - 20;
    b.set_cookie("session", &flip_char(&cookie, middle));
    assert_eq!(
        sesi_session(&b, &peers.sesi).await["status"],
        "bad-signature"
    );
    b.set_cookie("session", &flip_char(&cookie, middle));
    assert_eq!(sesi_counter_page(&b, &peers.sesi).await, 1);
    b.set_cookie("session", &flip_char(&cookie, middle));
    assert_eq!(pyramid_counter(&b, &peers.pyramid).await, 1);

    // The untouched cookie was fine all along.
    b.set_cookie("session", &cookie);
    assert_eq!(sesi_counter_page(&b, &peers.sesi).await, 3);
}
