//! `GET /session`: the request lifecycle made visible; `GET /session/decode`: any pasted cookie
//! decoded and verified with the server's secrets.

use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::header::COOKIE;
use axum::http::{HeaderMap, Uri};
use axum::response::Html;
use serde::Deserialize;
use sesi::Session;
use sesi::core::{CookieContent, CookieStatus, Decoded, Record, SessionEngine};

use super::AppState;
use super::page::{Chrome, render};
use crate::error::AppError;
use crate::i18n::Texts;

/// Steps 1-4 of the lifecycle for one cookie value.
pub(crate) struct Report {
    /// The cookie format's name (`pyramid`).
    format: &'static str,
    /// The format encrypts: the visitor cannot read the cookie.
    encrypted: bool,
    cookie_header: Option<String>,
    status_name: &'static str,
    status_detail: String,
    verdict_class: &'static str,
    payload: Option<PayloadView>,
    size: usize,
}

pub(crate) struct PayloadView {
    verified: bool,
    /// The state's keys that the format reserves, with what each holds.
    reserved: Vec<(String, &'static str)>,
    accessed_raw: String,
    accessed_date: String,
    created_raw: String,
    created_date: String,
    state_pretty: String,
}

#[derive(Template)]
#[template(path = "inspect.html")]
struct InspectPage {
    t: &'static Texts,
    flashes: Vec<String>,
    errors: Vec<String>,
    report: Report,
    storage: String,
    action: &'static str,
    set_cookie: Option<String>,
}

#[derive(Template)]
#[template(path = "decode.html")]
struct DecodePage {
    t: &'static Texts,
    flashes: Vec<String>,
    errors: Vec<String>,
    report: Report,
}

/// Judges `raw` with the engine's secrets and rules, and shows what it carries; a cookie that fails
/// verification is still decoded, marked UNVERIFIED, because anyone can read a signed cookie.
pub(crate) fn report(
    engine: &SessionEngine,
    cookie_header: Option<String>,
    raw: Option<&str>,
) -> Report {
    let size = raw.map_or(0, |r| engine.cookie_overhead() + r.len());
    // Verified and decoded once; judged by the time rules from that.
    let format = engine.format();
    let (status, payload) = match raw.map(|r| (r, format.decode(r))) {
        None => (CookieStatus::Absent, None),
        Some((
            _,
            Ok(Decoded {
                content: CookieContent::Id(id),
                ..
            }),
        )) => {
            // A session-id cookie: its state is in the store, not in the cookie.
            return Report {
                format: format.name(),
                encrypted: format.encrypts(),
                cookie_header,
                status_name: "session-id",
                status_detail: format!(
                    "a {} session id ({id}); the state is in the store",
                    if format.encrypts() {
                        "encrypted"
                    } else {
                        "signed"
                    }
                ),
                verdict_class: "ok",
                payload: None,
                size,
            };
        }
        Some((
            _,
            Ok(Decoded {
                content: CookieContent::State(record),
                key_index,
            }),
        )) => (
            engine.judge_record(&record, key_index),
            Some(view(engine, &record, true)),
        ),
        Some((raw, Err(err))) => (
            err.into(),
            format
                .read_unverified(raw)
                .and_then(Result::ok)
                .map(|r| view(engine, &r, false)),
        ),
    };
    Report {
        format: format.name(),
        encrypted: format.encrypts(),
        cookie_header,
        status_name: status.name(),
        status_detail: status.to_string(),
        verdict_class: verdict_class(&status),
        payload,
        size,
    }
}

fn verdict_class(status: &CookieStatus) -> &'static str {
    match status {
        CookieStatus::Valid | CookieStatus::ValidOldKey { .. } => "ok",
        CookieStatus::Absent => "none",
        _ => "bad",
    }
}

