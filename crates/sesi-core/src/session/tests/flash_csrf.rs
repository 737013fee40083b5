//! Flash messages (row 52) and CSRF tokens (rows 53, 55), under the format's reserved keys.

use super::*;

// ---------------------------------------------------------------------------------------------
// Row 52: flash messages (after Pyramid's test_flash_*, test_pop_flash_*, test_peek_flash_*).

#[test]
fn flash_appends_to_the_default_queue_under_f_() {
    let h = Harness::new(SessionConfig::default());
    let s = h.session(None);
    s.flash("msg1", "", true).expect("str");
    s.flash("msg2", "", true).expect("str");
    assert_eq!(s.flash_key(""), "_f_");
    assert_eq!(s.get_value("_f_"), Some(json!(["msg1", "msg2"])));
    let (value, reason) = expect_set(finish(&s));
    assert_eq!(reason, SetReason::Changed);
    assert_eq!(
        read_with(&[CURRENT], &value).state["_f_"],
        json!(["msg1", "msg2"])
    );
}

#[test]
fn flash_to_a_named_queue_uses_f_and_the_name() {
    let h = Harness::new(SessionConfig::default());
    let s = h.session(None);
    s.flash("msg1", "error", true).expect("str");
    assert_eq!(s.get_value("_f_error"), Some(json!(["msg1"])));
    assert_eq!(s.get_value("_f_"), None);
}

#[test]
fn flash_without_duplicates_adds_a_message_only_once() {
    let h = Harness::new(SessionConfig::default());
    let s = h.session(None);
    s.flash("msg", "", true).expect("str");
    s.flash("msg", "", false).expect("str");
    assert_eq!(s.get_value("_f_"), Some(json!(["msg"])));
    s.flash("other", "", false).expect("str");
    s.flash("msg", "", true).expect("str");
    assert_eq!(s.get_value("_f_"), Some(json!(["msg", "other", "msg"])));
    s.flash(&json!({"level": "info"}), "", false).expect("json");
    s.flash(&json!({"level": "info"}), "", false).expect("json");
    assert_eq!(
        s.get_value("_f_").and_then(|q| q.as_array().map(Vec::len)),
        Some(4)
    );
}

#[test]
fn flash_and_try_flash_keep_a_single_value_as_the_first_message_as_peek_flash_reads_it() {
    let h = Harness::new(SessionConfig::default());
    let cookie = h.cookie(T, TF, json!({"_f_": "stray", "_f_error": 7}));
    let s = h.session(Some(&cookie));
    assert_eq!(s.peek_flash::<Value>("").expect("json"), [json!("stray")]);
    s.flash("msg", "", true).expect("str");
    s.try_flash("bad", "error", true).expect("fits");
    assert_eq!(s.get_value("_f_"), Some(json!(["stray", "msg"])));
    assert_eq!(s.get_value("_f_error"), Some(json!([7, "bad"])));
}

#[test]
fn pop_flash_returns_the_messages_removes_the_queue_and_marks_changed() {
    let h = Harness::new(config(Some(1200), None, None));
    let cookie = h.cookie(T, TF, json!({"_f_": ["one", "two"], "_f_error": ["bad"]}));
    let s = h.session(Some(&cookie));
    assert_eq!(s.pop_flash::<String>("").expect("strings"), ["one", "two"]);
    assert!(!s.contains("_f_"));
    assert_eq!(
        s.pop_flash::<String>("").expect("empty"),
        Vec::<String>::new()
    );
    let (value, reason) = expect_set(finish(&s));
    assert_eq!(reason, SetReason::Changed);
    assert_eq!(
        Value::Object(read_with(&[CURRENT], &value).state),
        json!({"_f_error": ["bad"]})
    );
    // Named queue.
    let s = h.session(Some(&value));
    assert_eq!(s.pop_flash::<String>("error").expect("strings"), ["bad"]);
    assert!(s.is_empty());
}

