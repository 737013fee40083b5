//! The checks every cookie format's fuzz body runs on what it decoded, shared through `#[path]`
//! by `decode*_input.rs` (and so by the cargo-fuzz targets and the replay tests alike).

use serde_json::Value;
use sesi_core::session::{CookieStep, Lifecycle, SessionEngine};
use sesi_core::{CookieContent, CookieFormat};

/// `raw` as a request's cookie through the whole session path: reads, flash queues, the CSRF
/// check and a write; the plan stores nothing in cookie mode, and any cookie it sets fits and
/// opens with `format` again.
pub fn session_path(
    engine: &std::sync::Arc<SessionEngine>,
    format: &dyn CookieFormat,
    raw: String,
) {
    let request = Lifecycle::begin(engine, Some(raw));
    let session = request.session();
    let _ = session.get::<Value>("x");
    let _ = session.get::<i64>("counter");
    let _ = session.expiry();
    let _ = session.peek_flash::<Value>("");
    let _ = session.pop_flash::<Value>("error");
    let _ = session.flash("fuzzed", "", false);
    let _ = session.check_csrf_token("0123456789abcdef0123456789abcdef01234567");
    let _ = session.update("counter", |n: &mut i64| *n = n.saturating_add(1));
    let plan = request.plan();
    assert!(
        plan.save.is_none() && plan.delete.is_none(),
        "cookie mode stores nothing"
    );
    if let CookieStep::Set(value) = plan.cookie {
        assert!(value.len() <= sesi_core::MAX_COOKIE_SIZE);
        format
            .decode(&value)
            .expect("the engine's own cookie opens");
    }
}

/// A decoded record (or session id) re-encodes to a value that opens to the same record (exact:
/// the workspace enables serde_json's `float_roundtrip`, so floats survive).
pub fn round_trip(format: &dyn CookieFormat, content: &CookieContent) {
    let record = match content {
        CookieContent::State(record) => record,
        CookieContent::Id(id) => {
            let cookie = format.encode_id(id);
            assert_eq!(format.encoded_id_len(), cookie.len(), "encoded_id_len");
            let again = format.decode(&cookie).expect("a re-encoded id opens");
            assert_eq!(again.content, *content, "round trip changed the id");
            return;
        }
    };
    let cookie = format.encode(record);
    assert_eq!(format.encoded_len(record), cookie.len(), "encoded_len");
    if cookie.len() > sesi_core::MAX_COOKIE_VALUE_LEN {
        return; // a re-encoding can be longer than the input (ensure_ascii escapes)
    }
    let again = format
        .decode(&cookie)
        .expect("a re-encoded cookie opens")
        .into_record()
        .expect("a whole session");
    assert_eq!(*record, again, "round trip changed the record");
}
