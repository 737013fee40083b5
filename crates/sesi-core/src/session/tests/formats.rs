//! The cookie-format seam seen from the engine: a format that records no `created`, compresses,
//! and reserves other keys than Pyramid's (as Flask's and Django's will) works through the trait
//! alone; and the timing settings are whole seconds.

use super::*;
use crate::format::FlashKeys;

/// A stand-in for the formats to come: `<accessed>.<hex of the run-length-encoded JSON
/// state>.<checksum>`, so its length depends on the content, not on the JSON's length; only a
/// signing-style timestamp, no `created`; its own reserved keys. Not secure: a test double.
#[derive(Debug)]
struct Compact;

const COMPACT_KEYS: ReservedKeys = ReservedKeys::new(
    FlashKeys::PerQueue { prefix: "_flash_" },
    "csrf_token",
    "_expiry",
);

/// Runs of 4 or more equal bytes become `~` + the byte + the count as 4 hex digits.
fn rle(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let run = bytes[i..].iter().take_while(|&&b| b == bytes[i]).count();
        let run = run.min(0xffff);
        if run >= 4 {
            out.push(b'~');
            out.push(bytes[i]);
            out.extend_from_slice(format!("{run:04x}").as_bytes());
        } else {
            out.extend_from_slice(&bytes[i..i + run]);
        }
        i += run;
    }
    out
}

