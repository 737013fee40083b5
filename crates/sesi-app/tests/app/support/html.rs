//! The app's HTML pages, read by plain string search: the counter, cart lines, flash messages,
//! form fields and the inspector's verdict.

/// Undoes askama's HTML escaping.
pub fn unescape(s: &str) -> String {
    s.replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The text between `start` and the next `end` after it.
pub fn between<'a>(body: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = body.find(start)? + start.len();
    let len = body[from..].find(end)?;
    Some(&body[from..from + len])
}

/// The text of the element with this id (up to the next `<`), unescaped.
pub fn text_of(body: &str, id: &str) -> Option<String> {
    let open = format!("id=\"{id}\"");
    let at = body.find(&open)?;
    let rest = &body[at..];
    let from = rest.find('>')? + 1;
    let len = rest[from..].find('<')?;
    Some(unescape(&rest[from..from + len]))
}

/// The number in `id="counter">N<`.
#[track_caller]
pub fn counter(body: &str) -> i64 {
    between(body, "id=\"counter\">", "<")
        .unwrap_or_else(|| panic!("no counter on the page: {body}"))
        .trim()
        .parse()
        .expect("the counter is a number")
}

/// Every `data-product-id="X" data-qty="N"` cart line, in page order.
pub fn cart_lines(body: &str) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(at) = rest.find("data-product-id=\"") {
        rest = &rest[at + "data-product-id=\"".len()..];
        let id_end = rest.find('"').expect("attribute closes");
        let id = &rest[..id_end];
        if let Some(qty) = rest[id_end..].strip_prefix("\" data-qty=\"") {
            let qty_end = qty.find('"').expect("attribute closes");
            out.push((
                id.to_owned(),
                qty[..qty_end].parse().expect("data-qty is a number"),
            ));
        }
    }
    out
}

fn paragraphs(body: &str, open: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(at) = rest.find(open) {
        rest = &rest[at + open.len()..];
        let from = rest.find('>').expect("tag closes") + 1;
        let len = rest[from..].find("</p>").expect("paragraph closes");
        out.push(unescape(&rest[from..from + len]));
    }
    out
}

/// The flash notices (`class="flash"`) on a page.
pub fn notices(body: &str) -> Vec<String> {
    paragraphs(body, "<p class=\"flash\"")
}

/// The flash errors (`class="flash error"`) on a page.
pub fn flash_errors(body: &str) -> Vec<String> {
    paragraphs(body, "<p class=\"flash error\"")
}

/// Every flash message of any kind.
pub fn all_flashes(body: &str) -> Vec<String> {
    let mut all = notices(body);
    all.extend(flash_errors(body));
    all
}

/// The value of the first `csrf_token` hidden input.
#[track_caller]
pub fn csrf_field(body: &str) -> String {
    between(body, "name=\"csrf_token\" value=\"", "\"")
        .unwrap_or_else(|| panic!("no csrf_token field on the page: {body}"))
        .to_owned()
}

/// The verdict's `data-status="..."`.
#[track_caller]
pub fn data_status(body: &str) -> String {
    between(body, "data-status=\"", "\"")
        .unwrap_or_else(|| panic!("no data-status on the page: {body}"))
        .to_owned()
}

/// Every flash paragraph (`<p class="flash...">`) in page order, as `(class, text)`, the text
/// as written (not unescaped).
pub fn flash_paragraphs(body: &str) -> Vec<(String, String)> {
    body.split(r#"<p class="flash"#)
        .skip(1)
        .map(|rest| {
            let class = rest.split('"').next().unwrap_or_default();
            let text = rest
                .split_once('>')
                .and_then(|(_, t)| t.split_once("</p>"))
                .map(|(t, _)| t)
                .unwrap_or_default();
            (format!("flash{class}"), text.to_owned())
        })
        .collect()
}