#[test]
fn pop_flash_of_an_empty_queue_sends_no_cookie() {
    let h = Harness::new(config(Some(1200), None, None));
    let cookie = h.cookie(T, TF, json!({"counter": 1}));
    let s = h.session(Some(&cookie));
    assert!(s.pop_flash::<String>("").expect("empty").is_empty());
    assert!(s.pop_flash::<String>("error").expect("empty").is_empty());
    assert_eq!(finish(&s), Plan::default());
}

#[test]
fn peek_flash_returns_the_messages_and_leaves_them_queued() {
    let h = Harness::new(config(Some(1200), None, None));
    let cookie = h.cookie(T, TF, json!({"_f_": ["one"], "_f_error": ["bad"]}));
    let s = h.session(Some(&cookie));
    assert_eq!(s.peek_flash::<String>("").expect("strings"), ["one"]);
    assert_eq!(s.peek_flash::<String>("error").expect("strings"), ["bad"]);
    assert_eq!(s.peek_flash::<String>("").expect("strings"), ["one"]);
    assert!(s.peek_flash::<String>("nothing").expect("empty").is_empty());
    assert_eq!(finish(&s), Plan::default(), "peeking is not a change");
}

#[test]
fn peek_flash_counts_as_an_access_and_can_trigger_a_reissue() {
    let h = Harness::new(config(Some(1200), Some(0), None));
    let cookie = h.cookie(T, TF, json!({"_f_": ["one"]}));
    h.at(2.0);
    let s = h.session(Some(&cookie));
    assert_eq!(s.peek_flash::<String>("").expect("strings"), ["one"]);
    let (value, reason) = expect_set(finish(&s));
    assert_eq!(reason, SetReason::Reissued);
    assert_eq!(read_with(&[CURRENT], &value).state["_f_"], json!(["one"]));
}

#[test]
fn pop_flash_of_the_wrong_type_fails_and_leaves_the_queue() {
    let h = Harness::new(config(Some(1200), None, None));
    let cookie = h.cookie(T, TF, json!({"_f_": ["one", 2]}));
    let s = h.session(Some(&cookie));
    let err = s.pop_flash::<String>("").expect_err("2 is not a string");
    assert!(matches!(err, SessionError::Deserialize { ref key, .. } if key == "_f_"));
    assert_eq!(s.get_value("_f_"), Some(json!(["one", 2])));
    assert_eq!(finish(&s), Plan::default());
    assert_eq!(
        h.session(Some(&cookie))
            .pop_flash::<Value>("")
            .expect("any json"),
        [json!("one"), json!(2)]
    );
}

// ---------------------------------------------------------------------------------------------
// Rows 53, 55: CSRF tokens.

