//! A virtual client's cookie jar and the counter check on the page it gets.

/// The cookies one virtual client holds, by name, in the order first set.
///
/// Only what a browser would send back on `GET /` of the same origin matters
/// here: the value of each cookie, replaced by the latest `Set-Cookie` of the
/// same name and dropped by one that expires it (`Max-Age=0`).
#[derive(Debug, Default)]
pub struct CookieJar {
    cookies: Vec<(String, String)>,
}

impl CookieJar {
    /// Forgets every cookie: the client becomes a new visitor.
    pub fn clear(&mut self) {
        self.cookies.clear();
    }

    /// Applies one `Set-Cookie` header value.
    pub fn store(&mut self, set_cookie: &str) {
        let mut parts = set_cookie.split(';');
        let Some((name, value)) = parts.next().and_then(|pair| pair.split_once('=')) else {
            return;
        };
        let (name, value) = (name.trim(), value.trim());
        if name.is_empty() {
            return;
        }
        let expired = parts.filter_map(|attr| attr.split_once('=')).any(|(k, v)| {
            k.trim().eq_ignore_ascii_case("max-age")
                && v.trim().parse::<i64>().is_ok_and(|secs| secs <= 0)
        });
        let slot = self.cookies.iter().position(|(n, _)| n == name);
        match (slot, expired) {
            (Some(i), true) => {
                self.cookies.remove(i);
            }
            (Some(i), false) => value.clone_into(&mut self.cookies[i].1),
            (None, true) => {}
            (None, false) => self.cookies.push((name.to_owned(), value.to_owned())),
        }
    }

    /// The `Cookie` request header for the cookies held, if any.
    pub fn header(&self) -> Option<String> {
        let mut cookies = self.cookies.iter();
        let (name, value) = cookies.next()?;
        let mut header = format!("{name}={value}");
        for (name, value) in cookies {
            header.push_str("; ");
            header.push_str(name);
            header.push('=');
            header.push_str(value);
        }
        Some(header)
    }
}

/// Finds `N` in `id="counter">N<` in a response body.
pub fn parse_counter(body: &[u8]) -> Option<u64> {
    const MARKER: &[u8] = b"id=\"counter\">";
    let start = body
        .windows(MARKER.len())
        .position(|window| window == MARKER)?
        + MARKER.len();
    let rest = &body[start..];
    let len = rest.iter().position(|&b| b == b'<')?;
    std::str::from_utf8(&rest[..len]).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latest_set_cookie_wins_and_names_are_kept_apart() {
        let mut jar = CookieJar::default();
        assert_eq!(jar.header(), None);
        jar.store("session=a; Path=/; HttpOnly");
        jar.store("other=x");
        jar.store("session=b; Path=/");
        assert_eq!(jar.header().as_deref(), Some("session=b; other=x"));
    }

    #[test]
    fn max_age_zero_deletes_and_clear_forgets() {
        let mut jar = CookieJar::default();
        jar.store("session=a");
        jar.store("keep=1");
        jar.store("session=; Max-Age=0; Path=/");
        assert_eq!(jar.header().as_deref(), Some("keep=1"));
        jar.clear();
        assert_eq!(jar.header(), None);
    }

    #[test]
    fn values_with_equals_signs_survive() {
        let mut jar = CookieJar::default();
        jar.store("session=\"abc==.def=\"; Path=/");
        assert_eq!(jar.header().as_deref(), Some("session=\"abc==.def=\""));
    }

    #[test]
    fn counter_is_read_from_the_marker() {
        let page = b"<p>You have visited <span id=\"counter\">17</span> times</p>";
        assert_eq!(parse_counter(page), Some(17));
        assert_eq!(parse_counter(b"<span id=\"counter\"></span>"), None);
        assert_eq!(parse_counter(b"<span id=\"counter\">x1</span>"), None);
        assert_eq!(parse_counter(b"no marker"), None);
    }
}
