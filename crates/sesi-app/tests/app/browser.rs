//! End to end in a real headless Chromium, driven through WebDriver (chromedriver) against the
//! real `sesi serve` on 127.0.0.1: what a person sees in the tutorial, checked automatically.
//!
//! The tests also take the README's screenshots (`counter.png`, `cart.png`, `inspector.png`):
//! into `docs/screenshots/` with `SESI_SCREENSHOTS=1`, under the target dir otherwise (see
//! [`screenshots_dir`](crate::support::browser::screenshots_dir)).

use crate::support::browser::{Browser, Driver, tools};
use crate::support::cookie::{SECRET, flip_char};
use crate::support::load;
use crate::support::process::SesiServer;

/// `sesi serve` for a browser.
fn serve() -> SesiServer {
    SesiServer::serve(&[("SESI_SECRET", SECRET)], &[])
}

/// Flips the sixth character of a cookie value, inside its signature (the value starts with the
/// signature), keeping it in the base64 alphabet so that only the signature check can fail.
/// `None` for a value too short to hold a signature.
fn flip_one_char(value: &str) -> Option<String> {
    (value.chars().count() > 5).then(|| flip_char(value, 5))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counter_is_per_browser_and_language_is_remembered() {
    let _machine = load::whole().await;
    let Some(tools) = tools() else {
        return;
    };
    let server = serve();
    let driver = Driver::start(&tools);
    let first = Browser::open(&driver, &server, "counter-first-profile").await;

    first.goto("/").await;
    let n = first.counter("first visit").await;
    first.expect_eq("first visit counts 1", 1, n).await;
    first.reload().await;
    first.reload().await;
    let n = first.counter("after two reloads").await;
    first.expect_eq("two reloads count 3", 3, n).await;
    first.save_screenshot("counter.png").await;

    // A second tab of the same browser shares its cookie jar, so it continues the count.
    let tab = first
        .run("open a second tab", first.client().new_window(true))
        .await;
    first
        .run(
            "switch to the second tab",
            first.client().switch_to_window(tab.handle),
        )
        .await;
    let windows = first.run("count the tabs", first.client().windows()).await;
    first.expect_eq("two tabs open", 2, windows.len()).await;
    first.goto("/").await;
    let n = first.counter("second tab").await;
    first.expect_eq("second tab continues at 4", 4, n).await;

    // A second browser with a fresh profile has no cookie: its count starts again.
    let second = Browser::open(&driver, &server, "counter-second-profile").await;
    second.goto("/").await;
    let n = second.counter("fresh profile").await;
    second.expect_eq("fresh profile starts at 1", 1, n).await;

    // `?lang=id` switches to Indonesian and the session remembers it on the next pages.
    second.goto("/?lang=id").await;
    let lang = second.attr("lang=id on /", "html", "lang").await;
    second
        .expect_eq("lang=id sets <html lang>", "id", &lang)
        .await;
    let h1 = second.text("lang=id on /", "h1").await;
    second
        .expect_eq(
            "lang=id shows the Indonesian title",
            "Penghitung kunjungan",
            &h1,
        )
        .await;
    second.goto("/cart").await;
    let lang = second
        .attr("lang remembered on /cart", "html", "lang")
        .await;
    second
        .expect_eq("/cart without ?lang stays Indonesian", "id", &lang)
        .await;
    let h1 = second.text("lang remembered on /cart", "h1").await;
    second
        .expect_eq("Indonesian cart title", "Keranjang belanja", &h1)
        .await;
    let add = second
        .text("lang remembered on /cart", "li.product button.add")
        .await;
    second
        .expect_eq("Indonesian add button", "Tambahkan", &add)
        .await;
    second.goto("/session").await;
    let h1 = second.text("lang remembered on /session", "h1").await;
    second
        .expect_eq("Indonesian inspector title", "Pemeriksa sesi", &h1)
        .await;

    // The first browser's session never chose a language: it is still English, and counting.
    first.goto("/").await;
    let lang = first
        .attr("first browser stays English", "html", "lang")
        .await;
    first
        .expect_eq("other session keeps English", "en", &lang)
        .await;
    let n = first.counter("first browser again").await;
    first.expect_eq("first browser continues at 5", 5, n).await;

    second.quit().await;
    first.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cart_inspector_tampering_and_reset() {
    let _machine = load::whole().await;
    let Some(tools) = tools() else {
        return;
    };
    let server = serve();
    let driver = Driver::start(&tools);
    let b = Browser::open(&driver, &server, "cart").await;

    b.goto("/").await;
    let n = b.counter("first visit").await;
    b.expect_eq("first visit counts 1", 1, n).await;

    b.goto("/cart").await;
    let empty = b.count("empty cart at start", "#cart-empty").await;
    b.expect_eq("a new cart is empty", 1, empty).await;

    // Two products through the catalogue's forms; each redirect shows its own flash once.
    b.fill(
        "quantity of Kopi Tubruk",
        r#"li.product[data-product-id="kopi-tubruk"] input[name=quantity]"#,
        "2",
    )
    .await;
    b.click(
        "add Kopi Tubruk",
        r#"li.product[data-product-id="kopi-tubruk"] button.add"#,
    )
    .await;
    let flashes = b.texts("flash after first add", "p.flash").await;
    b.expect_eq(
        "one flash after the first add",
        vec!["Added to your cart: Kopi Tubruk".to_owned()],
        flashes,
    )
    .await;
    b.click(
        "add Nasi Goreng",
        r#"li.product[data-product-id="nasi-goreng"] button.add"#,
    )
    .await;
    let flashes = b.texts("flash after second add", "p.flash").await;
    b.expect_eq(
        "one flash after the second add (the first is not shown again)",
        vec!["Added to your cart: Nasi Goreng".to_owned()],
        flashes,
    )
    .await;
    let two_lines = vec![("kopi-tubruk".to_owned(), 2), ("nasi-goreng".to_owned(), 1)];
    let lines = b.cart_lines("cart after two adds").await;
    b.expect_eq("two cart lines", &two_lines, &lines).await;
    b.save_screenshot("cart.png").await;

    b.reload().await;
    let lines = b.cart_lines("cart after reload").await;
    b.expect_eq("the cart survives a reload", &two_lines, &lines)
        .await;
    let total = b.text("cart total after reload", "#cart-total").await;
    b.expect_eq("total of 2 x 15.000 + 25.000", "Rp 55.000", &total)
        .await;
    let flashes = b.texts("flash after reload", "p.flash").await;
    b.expect_eq(
        "the flash was shown exactly once: none after a reload",
        Vec::<String>::new(),
        flashes,
    )
    .await;

    // The inspector verifies the cookie and shows the decoded payload.
    b.goto("/session").await;
    let status = b.attr("inspector verdict", "#verdict", "data-status").await;
    b.expect_eq("inspector says valid", "valid", &status).await;
    let verdict = b.text("inspector verdict", "#verdict").await;
    b.expect_eq("the verdict reads valid", "valid", &verdict)
        .await;
    let state = b.text("inspector payload", "#state").await;
    let parsed: Result<serde_json::Value, _> = serde_json::from_str(&state);
    let expected = serde_json::json!({"kopi-tubruk": 2, "nasi-goreng": 1});
    b.expect(
        "inspector payload",
        parsed
            .as_ref()
            .is_ok_and(|s| s["counter"] == serde_json::json!(1) && s["cart"] == expected),
        format!("#state to be JSON with counter 1 and cart {expected}"),
        &state,
    )
    .await;
    b.save_screenshot("inspector.png").await;

    // Change a quantity, then remove a line.
    b.goto("/cart").await;
    b.fill(
        "new quantity of Kopi Tubruk",
        r#"tr.cart-line[data-product-id="kopi-tubruk"] input[name=quantity]"#,
        "3",
    )
    .await;
    b.click(
        "update Kopi Tubruk",
        r#"tr.cart-line[data-product-id="kopi-tubruk"] button.update"#,
    )
    .await;
    let flashes = b.texts("flash after update", "p.flash").await;
    b.expect_eq(
        "update flash",
        vec!["Quantity updated: Kopi Tubruk".to_owned()],
        flashes,
    )
    .await;
    let lines = b.cart_lines("cart after update").await;
    b.expect_eq(
        "quantity changed to 3",
        vec![("kopi-tubruk".to_owned(), 3), ("nasi-goreng".to_owned(), 1)],
        lines,
    )
    .await;
    b.click(
        "remove Nasi Goreng",
        r#"tr.cart-line[data-product-id="nasi-goreng"] button.remove"#,
    )
    .await;
    let flashes = b.texts("flash after remove", "p.flash").await;
    b.expect_eq(
        "remove flash",
        vec!["Removed from your cart: Nasi Goreng".to_owned()],
        flashes,
    )
    .await;
    let lines = b.cart_lines("cart after remove").await;
    b.expect_eq("one line left", vec![("kopi-tubruk".to_owned(), 3)], lines)
        .await;

    // Tamper with the cookie through the WebDriver cookie API.
    let original = b
        .run(
            "read the session cookie",
            b.client().get_named_cookie("session"),
        )
        .await;
    let Some(tampered_value) = flip_one_char(original.value()) else {
        return b
            .fail(
                "tamper with the cookie",
                "a session cookie value long enough to hold a signature",
                format!("{:?}", original.value()),
            )
            .await;
    };
    let mut tampered = original.clone();
    tampered.set_value(tampered_value.clone());
    b.run(
        "delete the session cookie",
        b.client().delete_cookie("session"),
    )
    .await;
    b.run("add the tampered cookie", b.client().add_cookie(tampered))
        .await;
    let stored = b
        .run(
            "read the tampered cookie back",
            b.client().get_named_cookie("session"),
        )
        .await;
    b.expect_eq(
        "the browser holds the tampered value",
        tampered_value.as_str(),
        stored.value(),
    )
    .await;
    b.expect_eq(
        "the tampered cookie keeps its path",
        original.path(),
        stored.path(),
    )
    .await;

    b.goto("/session").await;
    b.expect_no_error_page("inspector with a tampered cookie")
        .await;
    let status = b
        .attr(
            "inspector verdict after tampering",
            "#verdict",
            "data-status",
        )
        .await;
    b.expect_eq("inspector says bad-signature", "bad-signature", &status)
        .await;
    let unverified = b.count("unverified payload warning", "#unverified").await;
    b.expect_eq("the claimed payload is marked UNVERIFIED", 1, unverified)
        .await;

    b.goto("/").await;
    b.expect_no_error_page("counter with a tampered cookie")
        .await;
    let n = b.counter("counter after tampering").await;
    b.expect_eq("a tampered cookie starts a fresh session at 1", 1, n)
        .await;
    b.goto("/cart").await;
    let empty = b.count("cart after tampering", "#cart-empty").await;
    b.expect_eq("the fresh session has an empty cart", 1, empty)
        .await;

    // Fill the session again, then the reset button empties it.
    b.click(
        "add Bakso",
        r#"li.product[data-product-id="bakso"] button.add"#,
    )
    .await;
    let lines = b.cart_lines("cart before reset").await;
    b.expect_eq(
        "one line before reset",
        vec![("bakso".to_owned(), 1)],
        lines,
    )
    .await;
    b.goto("/").await;
    let n = b.counter("counter before reset").await;
    b.expect_eq("counter before reset", 2, n).await;
    b.click("reset the session", "#reset").await;
    b.expect_no_error_page("after reset").await;
    let n = b.counter("counter after reset").await;
    b.expect_eq("the reset session counts from 1 again", 1, n)
        .await;
    b.goto("/cart").await;
    let empty = b.count("cart after reset", "#cart-empty").await;
    b.expect_eq("the reset emptied the cart", 1, empty).await;
    let lines = b.cart_lines("cart after reset").await;
    b.expect_eq("no cart lines after reset", Vec::new(), lines)
        .await;

    b.quit().await;
}

/// Seconds from now until the browser's session cookie expires; `None` for a cookie that ends
/// with the browser.
async fn cookie_lifetime(b: &Browser<'_>, step: &str) -> Option<i64> {
    let cookie = b.run(step, b.client().get_named_cookie("session")).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    cookie
        .expires_datetime()
        .map(|at| at.unix_timestamp() - i64::try_from(now).expect("in range"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remember_me_makes_the_browser_keep_its_cookie_for_thirty_days() {
    let _machine = load::whole().await;
    let Some(tools) = tools() else {
        return;
    };
    let server = serve();
    let driver = Driver::start(&tools);
    let b = Browser::open(&driver, &server, "remember").await;

    b.goto("/cart").await;
    let lifetime = cookie_lifetime(&b, "the first cookie").await;
    b.expect_eq("a browser-session cookie at first", None, lifetime)
        .await;
    let checkbox = b.find("the remember-me checkbox", "#remember-me").await;
    b.run("tick remember me", checkbox.click()).await;
    b.click("save remember me", "#remember-save").await;
    let flashes = b.texts("flash after remember me", "p.flash").await;
    b.expect_eq(
        "the page says so",
        vec![
            "You will be remembered on this browser for 30 days after your last visit.".to_owned(),
        ],
        flashes,
    )
    .await;
    let lifetime = cookie_lifetime(&b, "the remembered cookie").await;
    b.expect(
        "the browser keeps the cookie for 30 days",
        lifetime.is_some_and(|secs| (2_591_000..=2_592_000).contains(&secs)),
        "an expiry 2,592,000 s away",
        format!("{lifetime:?}"),
    )
    .await;
    let ticked = b
        .attr("the box stays ticked", "#remember-me", "checked")
        .await;
    b.expect(
        "ticked after the reload",
        !ticked.is_empty(),
        "checked",
        ticked,
    )
    .await;

    let checkbox = b.find("the remember-me checkbox", "#remember-me").await;
    b.run("untick remember me", checkbox.click()).await;
    b.click("save forget me", "#remember-save").await;
    let lifetime = cookie_lifetime(&b, "the forgotten cookie").await;
    b.expect_eq("a browser-session cookie again", None, lifetime)
        .await;
    b.quit().await;
}
