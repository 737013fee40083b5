//! Encrypted sessions shared live with the real pyramid_nacl_session: the Pyramid app configured
//! from settings exactly as docs/migrating-from-pyramid.md tells users
//! (`config.include('pyramid_nacl_session')`, `session.secret` in hex, `session.serializer =
//! json`) and `sesi serve --cookie-format pyramid-nacl` with the same key, one cookie jar going
//! back and forth; then the joint key rotation the doc gives, step by step.

use serde_json::json;
use sesi::core::CookieFormat as _;

use super::{
    browser, pyramid_add_item, pyramid_counter, pyramid_session, sesi_add_item, sesi_api_counter,
    sesi_counter_page, sesi_csrf,
};
use crate::encrypted::{KEY, OLD_KEY, nacl};
use crate::support::http::api_lines;
use crate::support::load;
use crate::support::pyramid::{Peers, Pyramid, Settings, python};

fn encrypted(key: &str) -> Settings {
    Settings {
        format: Some("pyramid-nacl"),
        ..Settings::new(key)
    }
}

/// Which of `keys` opens the browser's session cookie alone.
fn opened_by(b: &crate::support::http::Visitor, keys: &[&str]) -> Option<String> {
    let cookie = b.cookie().expect("a session cookie");
    keys.iter()
        .find(|key| nacl(&[key]).decode(&cookie).is_ok())
        .map(|key| (*key).to_owned())
}

#[tokio::test]
async fn counter_cart_and_csrf_token_go_back_and_forth_encrypted() {
    let _share = load::share().await;
    let Some(py) = python() else { return };
    let peers = Peers::start(&py, &encrypted(KEY));
    let b = browser();
    assert_eq!(pyramid_counter(&b, &peers.pyramid).await, 1);
    assert_eq!(
        opened_by(&b, &[KEY]).as_deref(),
        Some(KEY),
        "Pyramid encrypted it"
    );
    assert_eq!(sesi_counter_page(&b, &peers.sesi).await, 2);
    assert_eq!(pyramid_counter(&b, &peers.pyramid).await, 3);
    let token = sesi_csrf(&b, &peers.sesi).await;
    assert_eq!(sesi_api_counter(&b, &peers.sesi, &token).await, 4);

    pyramid_add_item(&b, &peers.pyramid, "bakso", 2).await;
    let cart = sesi_add_item(&b, &peers.sesi, "rendang", 1).await;
    assert_eq!(
        api_lines(&cart),
        [("bakso".to_owned(), 2), ("rendang".to_owned(), 1)]
    );
    let seen = pyramid_session(&b, &peers.pyramid).await;
    assert_eq!(seen["state"]["cart"], json!({"bakso": 2, "rendang": 1}));
    assert_eq!(seen["state"]["counter"], 4);
    assert_eq!(
        seen["state"]["_csrft_"],
        token.as_str(),
        "the same CSRF token"
    );
    assert_eq!(b.cookie_names(), ["session"]);
}

#[tokio::test]
async fn a_pyramid_app_on_the_signed_format_cannot_read_an_encrypted_cookie_and_starts_afresh() {
    // A mismatch of formats is a fresh session on either side, never an error page.
    let _share = load::share().await;
    let Some(py) = python() else { return };
    let nacl_peers = Peers::start(&py, &encrypted(KEY));
    let signed = Pyramid::start(&py, &Settings::new(KEY));
    let b = browser();
    assert_eq!(sesi_counter_page(&b, &nacl_peers.sesi).await, 1);
    assert_eq!(
        pyramid_counter(&b, &signed).await,
        1,
        "a fresh session on the signed app"
    );
}

#[tokio::test]
async fn the_joint_key_rotation_of_the_migration_doc_keeps_every_session() {
    let _share = load::share().await;
    let Some(py) = python() else { return };
    let b = browser();

    // 0. Both on the old key.
    let pyramid_old = Pyramid::start(&py, &encrypted(OLD_KEY));
    let sesi = encrypted(OLD_KEY).serve_sesi();
    assert_eq!(pyramid_counter(&b, &pyramid_old).await, 1);
    assert_eq!(sesi_counter_page(&b, &sesi).await, 2);
    drop(sesi);

    // 1. sesi accepts both keys and still writes the old one: Pyramid, unchanged, reads it, and
    //    a cookie Pyramid writes with the new key (whichever side switches first) opens in sesi.
    let sesi = encrypted(OLD_KEY).serve_sesi_with(&[OLD_KEY, KEY]);
    assert_eq!(sesi_counter_page(&b, &sesi).await, 3);
    assert_eq!(opened_by(&b, &[OLD_KEY, KEY]).as_deref(), Some(OLD_KEY));
    assert_eq!(pyramid_counter(&b, &pyramid_old).await, 4);
    let early = browser();
    let pyramid_new = Pyramid::start(&py, &encrypted(KEY));
    assert_eq!(pyramid_counter(&early, &pyramid_new).await, 1);
    assert_eq!(
        sesi_counter_page(&early, &sesi).await,
        2,
        "a new-key cookie opens"
    );
    drop((sesi, pyramid_old));

    // 2. One deploy: Pyramid on the new key, sesi writing the new key and still opening the old.
    let sesi = encrypted(KEY).serve_sesi_with(&[KEY, OLD_KEY]);
    assert_eq!(
        sesi_counter_page(&b, &sesi).await,
        5,
        "an old-key cookie opens"
    );
    assert_eq!(
        opened_by(&b, &[OLD_KEY, KEY]).as_deref(),
        Some(KEY),
        "re-encrypted"
    );
    assert_eq!(
        pyramid_counter(&b, &pyramid_new).await,
        6,
        "and Pyramid reads it"
    );
    // What the doc warns about: Pyramid holds one key, so an old-key cookie that reaches a
    // Pyramid page first starts afresh there.
    let late = browser();
    let late_old = Pyramid::start(&py, &encrypted(OLD_KEY));
    assert_eq!(pyramid_counter(&late, &late_old).await, 1);
    drop(late_old);
    assert_eq!(
        pyramid_counter(&late, &pyramid_new).await,
        1,
        "the old key is gone on Pyramid"
    );
    drop(sesi);

    // 3. After one timeout: sesi on the new key alone.
    let sesi = encrypted(KEY).serve_sesi();
    assert_eq!(sesi_counter_page(&b, &sesi).await, 7);
    assert_eq!(pyramid_counter(&b, &pyramid_new).await, 8);
}
