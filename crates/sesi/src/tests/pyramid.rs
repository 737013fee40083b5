//! Pyramid's cookies through the layer (rows 1, 2, 21-25, 33, 40, 45, 46, 48): loading and
//! writing them byte for byte, rotation, invalidation, and errors in the handler.

use super::*;

// --- Loading and writing Pyramid's cookies (rows 1, 2, 21, 22, 23, 25, 40) ----------------------

#[tokio::test]
async fn pyramid_vector_a_loads_at_t_plus_100_with_counter_1() {
    let app = router(layer(&clock_at(T + 100.0)));
    let a = cookie_field(&vector_a());
    assert_eq!(
        body_of(&app, "/read", &[&a]).await,
        "valid new=false counter=1"
    );
}

#[tokio::test]
async fn fresh_session_written_at_the_frozen_time_is_vector_a_in_the_exact_default_header() {
    // A fresh session created at T+0.25 has created=1764000000.25 and accessed=int(T): vector A.
    let app = router(layer(&clock_at(T + 0.25)));
    let response = call(&app, request("/count", &[])).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        set_cookies(&response),
        [format!("session={}; Path=/; SameSite=Lax", vector_a())]
    );
    assert_eq!(text(response).await, "1");
}

#[tokio::test]
async fn re_encoding_vector_a_within_its_own_second_reproduces_it_byte_for_byte() {
    let app = router(layer(&clock_at(T + 0.5)));
    let a = cookie_field(&vector_a());
    let response = call(&app, request("/changed", &[&a])).await;
    assert_eq!(the_cookie(&response), vector_a());
    assert_eq!(
        outcome(&response).action,
        CookieAction::Set(SetReason::Changed)
    );

    // The empty-state vector is a fresh session that was only marked changed, at T.
    let app = app_at(T);
    let response = call(&app, request("/changed", &[])).await;
    assert_eq!(the_cookie(&response), vector("empty-state"));
}

#[tokio::test]
async fn idle_boundary_is_inclusive_at_timeout_and_expired_one_second_later() {
    let a = cookie_field(&vector_a());
    assert_eq!(
        body_of(&app_at(T + 1200.0), "/read", &[&a]).await,
        "valid new=false counter=1"
    );
    let app = app_at(T + 1201.0);
    let response = call(&app, request("/read", &[&a])).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        set_cookies(&response).is_empty(),
        "row 22: an expired cookie that is only read is not re-set"
    );
    assert_eq!(text(response).await, "expired new=true counter=0");
}

#[tokio::test]
async fn untouched_request_gets_no_set_cookie_no_vary_and_no_cache_control() {
    let a = cookie_field(&vector_a());
    let bad = cookie_field(&tampered_a());
    // Vector A at T+100 would be re-issued if it were read.
    let app = app_at(T + 100.0);
    for fields in [vec![], vec![a.as_slice()], vec![bad.as_slice()]] {
        let response = call(&app, request("/untouched", &fields)).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(set_cookies(&response).is_empty(), "{fields:?}");
        assert!(response.headers().get(VARY).is_none(), "{fields:?}");
        assert!(
            response.headers().get(CACHE_CONTROL).is_none(),
            "{fields:?}"
        );
        let outcome = outcome(&response);
        assert!(outcome.status.is_none(), "the cookie was not even decoded");
        assert_eq!(outcome.action, CookieAction::None);
    }
}

#[tokio::test]
async fn read_in_the_same_second_sets_no_cookie_and_a_later_second_reissues() {
    let clock = clock_at(T + 0.9);
    let app = router(layer(&clock));
    let a = cookie_field(&vector_a());

    let response = call(&app, request("/read", &[&a])).await;
    assert!(set_cookies(&response).is_empty());
    assert_eq!(
        header_values(response.headers(), VARY),
        ["Cookie"],
        "a read still makes the response depend on the cookie"
    );
    assert_eq!(outcome(&response).action, CookieAction::None);

    clock.set(T + 1.0);
    let response = call(&app, request("/read", &[&a])).await;
    assert_eq!(
        outcome(&response).action,
        CookieAction::Set(SetReason::Reissued)
    );
    let value = the_cookie(&response);
    assert_eq!(
        wire::open_text(SECRET, &value).expect("signed with the secret"),
        r#"[1764000001, 1764000000.25, {"counter": 1}]"#,
        "accessed moves to now, created and state are unchanged"
    );
}

