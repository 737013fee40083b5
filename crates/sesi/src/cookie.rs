//! The session cookie on the wire: reading it from `Cookie` headers, validating the attributes, and
//! writing `Set-Cookie` in WebOb's attribute order.

use std::time::Duration;

use http::HeaderMap;
use http::header::COOKIE;

use crate::error::ConfigError;
pub(crate) use crate::set_cookie::CookieHeader;

/// The `SameSite` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    /// Sent only on same-site requests.
    Strict,
    /// Sent on same-site requests and top-level navigations (the default).
    Lax,
    /// Sent on every request; requires `Secure`.
    None,
}

impl SameSite {
    fn as_str(self) -> &'static str {
        match self {
            SameSite::Strict => "Strict",
            SameSite::Lax => "Lax",
            SameSite::None => "None",
        }
    }
}

/// The session cookie's name and attributes. Defaults are Pyramid's: name `session`, `Path=/`,
/// no `Domain`, no `Max-Age`, `SameSite=Lax`, not `Secure`, not `HttpOnly`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieSettings {
    /// Cookie name (`session`).
    pub name: String,
    /// `Path` (`/`).
    pub path: String,
    /// `Domain` (none: host-only).
    pub domain: Option<String>,
    /// `Max-Age`, whole seconds (none: the cookie lasts until the browser closes).
    pub max_age: Option<Duration>,
    /// `Secure` (off).
    pub secure: bool,
    /// `HttpOnly` (off, as Pyramid; the hardened preset turns it on).
    pub http_only: bool,
    /// `SameSite` (`Lax`; `None` here means no attribute at all).
    pub same_site: Option<SameSite>,
}

impl Default for CookieSettings {
    fn default() -> Self {
        CookieSettings {
            name: "session".to_owned(),
            path: "/".to_owned(),
            domain: None,
            max_age: None,
            secure: false,
            http_only: false,
            same_site: Some(SameSite::Lax),
        }
    }
}

impl CookieSettings {
    /// Checks every rule a browser or RFC 6265bis imposes, so no malformed header is ever built.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |what: &'static str, value: &str, why: &'static str| ConfigError::Cookie {
            what,
            value: value.to_owned(),
            why,
        };
        if self.name.is_empty() || !self.name.bytes().all(is_token_byte) {
            return Err(invalid(
                "name",
                &self.name,
                "must be a non-empty token: visible ASCII without separators like ; , = or spaces",
            ));
        }
        if !self.path.starts_with('/')
            || !self
                .path
                .bytes()
                .all(|b| b.is_ascii_graphic() && b != b';' && b != b',')
        {
            return Err(invalid(
                "path",
                &self.path,
                "must start with / and hold only visible ASCII without ; or ,",
            ));
        }
        if let Some(domain) = &self.domain {
            let label_ok = |l: &str| {
                !l.is_empty()
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && !l.starts_with('-')
                    && !l.ends_with('-')
            };
            let bare = domain.strip_prefix('.').unwrap_or(domain);
            if bare.is_empty() || !bare.split('.').all(label_ok) {
                return Err(invalid(
                    "domain",
                    domain,
                    "must be a host name: letters, digits, - and . only",
                ));
            }
        }
        if self.name.starts_with("__Host-")
            && (!self.secure || self.path != "/" || self.domain.is_some())
        {
            return Err(invalid(
                "name",
                &self.name,
                "a __Host- cookie needs Secure, Path=/ and no Domain",
            ));
        }
        if self.name.starts_with("__Secure-") && !self.secure {
            return Err(invalid(
                "name",
                &self.name,
                "a __Secure- cookie needs Secure",
            ));
        }
        if let Some(max_age) = self.max_age {
            if max_age.is_zero() {
                return Err(invalid(
                    "max_age",
                    "0",
                    "Max-Age=0 deletes the cookie as soon as it is set (use None for a browser-session cookie)",
                ));
            }
            if max_age.subsec_nanos() != 0 {
                return Err(invalid(
                    "max_age",
                    &format!("{max_age:?}"),
                    "Max-Age is a whole number of seconds",
                ));
            }
        }
        if self.same_site == Some(SameSite::None) && !self.secure {
            return Err(invalid(
                "same_site",
                "None",
                "SameSite=None needs Secure (browsers reject it otherwise)",
            ));
        }
        Ok(())
    }

    /// The fixed parts of this cookie's `Set-Cookie` headers, built once.
    pub(crate) fn header(&self) -> CookieHeader {
        let prefix = format!("{}=", self.name);
        let browser_session = self.attributes(None);
        // The attributes split where `Max-Age` goes, for a session's own expiry.
        let domain_end = self
            .domain
            .as_ref()
            .map_or(0, |domain| "; Domain=".len() + domain.len());
        CookieHeader {
            suffix: self.attributes(self.max_age.map(|d| d.as_secs())),
            deletion: format!("{prefix}{}", self.attributes(Some(0))),
            prefix,
            before_max_age: browser_session[..domain_end].to_owned(),
            after_max_age: browser_session[domain_end..].to_owned(),
        }
    }

    /// Everything after the value: `; Domain=..; Max-Age=..; Path=..; secure; HttpOnly; SameSite=..`
    /// (WebOb's order, so a sesi cookie reads like a Pyramid one).
    fn attributes(&self, max_age: Option<u64>) -> String {
        let mut out = String::new();
        if let Some(domain) = &self.domain {
            out.push_str("; Domain=");
            out.push_str(domain);
        }
        if let Some(max_age) = max_age {
            out.push_str("; Max-Age=");
            out.push_str(&max_age.to_string());
        }
        out.push_str("; Path=");
        out.push_str(&self.path);
        if max_age == Some(0) {
            out.push_str("; expires=Thu, 01-Jan-1970 00:00:00 GMT");
        }
        if self.secure {
            out.push_str("; secure");
        }
        if self.http_only {
            out.push_str("; HttpOnly");
        }
        if let Some(same_site) = self.same_site {
            out.push_str("; SameSite=");
            out.push_str(same_site.as_str());
        }
        out
    }
}

