//! CSRF (checklist rows 54, 56, 57): every state-changing form and API route refuses a missing,
//! wrong or query-string token with 403 and changes nothing; the token in the `X-CSRF-Token`
//! header or the `csrf_token` form field is accepted; a reset issues a new token.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::html::csrf_field;
use crate::support::http::{Reply, Visitor, form_encode, percent_encode};
use crate::support::server::TestServer;

/// A state-changing route and how to call it.
struct Route {
    method: Method,
    path: &'static str,
    /// Form fields besides `csrf_token` (forms), or the JSON body (API).
    kind: Kind,
}

enum Kind {
    Form(&'static [(&'static str, &'static str)]),
    Api(Option<Value>),
}

fn routes() -> Vec<Route> {
    vec![
        Route {
            method: Method::POST,
            path: "/cart/add",
            kind: Kind::Form(&[("product_id", "sate-ayam"), ("quantity", "2")]),
        },
        Route {
            method: Method::POST,
            path: "/cart/update",
            kind: Kind::Form(&[("product_id", "bakso"), ("quantity", "9")]),
        },
        Route {
            method: Method::POST,
            path: "/cart/remove",
            kind: Kind::Form(&[("product_id", "bakso")]),
        },
        Route {
            method: Method::POST,
            path: "/cart/empty",
            kind: Kind::Form(&[]),
        },
        Route {
            method: Method::POST,
            path: "/session/reset",
            kind: Kind::Form(&[]),
        },
        Route {
            method: Method::POST,
            path: "/api/counter",
            kind: Kind::Api(None),
        },
        Route {
            method: Method::POST,
            path: "/api/cart/items",
            kind: Kind::Api(Some(json!({"product_id": "sate-ayam", "quantity": 2}))),
        },
        Route {
            method: Method::PATCH,
            path: "/api/cart/items/bakso",
            kind: Kind::Api(Some(json!({"quantity": 9}))),
        },
        Route {
            method: Method::DELETE,
            path: "/api/cart/items/bakso",
            kind: Kind::Api(None),
        },
        Route {
            method: Method::DELETE,
            path: "/api/cart",
            kind: Kind::Api(None),
        },
    ]
}

/// How the token travels in one attempt.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Token<'a> {
    Missing,
    Wrong,
    QueryOnly(&'a str),
    Header(&'a str),
    Field(&'a str),
}

async fn call(visitor: &Visitor, route: &Route, token: Token<'_>) -> Reply {
    let path = match token {
        Token::QueryOnly(t) => format!("{}?csrf_token={}", route.path, percent_encode(t)),
        _ => route.path.to_owned(),
    };
    let wrong = "not-the-token-0123456789abcdef01234567";
    let header = match token {
        Token::Header(t) => Some(t),
        Token::Wrong => Some(wrong),
        _ => None,
    };
    let mut headers = Vec::new();
    if let Some(t) = header {
        headers.push(("x-csrf-token", t));
    }
    match &route.kind {
        Kind::Form(fields) => {
            let mut all: Vec<(&str, &str)> = fields.to_vec();
            match token {
                Token::Field(t) => all.push(("csrf_token", t)),
                Token::Wrong => all.push(("csrf_token", wrong)),
                _ => {}
            }
            visitor
                .send(
                    route.method.clone(),
                    &path,
                    &headers,
                    Some(("application/x-www-form-urlencoded", form_encode(&all))),
                )
                .await
        }
        Kind::Api(body) => {
            let body = body.as_ref().map(|b| ("application/json", b.to_string()));
            visitor
                .send(route.method.clone(), &path, &headers, body)
                .await
        }
    }
}

/// A visitor with a counter of 2 and a cart of 3 bakso and 1 rendang.
async fn prepared(server: &TestServer) -> (Visitor, String) {
    let visitor = server.visitor();
    visitor.visit().await;
    visitor.visit().await;
    visitor.add("bakso", 3).await;
    visitor.add("rendang", 1).await;
    let token = visitor.token().await;
    (visitor, token)
}

#[tokio::test]
async fn every_state_changing_route_refuses_a_bad_token_with_403_and_changes_nothing() {
    let server = TestServer::start().await;
    for route in routes() {
        let (visitor, token) = prepared(&server).await;
        let before = visitor.state().await;
        assert_eq!(before["counter"], 2);
        for attempt in [Token::Missing, Token::Wrong, Token::QueryOnly(&token)] {
            let reply = call(&visitor, &route, attempt).await;
            assert_eq!(
                reply.status.as_u16(),
                403,
                "{} {} with {attempt:?}: {}",
                route.method,
                route.path,
                reply.body
            );
            if route.path.starts_with("/api/") {
                assert_eq!(reply.error_code(), "csrf_failed");
            } else {
                assert!(reply.content_type().starts_with("text/html"));
                assert!(reply.body.contains("<span id=\"status\">403</span>"));
            }
            // Still logged in with the same cookie, and nothing in it changed.
            assert!(visitor.cookie().is_some(), "{} kept the cookie", route.path);
            assert_eq!(
                visitor.state().await,
                before,
                "{} {} with {attempt:?} changed the session",
                route.method,
                route.path
            );
        }
    }
}

#[tokio::test]
async fn every_state_changing_route_accepts_the_token_in_the_header_or_the_form_field() {
    let server = TestServer::start().await;
    for route in routes() {
        let in_field: &[bool] = match route.kind {
            Kind::Form(_) => &[false, true],
            Kind::Api(_) => &[false],
        };
        for &field in in_field {
            let (visitor, token) = prepared(&server).await;
            let before = visitor.state().await;
            let attempt = if field {
                Token::Field(&token)
            } else {
                Token::Header(&token)
            };
            let reply = call(&visitor, &route, attempt).await;
            assert!(
                reply.status.is_success() || reply.status.as_u16() == 303,
                "{} {} with {attempt:?}: {} {}",
                route.method,
                route.path,
                reply.status,
                reply.body
            );
            let after = if route.path == "/session/reset" {
                assert_eq!(visitor.cookie(), None, "reset removed the cookie");
                Value::Null
            } else {
                visitor.state().await
            };
            assert_ne!(
                after, before,
                "{} {} changed nothing",
                route.method, route.path
            );
        }
    }
}

#[tokio::test]
async fn form_token_from_the_page_is_the_session_token() {
    let server = TestServer::start().await;
    let visitor = server.visitor();
    let page = visitor.get("/cart").await;
    let field = csrf_field(&page.body);
    assert!(field.len() >= 32, "a real token: {field:?}");
    assert_eq!(visitor.token().await, field);
    // Every form on the page carries the same token.
    let home = visitor.get("/").await;
    assert_eq!(csrf_field(&home.body), field);
}

#[tokio::test]
async fn after_reset_the_old_csrf_token_is_rejected() {
    let server = TestServer::start().await;
    let visitor = server.visitor();
    visitor.visit().await;
    let old = visitor.token().await;
    visitor
        .post_form("/session/reset", &[("csrf_token", &old)])
        .await
        .expect_status(303);

    // The new session has a new token; the old one opens nothing.
    let new = visitor.token().await;
    assert_ne!(new, old);
    let refused = visitor
        .api(Method::POST, "/api/counter", None, Some(&old))
        .await;
    refused.expect_status(403);
    let refused = visitor
        .post_form(
            "/cart/add",
            &[
                ("csrf_token", &old),
                ("product_id", "bakso"),
                ("quantity", "1"),
            ],
        )
        .await;
    refused.expect_status(403);
    assert!(visitor.cart().await.is_empty());
    assert!(visitor.state().await.get("counter").is_none());
    // Nothing from before the reset carried over.
    assert_eq!(visitor.visit().await, 1);
    let ok = visitor
        .api(Method::POST, "/api/counter", None, Some(&new))
        .await;
    ok.expect_status(200);
    assert_eq!(ok.json()["counter"], 2);
}

#[tokio::test]
async fn a_token_from_another_session_is_rejected() {
    let server = TestServer::start().await;
    let attacker = server.visitor();
    let victim = server.visitor();
    let attackers_token = attacker.token().await;
    victim.visit().await;
    let before = victim.state().await;
    victim
        .api(
            Method::POST,
            "/api/cart/items",
            Some(json!({"product_id": "bakso", "quantity": 1})),
            Some(&attackers_token),
        )
        .await
        .expect_status(403);
    assert_eq!(victim.state().await, before);
}