// --- Keys (row 33) ------------------------------------------------------------------------------

#[tokio::test]
async fn cookie_signed_by_a_fallback_secret_is_reissued_under_the_current_secret_only() {
    const CURRENT: &str = "the new secret, rotated in this quarter, 40+ bytes";
    let current = Secret::new(CURRENT).expect("long enough");
    let rotated = Secrets::new(current.clone())
        .with_fallback(Secret::new_insecure(SECRET).expect("non-empty"))
        .expect("one fallback");
    let layer = SessionLayer::builder(rotated)
        .with_clock(clock_at(T + 100.0))
        // Reads never re-issue: only the rotation can cause the Set-Cookie.
        .with_reissue_time(None)
        .with_timeout(None)
        .build()
        .expect("valid");
    let app = router(layer);
    let a = cookie_field(&vector_a());
    let response = call(&app, request("/read", &[&a])).await;
    let outcome = outcome(&response);
    assert!(matches!(
        outcome.status,
        Some(CookieStatus::ValidOldKey { key_index: 1 })
    ));
    assert_eq!(outcome.action, CookieAction::Set(SetReason::Rotated));
    let value = the_cookie(&response);
    assert_eq!(text(response).await, "old-key new=false counter=1");

    let only_current = PyramidFormat::new(&Secrets::new(current), DEFAULT_SALT, HashAlg::Sha512);
    let decoded = only_current
        .decode(&value)
        .expect("verifies under the current secret alone");
    assert_eq!(decoded.key_index, 0);
    assert_eq!(
        decoded.record().expect("a whole session").state["counter"],
        1
    );
    assert!(wire::open(CURRENT, &value).is_some());
    assert!(
        wire::open(SECRET, &value).is_none(),
        "never signed by the fallback"
    );
}

// --- Invalidation (rows 45, 46) -----------------------------------------------------------------

#[tokio::test]
async fn invalidate_sends_the_exact_deletion_header() {
    let app = app_at(T + 100.0);
    let a = cookie_field(&vector_a());
    let response = call(&app, request("/logout", &[&a])).await;
    assert_eq!(set_cookies(&response), [DELETION]);
    assert_eq!(outcome(&response).action, CookieAction::Deleted);
}

#[tokio::test]
async fn invalidate_then_write_sends_only_the_new_data() {
    let app = app_at(T + 100.0);
    let a = cookie_field(&vector_a());
    let response = call(&app, request("/login", &[&a])).await;
    let value = the_cookie(&response);
    assert_eq!(
        wire::open_text(SECRET, &value).expect("signed with the secret"),
        r#"[1764000100, 1764000100.0, {"user": "alice"}]"#,
        "no counter from the old session, and a new `created`"
    );
}

// --- Errors in the handler (row 48) -------------------------------------------------------------

#[tokio::test]
async fn server_error_after_a_write_still_sets_the_cookie_by_default() {
    let app = app_at(T + 100.0);
    let response = call(&app, request("/fail", &[])).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let value = the_cookie(&response);
    assert_eq!(
        wire::open(SECRET, &value).expect("signed")[2],
        json!({"counter": 41})
    );
    assert_eq!(text(response).await, "boom");
}

#[tokio::test]
async fn server_error_after_a_write_sets_no_cookie_when_set_on_exception_is_off() {
    let clock = clock_at(T + 100.0);
    let app = router(
        builder(&clock)
            .with_set_on_exception(false)
            .build()
            .expect("valid"),
    );
    let response = call(&app, request("/fail", &[])).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(set_cookies(&response).is_empty());
    assert_eq!(outcome(&response).action, CookieAction::SkippedOnError);
    assert_eq!(
        text(response).await,
        "boom",
        "the handler's response is kept"
    );
    // A successful write through the same layer is still saved.
    let response = call(&app, request("/count", &[])).await;
    assert_eq!(set_cookies(&response).len(), 1);
}