/// RFC 6265 `token`: visible ASCII except separators.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b)
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// The value of the last cookie called `name` across every `Cookie` header field (HTTP/2 sends one
/// field per cookie; with duplicates the last one wins, as in WebOb). Bytes that are not UTF-8 are
/// replaced, so such a value simply fails to decode. Names match exactly and case-sensitively.
pub(crate) fn find_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    let name = name.as_bytes();
    let mut found: Option<&[u8]> = None;
    for field in headers.get_all(COOKIE) {
        // memchr finds the separators a word at a time: the session value is most of the bytes.
        let mut rest = field.as_bytes();
        loop {
            let end = memchr::memchr(b';', rest).unwrap_or(rest.len());
            let pair = &rest[..end];
            if let Some(eq) = memchr::memchr(b'=', pair)
                && trim(&pair[..eq]) == name
            {
                found = Some(trim(&pair[eq + 1..]));
            }
            match rest.get(end + 1..) {
                Some(next) => rest = next,
                None => break,
            }
        }
    }
    // One copy either way; the strict check is the fast one for the usual ASCII value.
    found.map(|value| match std::str::from_utf8(value) {
        Ok(text) => text.to_owned(),
        Err(_) => String::from_utf8_lossy(value).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(fields: &[&[u8]]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for field in fields {
            map.append(COOKIE, HeaderValue::from_bytes(field).expect("test header"));
        }
        map
    }

    #[test]
    fn finds_the_cookie_in_any_field_and_the_last_duplicate_wins() {
        let h = headers(&[b"a=1", b"session=A; b=2", b"c=3;  session = B "]);
        assert_eq!(find_cookie(&h, "session").as_deref(), Some("B"));
        assert_eq!(find_cookie(&h, "missing"), None);
    }

    #[test]
    fn names_match_exactly() {
        let h = headers(&[b"Session=x; __host-session=y; sessionx=z; session"]);
        assert_eq!(find_cookie(&h, "session"), None);
        assert_eq!(find_cookie(&h, "__Host-session"), None);
    }

    #[test]
    fn odd_bytes_never_panic_and_empty_values_are_found() {
        let h = headers(&[b"session=\xff\xfe; x=\x80", b"session="]);
        assert_eq!(find_cookie(&h, "session").as_deref(), Some(""));
        let h = headers(&[b"session=\xffabc"]);
        assert_eq!(find_cookie(&h, "session").as_deref(), Some("\u{fffd}abc"));
    }

    /// The plain definition `find_cookie` must agree with: split on `;`, then on the first `=`.
    fn find_cookie_reference(fields: &[Vec<u8>], name: &str) -> Option<String> {
        fields
            .iter()
            .flat_map(|field| field.split(|&b| b == b';'))
            .filter_map(|pair| {
                let eq = pair.iter().position(|&b| b == b'=')?;
                (trim(&pair[..eq]) == name.as_bytes()).then(|| trim(&pair[eq + 1..]))
            })
            .next_back()
            .map(|value| String::from_utf8_lossy(value).into_owned())
    }

    #[test]
    fn separators_at_the_edges() {
        for (field, want) in [
            (&b"session=a;"[..], Some("a")),
            (b";session=a", Some("a")),
            (b";;", None),
            (b"", None),
            (b"session=a;session", Some("a")),
            (b"session==a=", Some("=a=")),
            (b"x=1; session=", Some("")),
        ] {
            assert_eq!(
                find_cookie(&headers(&[field]), "session").as_deref(),
                want,
                "{field:?}"
            );
        }
    }

    /// Pieces that join into every edge case: duplicates, near-miss names, stray separators,
    /// whitespace, empty values and bytes that are not UTF-8.
    const FRAGMENTS: [&[u8]; 12] = [
        b"session=A",
        b"session=B",
        b" session = C ",
        b"sessionx=D",
        b"Session=E",
        b"session",
        b"=",
        b";",
        b" ",
        b"\t",
        b"\xff",
        b"x=1",
    ];

    use proptest::strategy::Strategy as _;

    proptest::proptest! {
        #[test]
        fn agrees_with_the_reference_split(
            fields in proptest::collection::vec(
                proptest::collection::vec(
                    proptest::sample::select(FRAGMENTS.to_vec()),
                    0..12,
                )
                .prop_map(|parts| parts.concat()),
                0..4,
            )
        ) {
            let mut map = HeaderMap::new();
            let mut sent = Vec::new();
            for field in &fields {
                // Only bytes a header value may hold; others cannot reach the middleware.
                if let Ok(value) = HeaderValue::from_bytes(field) {
                    map.append(COOKIE, value);
                    sent.push(field.clone());
                }
            }
            proptest::prop_assert_eq!(
                find_cookie(&map, "session"),
                find_cookie_reference(&sent, "session")
            );
        }
    }

    #[test]
    fn default_attributes_match_pyramid() {
        let s = CookieSettings::default();
        assert_eq!(s.attributes(None), "; Path=/; SameSite=Lax");
        let hardened = CookieSettings {
            name: "__Host-session".into(),
            secure: true,
            http_only: true,
            max_age: Some(Duration::from_secs(3600)),
            ..CookieSettings::default()
        };
        hardened.validate().expect("valid __Host- cookie");
        assert_eq!(
            hardened.header().set("v"),
            "__Host-session=v; Max-Age=3600; Path=/; secure; HttpOnly; SameSite=Lax"
        );
    }

    #[test]
    fn header_injection_and_prefix_rules_are_config_errors() {
        let bad = [
            CookieSettings {
                name: "ses sion".into(),
                ..Default::default()
            },
            CookieSettings {
                name: "a;b".into(),
                ..Default::default()
            },
            CookieSettings {
                name: String::new(),
                ..Default::default()
            },
            CookieSettings {
                domain: Some("legit.com; Domain=.parent.tld".into()),
                ..Default::default()
            },
            CookieSettings {
                domain: Some("a\r\nb".into()),
                ..Default::default()
            },
            CookieSettings {
                path: "/x; HttpOnly".into(),
                ..Default::default()
            },
            CookieSettings {
                path: "relative".into(),
                ..Default::default()
            },
            CookieSettings {
                name: "__Host-s".into(),
                ..Default::default()
            },
            CookieSettings {
                name: "__Host-s".into(),
                secure: true,
                domain: Some("example.com".into()),
                ..Default::default()
            },
            CookieSettings {
                name: "__Host-s".into(),
                secure: true,
                path: "/app".into(),
                ..Default::default()
            },
            CookieSettings {
                name: "__Secure-s".into(),
                ..Default::default()
            },
            CookieSettings {
                same_site: Some(SameSite::None),
                ..Default::default()
            },
            CookieSettings {
                max_age: Some(Duration::ZERO),
                ..Default::default()
            },
            CookieSettings {
                max_age: Some(Duration::from_millis(1500)),
                ..Default::default()
            },
        ];
        for settings in bad {
            assert!(settings.validate().is_err(), "accepted {settings:?}");
        }
        CookieSettings {
            domain: Some(".example.com".into()),
            ..Default::default()
        }
        .validate()
        .expect("a leading dot is allowed");
    }
}