fn view(engine: &SessionEngine, record: &Record, verified: bool) -> PayloadView {
    let keys = engine.format().reserved_keys();
    PayloadView {
        verified,
        reserved: record
            .state
            .keys()
            .filter_map(|key| keys.purpose(key).map(|purpose| (key.clone(), purpose)))
            .collect(),
        accessed_raw: record.accessed.to_string(),
        accessed_date: utc_date(record.accessed.as_secs_f64()),
        created_raw: record
            .created
            .map_or_else(|| "—".to_owned(), |c| c.to_string()),
        created_date: record.created.map_or_else(
            || "not recorded by this cookie format".to_owned(),
            |c| utc_date(c.as_secs_f64()),
        ),
        state_pretty: serde_json::to_string_pretty(&record.state)
            .unwrap_or_else(|_| "{}".to_owned()),
    }
}

/// `2026-11-25 16:46:44 UTC` (proleptic Gregorian; Howard Hinnant's days-to-civil algorithm).
pub(crate) fn utc_date(secs: f64) -> String {
    let secs = secs.floor() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The `Cookie` header fields received, each value shortened.
fn cookie_header(headers: &HeaderMap) -> Option<String> {
    let fields: Vec<String> = headers
        .get_all(COOKIE)
        .iter()
        .map(|v| shorten_pairs(&String::from_utf8_lossy(v.as_bytes()), false))
        .collect();
    (!fields.is_empty()).then(|| fields.join("\n"))
}

pub(crate) async fn page(
    State(state): State<AppState>,
    session: Session,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Html<String>, AppError> {
    // The inspector reads the session (so a due reissue happens, as on any page) but never
    // pops flash messages or changes data.
    let chrome = Chrome::new(&session, &uri, &headers, false);
    let name = &state.layer.cookie_settings().name;
    let raw = sesi::read_cookie(&headers, name);
    let mut report = report(
        state.layer.engine(),
        cookie_header(&headers),
        raw.as_deref(),
    );
    if session.id().is_some() || report.status_name == "session-id" {
        // Store-backed: the middleware loaded it; show its verdict and the stored state.
        let status = session.status();
        report.status_name = status.name();
        report.status_detail = status.to_string();
        report.verdict_class = verdict_class(&status);
        report.payload = status
            .is_valid()
            .then(|| view(state.layer.engine(), &session.record(), true));
    }
    report.size = session.cookie_size();
    let (action, set_cookie) = state.layer.preview(&session);
    let set_cookie = set_cookie.map(|header| shorten_pairs(&header, true));
    render(&InspectPage {
        t: chrome.t,
        flashes: chrome.flashes,
        errors: chrome.errors,
        report,
        storage: storage(&state, &session),
        action: action.name(),
        set_cookie,
    })
}

/// Where this session lives, for step 0 of the inspector.
fn storage(state: &AppState, session: &Session) -> String {
    use sesi::core::session::StorageMode;
    match (session.id(), state.layer.engine().storage()) {
        (Some(id), _) => format!("the server-side store, id {id}"),
        (None, StorageMode::Store) => "the server-side store (not saved yet)".to_owned(),
        (None, StorageMode::Spill) => {
            "the cookie (it moves to the server-side store if it outgrows 4096 bytes)".to_owned()
        }
        (None, StorageMode::Cookie) if state.layer.engine().format().encrypts() => {
            "the encrypted cookie".to_owned()
        }
        (None, StorageMode::Cookie) => "the signed cookie".to_owned(),
    }
}

/// The decode form's field.
#[derive(Deserialize)]
pub(crate) struct DecodeForm {
    cookie: String,
}

/// The decode page's optional query, only to say why a cookie in it is not read.
#[derive(Deserialize)]
pub(crate) struct DecodeQuery {
    cookie: Option<String>,
}

/// `GET /session/decode`: the form. A cookie in the query string is not decoded: a URL ends up
/// in the browser's history and in proxies' logs, so the form posts.
pub(crate) async fn decode_form(
    State(state): State<AppState>,
    session: Session,
    uri: Uri,
    headers: HeaderMap,
    query: Result<Query<DecodeQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Html<String>, AppError> {
    let mut chrome = Chrome::new(&session, &uri, &headers, false);
    if query.is_ok_and(|Query(q)| q.cookie.is_some()) {
        chrome.errors.push(chrome.t.decode_not_in_url.to_owned());
    }
    let report = report(state.layer.engine(), None, None);
    render(&DecodePage {
        t: chrome.t,
        flashes: chrome.flashes,
        errors: chrome.errors,
        report,
    })
}

/// `POST /session/decode`: the pasted cookie verified with this server's secrets and shown.
/// Read-only: nothing in the visitor's session changes, so no CSRF token is asked for.
pub(crate) async fn decode(
    State(state): State<AppState>,
    session: Session,
    uri: Uri,
    headers: HeaderMap,
    form: Result<Form<DecodeForm>, FormRejection>,
) -> Result<Html<String>, AppError> {
    let Form(form) =
        form.map_err(|e| AppError::bad_request(format!("bad form: {}", e.body_text())))?;
    let mut chrome = Chrome::new(&session, &uri, &headers, false);
    // Accept `name=value` as copied from developer tools, and stray whitespace.
    let pasted = form.cookie.trim();
    let name = &state.layer.cookie_settings().name;
    let pasted = pasted.strip_prefix(&format!("{name}=")).unwrap_or(pasted);
    let engine = state.layer.engine();
    let report = if engine.format().encrypts() {
        // Never a decryption oracle: whoever holds a copy of someone's encrypted cookie must not
        // be able to read it here. The visitor's own session is on the inspector page.
        chrome
            .errors
            .push(chrome.t.decode_encrypted_refused.to_owned());
        report(engine, Some(shorten(pasted)), None)
    } else {
        report(engine, Some(shorten(pasted)), Some(pasted))
    };
    render(&DecodePage {
        t: chrome.t,
        flashes: chrome.flashes,
        errors: chrome.errors,
        report,
    })
}

/// Enough of a cookie value to recognise it, not enough to use it.
const SHOWN: usize = 12;

/// `value` shortened to its first characters and its length: the pages show what a cookie
/// looks like but never a whole one (in store mode the value is the session id, a bearer token;
/// in cookie mode a whole signature would let a copy of the page replay the session).
pub(crate) fn shorten(value: &str) -> String {
    let len = value.chars().count();
    if len <= SHOWN {
        return value.to_owned();
    }
    let prefix: String = value.chars().take(SHOWN).collect();
    format!("{prefix}… ({len} characters)")
}

/// A `Cookie` or `Set-Cookie` header with the value of every `name=value` pair shortened; the
/// attributes of a `Set-Cookie` (after its first `;`) are kept as they are.
fn shorten_pairs(header: &str, set_cookie: bool) -> String {
    let shorten_pair = |pair: &str| match pair.split_once('=') {
        Some((name, value)) => format!("{name}={}", shorten(value.trim())),
        None => pair.to_owned(),
    };
    if set_cookie {
        return match header.split_once(';') {
            Some((pair, attributes)) => format!("{};{attributes}", shorten_pair(pair)),
            None => shorten_pair(header),
        };
    }
    header
        .split(';')
        .map(shorten_pair)
        .collect::<Vec<_>>()
        .join(";")
}

#[cfg(test)]
mod tests {
    use super::{shorten, shorten_pairs, utc_date};

    #[test]
    fn cookie_values_are_shown_as_a_prefix_and_a_length() {
        assert_eq!(shorten("short"), "short");
        let value = "gntrvUqhILfGdygL_J-uCZLHVnxZ1HVjFZd8";
        assert_eq!(shorten(value), "gntrvUqhILfG… (36 characters)");
        assert_eq!(
            shorten_pairs(&format!("a=1; session={value}"), false),
            "a=1; session=gntrvUqhILfG… (36 characters)"
        );
        assert_eq!(
            shorten_pairs(&format!("session={value}; Path=/; HttpOnly"), true),
            "session=gntrvUqhILfG… (36 characters); Path=/; HttpOnly"
        );
        assert_eq!(shorten_pairs("no pairs here", false), "no pairs here");
    }

    #[test]
    fn dates_are_utc_calendar_dates() {
        assert_eq!(utc_date(0.0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_date(1764000000.25), "2025-11-24 16:00:00 UTC");
        assert_eq!(utc_date(951_782_400.0), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc_date(-1.0), "1969-12-31 23:59:59 UTC");
    }
}
