//! Caching headers (row 49): `Vary: Cookie` and `Cache-Control: private` on every response that
//! depends on the cookie.

use super::*;

// --- Caching headers (row 49) -------------------------------------------------------------------

/// The response of a plain tower service behind the layer that reads the session (when `touch`)
/// and answers with `headers`.
async fn respond_with(headers: &[(HeaderName, &'static str)], touch: bool) -> Response<String> {
    let headers = headers.to_vec();
    let service =
        ServiceBuilder::new()
            .layer(layer(&clock_at(T)))
            .service_fn(move |req: Request<String>| {
                let headers = headers.clone();
                async move {
                    let session = Session::from_extensions(req.extensions()).expect("layer ran");
                    if touch {
                        let _ = session.get_value("counter");
                    }
                    let mut response = Response::new(String::from("ok"));
                    for (name, value) in headers {
                        response
                            .headers_mut()
                            .append(name, HeaderValue::from_static(value));
                    }
                    Ok::<_, Infallible>(response)
                }
            });
    service
        .oneshot(Request::new(String::new()))
        .await
        .expect("infallible")
}

#[tokio::test]
async fn touched_response_gets_vary_cookie_and_cache_control_private() {
    let response = respond_with(&[], true).await;
    assert_eq!(header_values(response.headers(), VARY), ["Cookie"]);
    assert_eq!(
        header_values(response.headers(), CACHE_CONTROL),
        ["private"]
    );
    let response = respond_with(&[], false).await;
    assert!(response.headers().get(VARY).is_none());
    assert!(response.headers().get(CACHE_CONTROL).is_none());
}

#[tokio::test]
async fn vary_cookie_is_merged_once_with_an_existing_vary() {
    let response = respond_with(&[(VARY, "Accept-Encoding")], true).await;
    let vary = header_values(response.headers(), VARY);
    let tokens: Vec<String> = vary
        .iter()
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .collect();
    assert_eq!(tokens, ["accept-encoding", "cookie"], "{vary:?}");
}

#[tokio::test]
async fn an_existing_vary_cookie_in_any_case_or_vary_star_is_not_duplicated() {
    for existing in ["cookie", "Accept-Encoding, COOKIE", "*"] {
        let response = respond_with(&[(VARY, existing)], true).await;
        assert_eq!(header_values(response.headers(), VARY), [existing]);
    }
    // A second Vary field that already names Cookie counts too.
    let response = respond_with(&[(VARY, "Accept-Encoding"), (VARY, "Cookie")], true).await;
    assert_eq!(
        header_values(response.headers(), VARY),
        ["Accept-Encoding", "Cookie"]
    );
}

#[tokio::test]
async fn cache_control_private_is_merged_with_existing_directives() {
    for (existing, merged) in [
        ("max-age=60", "private, max-age=60"),
        ("public, max-age=60", "private, max-age=60"),
        ("must-revalidate, PUBLIC", "private, must-revalidate"),
    ] {
        let response = respond_with(&[(CACHE_CONTROL, existing)], true).await;
        assert_eq!(
            header_values(response.headers(), CACHE_CONTROL),
            [merged],
            "{existing}"
        );
    }
}

#[tokio::test]
async fn cache_control_directives_from_every_field_are_kept_when_merging() {
    let response = respond_with(
        &[(CACHE_CONTROL, "max-age=60"), (CACHE_CONTROL, "no-cache")],
        true,
    )
    .await;
    assert_eq!(
        header_values(response.headers(), CACHE_CONTROL),
        ["private, max-age=60, no-cache"]
    );
}

#[tokio::test]
async fn cache_control_no_store_or_private_is_left_untouched() {
    for existing in ["no-store", "private, max-age=0", "max-age=0, No-Store"] {
        let response = respond_with(&[(CACHE_CONTROL, existing)], true).await;
        assert_eq!(
            header_values(response.headers(), CACHE_CONTROL),
            [existing],
            "{existing}"
        );
    }
}

/// A page that only asks `is_new()` depends on the cookie too: it must not be shared by caches,
/// though nothing is sent back.
#[tokio::test]
async fn a_getter_alone_marks_the_response_private_without_a_cookie() {
    let clock = clock_at(T + 100.0);
    let app = Router::new()
        .route(
            "/",
            get(|session: Session| async move {
                if session.is_new() {
                    "welcome"
                } else {
                    "welcome back"
                }
            }),
        )
        .layer(layer(&clock));
    let a = cookie_field(&vector_a());
    let response = call(&app, request("/", &[a.as_slice()])).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(set_cookies(&response).is_empty());
    assert_eq!(header_values(response.headers(), VARY), ["Cookie"]);
    assert_eq!(
        header_values(response.headers(), CACHE_CONTROL),
        ["private"]
    );
    assert_eq!(text(response).await, "welcome back");
}