fn unrle(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'~' {
            let byte = *bytes.get(i + 1)?;
            let count = std::str::from_utf8(bytes.get(i + 2..i + 6)?).ok()?;
            let count = usize::from_str_radix(count, 16).ok()?;
            out.extend(std::iter::repeat_n(byte, count));
            i += 6;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

fn checksum(text: &str) -> u32 {
    text.bytes().fold(7u32, |sum, b| {
        sum.wrapping_mul(31).wrapping_add(u32::from(b))
    })
}

impl CookieFormat for Compact {
    fn name(&self) -> &'static str {
        "compact"
    }

    fn encode(&self, record: &Record) -> String {
        let json = serde_json::to_vec(&record.state).expect("a JSON map");
        let body = format!(
            "{}.{}",
            record.accessed.as_secs_f64() as i64,
            crate::hex(&rle(&json))
        );
        format!("{body}.{:08x}", checksum(&body))
    }

    fn encoded_len(&self, record: &Record) -> usize {
        self.encode(record).len()
    }

    fn encode_id(&self, id: &SessionId) -> String {
        format!("id.{}", id.to_hex())
    }

    fn encoded_id_len(&self) -> usize {
        35
    }

    fn decode(&self, value: &str) -> Result<Decoded, DecodeError> {
        if let Some(hex) = value.strip_prefix("id.") {
            let id = SessionId::from_hex(hex).ok_or(DecodeError::BadSignature)?;
            return Ok(Decoded {
                content: CookieContent::Id(id),
                key_index: 0,
            });
        }
        let (body, sum) = value.rsplit_once('.').ok_or(DecodeError::BadSignature)?;
        if format!("{:08x}", checksum(body)) != sum {
            return Err(DecodeError::BadSignature);
        }
        let (accessed, hex) = body.split_once('.').ok_or(DecodeError::BadSignature)?;
        let accessed = accessed.parse().map_err(|_| DecodeError::BadSignature)?;
        let packed: Option<Vec<u8>> = (0..hex.len() / 2)
            .map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
            .collect();
        let json = packed
            .and_then(|p| unrle(&p))
            .ok_or(DecodeError::BadSignature)?;
        let state = serde_json::from_slice(&json).map_err(DecodeError::MalformedJson)?;
        Ok(Decoded {
            content: CookieContent::State(Record::without_created(Timestamp::Int(accessed), state)),
            key_index: 0,
        })
    }

    fn reserved_keys(&self) -> &ReservedKeys {
        &COMPACT_KEYS
    }

    fn carries_created(&self) -> bool {
        false
    }
}

fn compact(config: SessionConfig) -> Harness {
    let clock = Arc::new(ManualClock::new(TF));
    let engine = SessionEngine::new(Compact, config)
        .expect("valid config")
        .with_clock(clock.clone());
    Harness {
        clock,
        engine: Arc::new(engine),
    }
}

#[test]
fn a_format_without_created_refuses_an_absolute_lifetime() {
    let err = SessionEngine::new(Compact, config(Some(1200), Some(0), Some(3600)))
        .expect_err("no created, no lifetime");
    assert_eq!(
        err,
        SessionConfigError::LifetimeNeedsCreated { format: "compact" }
    );
    assert!(err.to_string().contains("compact cookie format"), "{err}");
}

#[test]
fn sessions_from_a_format_without_created_round_trip_and_follow_the_idle_timeout() {
    let h = compact(SessionConfig::default());
    let s = h.session(None);
    assert_eq!(s.created(), Some(TF), "a fresh session knows when it began");
    s.insert("counter", &1).expect("int");
    let (cookie, reason) = expect_set(finish(&s));
    assert_eq!(reason, SetReason::Changed);
    assert!(cookie.starts_with(&format!("{T}.")), "{cookie}");

    h.at(600.0);
    let s = h.session(Some(&cookie));
    assert_eq!(s.get::<i64>("counter").expect("int"), Some(1));
    assert!(
        matches!(s.status(), CookieStatus::Valid),
        "{:?}",
        s.status()
    );
    assert_eq!(s.created(), None, "the format does not record it");
    assert_eq!(s.accessed(), TF + 600.0);
    let (reissued, reason) = expect_set(finish(&s));
    assert_eq!(reason, SetReason::Reissued);

    h.at(600.0 + 1201.0);
    let s = h.session(Some(&reissued));
    assert!(
        matches!(s.status(), CookieStatus::Expired { idle } if idle == Duration::from_secs(1201)),
        "{:?}",
        s.status()
    );
    assert!(s.is_empty());
}

#[test]
fn the_size_guard_counts_what_the_format_encodes_not_the_json() {
    let h = compact(config(Some(1200), None, None));
    // 10 000 equal bytes: far over 4096 as JSON, a few bytes once run-length encoded.
    let s = h.session(None);
    s.try_insert("blob", &"x".repeat(10_000))
        .expect("the compact format makes it small");
    assert!(s.fits());
    let (cookie, _) = expect_set(finish(&s));
    assert!(cookie.len() < 100, "{}", cookie.len());
    assert_eq!(s.cookie_size(), cookie.len());

    // 2 500 varied bytes: a Pyramid cookie of about 3 400, but hex doubles it here.
    let varied: String = (0..2500)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let s = h.session(None);
    match s.try_insert("blob", &varied) {
        Err(SessionError::TooLarge { bytes, limit }) => {
            assert_eq!(limit, MAX_COOKIE_SIZE);
            let mut state = serde_json::Map::new();
            state.insert("blob".into(), Value::String(varied.clone()));
            let want =
                Compact.encoded_len(&Record::new(Timestamp::Int(T), Timestamp::Float(TF), state));
            assert_eq!(bytes, want, "the exact encoded length");
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert!(!s.contains("blob"));
    let pyramid = Harness::new(config(Some(1200), None, None)).session(None);
    pyramid
        .try_insert("blob", &varied)
        .expect("fits in a Pyramid cookie");
}

#[test]
fn flash_and_csrf_live_under_the_formats_reserved_keys() {
    let h = compact(SessionConfig::default());
    let s = h.session(None);
    s.flash("saved", "", true).expect("str");
    s.flash("oops", "error", true).expect("str");
    let token = s.get_csrf_token();
    assert_eq!(s.flash_key("error"), "_flash_error");
    assert_eq!(
        Value::Object(s.state()),
        json!({"_flash_": ["saved"], "_flash_error": ["oops"], "csrf_token": token})
    );
    assert!(s.check_csrf_token(&token));
    assert_eq!(s.pop_flash::<String>("").expect("strings"), ["saved"]);
    assert_eq!(COMPACT_KEYS.purpose("_flash_error"), Some("flash messages"));
    assert_eq!(
        COMPACT_KEYS.purpose("_expiry"),
        Some("the session's expiry")
    );
    assert!(COMPACT_KEYS.is_reserved("_flash_error"));
    assert!(COMPACT_KEYS.is_reserved("csrf_token"));
    assert!(!COMPACT_KEYS.is_reserved("_f_"));
    assert!(
        ReservedKeys::PYRAMID.is_reserved("_f_") && ReservedKeys::PYRAMID.is_reserved("_csrft_")
    );
    assert!(!ReservedKeys::PYRAMID.is_reserved("cart"));
}

#[test]
fn an_id_cookie_reaching_a_layer_without_a_store_is_an_unknown_session() {
    let h = Harness::new(SessionConfig::default());
    let id_cookie = h.engine.format().encode_id(&SessionId::generate());
    let s = h.session(Some(&id_cookie));
    assert!(
        matches!(s.status(), CookieStatus::UnknownSession),
        "{:?}",
        s.status()
    );
    assert!(s.is_new() && s.is_empty());
    let (status, record) = h.engine.judge(Some(&id_cookie));
    assert!(matches!(status, CookieStatus::UnknownSession));
    assert!(record.is_none());
}

#[test]
fn timing_settings_are_whole_seconds_and_a_fraction_is_refused_not_rounded() {
    let cfg = SessionConfig {
        timeout: Some(Duration::from_millis(1500)),
        ..SessionConfig::default()
    };
    assert_eq!(
        cfg.validate(),
        Err(SessionConfigError::NotWholeSeconds {
            setting: "timeout",
            value: Duration::from_millis(1500)
        })
    );
    let err = SessionEngine::new(format_for(&[CURRENT]), cfg).expect_err("refused");
    assert!(err.to_string().contains("1.5s"), "{err}");
    for (setting, cfg) in [
        (
            "reissue_time",
            SessionConfig {
                reissue_time: Some(Duration::from_nanos(1)),
                ..SessionConfig::default()
            },
        ),
        (
            "max_lifetime",
            SessionConfig {
                max_lifetime: Some(Duration::from_secs_f64(3600.25)),
                ..SessionConfig::default()
            },
        ),
    ] {
        assert!(
            matches!(cfg.validate(), Err(SessionConfigError::NotWholeSeconds { setting: s, .. }) if s == setting),
            "{setting}"
        );
    }
    assert!(config(Some(1), Some(0), Some(86_400)).validate().is_ok());
}