fn is_lower_hex_40(token: &str) -> bool {
    token.len() == 40
        && token
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[test]
fn csrf_token_is_40_lowercase_hex_and_stable_across_requests() {
    let h = Harness::new(SessionConfig::default());
    let s = h.session(None);
    let token = s.get_csrf_token();
    assert!(is_lower_hex_40(&token), "{token}");
    assert_eq!(s.get_csrf_token(), token, "stable within the request");
    assert_eq!(s.get_value(CSRF_KEY), Some(json!(token)));
    let (cookie, reason) = expect_set(finish(&s));
    assert_eq!(reason, SetReason::Changed, "creating the token is a write");
    let next = h.session(Some(&cookie));
    assert_eq!(next.get_csrf_token(), token, "stable across requests");
    assert_eq!(
        finish(&next),
        Plan::default(),
        "reading it back writes nothing"
    );
}

#[test]
fn csrf_tokens_are_unique_and_rotate_on_request() {
    let h = Harness::new(SessionConfig::default());
    let tokens: std::collections::HashSet<String> =
        (0..200).map(|_| h.session(None).get_csrf_token()).collect();
    assert_eq!(tokens.len(), 200);
    assert!(tokens.iter().all(|t| is_lower_hex_40(t)));
    let s = h.session(None);
    let old = s.get_csrf_token();
    let new = s.new_csrf_token();
    assert_ne!(old, new);
    assert!(is_lower_hex_40(&new));
    assert!(!s.check_csrf_token(&old));
    assert!(s.check_csrf_token(&new));
}

#[test]
fn check_csrf_token_accepts_only_the_exact_token() {
    let h = Harness::new(SessionConfig::default());
    let s = h.session(None);
    let token = s.get_csrf_token();
    assert!(s.check_csrf_token(&token));
    let mut last_changed = token.clone();
    let last = last_changed.pop().expect("40 chars");
    last_changed.push(if last == '0' { '1' } else { '0' });
    for wrong in [
        String::new(),
        token[..39].to_owned(),
        format!("{token}0"),
        token.to_ascii_uppercase(),
        last_changed,
        format!(" {token}"),
    ] {
        if wrong != token {
            assert!(!s.check_csrf_token(&wrong), "{wrong:?} accepted");
        }
    }
}

#[test]
fn csrf_comparison_is_constant_time_in_the_source() {
    // Row 55 (a review item kept honest by a test, like the MAC's in `tamper.rs`): the token is
    // compared by `subtle`'s `ct_eq`, never by `==`, whose early exit leaks the matching prefix.
    let src = include_str!("../csrf.rs");
    let code: String = src
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(code.contains("token.as_bytes().ct_eq(supplied.as_bytes())"));
    for line in code.lines().filter(|l| l.contains("supplied")) {
        for banned in ["==", "!=", ".eq(", ".cmp(", "starts_with(", "ends_with("] {
            assert!(
                !line.contains(banned),
                "csrf.rs compares with {banned:?}: {line}"
            );
        }
    }
}

#[test]
fn check_csrf_token_without_a_token_is_false_and_creates_none() {
    let h = Harness::new(SessionConfig::default());
    let s = h.session(None);
    assert!(!s.check_csrf_token(""));
    assert!(!s.check_csrf_token("a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1a3f1"));
    assert!(!s.contains(CSRF_KEY));
    assert_eq!(finish(&s), Plan::default());
    // A stored token that is empty or not a string counts as none, and is replaced on `get`.
    for stored in [json!(""), json!(12345), json!(null)] {
        let cookie = h.cookie(T, TF, json!({CSRF_KEY: stored}));
        let s = h.session(Some(&cookie));
        assert!(!s.check_csrf_token(""), "{stored}");
        assert!(!s.check_csrf_token("12345"), "{stored}");
        let token = s.get_csrf_token();
        assert!(is_lower_hex_40(&token));
        assert!(s.check_csrf_token(&token));
    }
}

#[test]
fn invalidate_discards_the_csrf_token() {
    let h = Harness::new(SessionConfig::default());
    let s = h.session(None);
    let old = s.get_csrf_token();
    s.invalidate();
    assert!(!s.check_csrf_token(&old));
    let new = s.get_csrf_token();
    assert_ne!(new, old);
}

#[test]
fn a_flash_queue_holds_at_most_twenty_messages_and_drops_the_oldest() {
    let h = Harness::new(SessionConfig::default());
    let s = h.session(None);
    for n in 0..30 {
        s.flash(&format!("message {n}"), "", true).expect("str");
        s.try_flash(&format!("error {n}"), "error", true)
            .expect("fits");
    }
    let kept: Vec<String> = s.peek_flash("").expect("strings");
    assert_eq!(kept.len(), MAX_FLASH_MESSAGES);
    assert_eq!(kept.first().map(String::as_str), Some("message 10"));
    assert_eq!(kept.last().map(String::as_str), Some("message 29"));
    let errors: Vec<String> = s.pop_flash("error").expect("strings");
    assert_eq!(errors.len(), MAX_FLASH_MESSAGES);
    assert_eq!(errors[0], "error 10");
}
