//! What a store URL names: one server, a cluster, or a master found through sentinels, each
//! over plain TCP or TLS.
//!
//! - `redis://[USER[:PASSWORD]@]HOST[:PORT][/DB]`, `rediss://…` (TLS): one server, parsed by
//!   redis-rs itself;
//! - `redis+cluster://[AUTH@]HOST:PORT[,HOST:PORT…]`, `rediss+cluster://…`: cluster seed nodes
//!   (a cluster has only database 0);
//! - `redis+sentinel://[AUTH@]HOST[:PORT][,HOST[:PORT]…]/MASTER_NAME[/DB]`,
//!   `rediss+sentinel://…`: sentinels (port 26379 by default) and the name of the master they
//!   watch; `AUTH` is for the Redis servers, not the sentinels.
//!
//! A URL fragment is refused: redis-rs reads `#insecure` as "skip certificate verification",
//! and nothing in sesi turns verification off.

use std::fmt;

/// Why a store URL was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlError(String);

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn refuse<T>(reason: impl Into<String>) -> Result<T, UrlError> {
    Err(UrlError(reason.into()))
}

/// A parsed store URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// One server; the URL goes to redis-rs unchanged.
    Single { url: String, tls: bool },
    /// Cluster seed nodes, each as a `redis://` or `rediss://` URL with the credentials.
    Cluster { nodes: Vec<String>, tls: bool },
    /// Sentinels and the master they watch.
    Sentinel(SentinelTarget),
}

/// The sentinel form of a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SentinelTarget {
    pub sentinels: Vec<(String, u16)>,
    pub master: String,
    pub db: i64,
    pub tls: bool,
    pub username: Option<String>,
    pub password: Option<String>,
}

impl Target {
    /// Whether the servers are reached over TLS.
    pub(crate) fn tls(&self) -> bool {
        match self {
            Target::Single { tls, .. } | Target::Cluster { tls, .. } => *tls,
            Target::Sentinel(sentinel) => sentinel.tls,
        }
    }

    pub(crate) fn parse(url: &str) -> Result<Self, UrlError> {
        if url.contains('#') {
            return refuse(
                "a URL fragment is not allowed (redis-rs reads `#insecure` as \"do not verify the \
                 server's certificate\", which sesi never does)",
            );
        }
        let Some((scheme, rest)) = url.split_once("://") else {
            return refuse("expected SCHEME://…, for example redis://127.0.0.1:6379");
        };
        match scheme {
            "redis" | "rediss" => Ok(Target::Single {
                url: url.to_owned(),
                tls: scheme == "rediss",
            }),
            "redis+cluster" | "rediss+cluster" => parse_cluster(rest, scheme == "rediss+cluster"),
            "redis+sentinel" | "rediss+sentinel" => {
                parse_sentinel(rest, scheme == "rediss+sentinel").map(Target::Sentinel)
            }
            other => refuse(format!(
                "unknown scheme {other:?}: use redis, rediss, redis+cluster, rediss+cluster, \
                 redis+sentinel or rediss+sentinel"
            )),
        }
    }
}

/// Splits `[AUTH@]HOSTS[/PATH]` into its parts (the raw, still percent-encoded auth).
fn split_authority(rest: &str) -> (Option<&str>, &str, &str) {
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    match authority.rsplit_once('@') {
        Some((auth, hosts)) => (Some(auth), hosts, path),
        None => (None, authority, path),
    }
}

/// `HOST[:PORT],…` with `default_port`; IPv6 hosts in brackets.
fn parse_hosts(hosts: &str, default_port: Option<u16>) -> Result<Vec<(String, u16)>, UrlError> {
    if hosts.is_empty() {
        return refuse("no host given");
    }
    hosts
        .split(',')
        .map(|entry| {
            let (host, port) = match entry.strip_prefix('[') {
                Some(v6) => {
                    let Some((host, after)) = v6.split_once(']') else {
                        return refuse(format!("unclosed [ in {entry:?}"));
                    };
                    (host, after.strip_prefix(':'))
                }
                None => match entry.rsplit_once(':') {
                    Some((host, port)) => (host, Some(port)),
                    None => (entry, None),
                },
            };
            if host.is_empty() {
                return refuse(format!("empty host in {entry:?}"));
            }
            let port = match (port, default_port) {
                (Some(port), _) => port
                    .parse::<u16>()
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| UrlError(format!("bad port in {entry:?}")))?,
                (None, Some(default)) => default,
                (None, None) => return refuse(format!("{entry:?} needs a port (HOST:PORT)")),
            };
            Ok((host.to_owned(), port))
        })
        .collect()
}

fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

fn parse_cluster(rest: &str, tls: bool) -> Result<Target, UrlError> {
    let (auth, hosts, path) = split_authority(rest);
    if !matches!(path, "" | "0") {
        return refuse(format!(
            "a cluster has only database 0, not /{path}: drop the path"
        ));
    }
    let scheme = if tls { "rediss" } else { "redis" };
    let auth = auth.map(|a| format!("{a}@")).unwrap_or_default();
    let nodes = parse_hosts(hosts, Some(6379))?
        .into_iter()
        .map(|(host, port)| format!("{scheme}://{auth}{}", host_port(&host, port)))
        .collect();
    Ok(Target::Cluster { nodes, tls })
}

fn parse_sentinel(rest: &str, tls: bool) -> Result<SentinelTarget, UrlError> {
    let (auth, hosts, path) = split_authority(rest);
    let sentinels = parse_hosts(hosts, Some(26379))?;
    let (master, db) = match path.split_once('/') {
        Some((master, db)) => (master, db),
        None => (path, ""),
    };
    if master.is_empty() {
        return refuse("a sentinel URL names the master: redis+sentinel://HOST:PORT/MASTER_NAME");
    }
    let db = match db {
        "" => 0,
        db => db
            .parse::<i64>()
            .ok()
            .filter(|db| *db >= 0)
            .ok_or_else(|| UrlError(format!("bad database number {db:?}")))?,
    };
    let (username, password) = match auth {
        None => (None, None),
        Some(auth) => {
            let (user, pass) = match auth.split_once(':') {
                Some((user, pass)) => (user, Some(pass)),
                None => (auth, None),
            };
            let user = percent_decode(user)?;
            (
                (!user.is_empty()).then_some(user),
                pass.map(percent_decode).transpose()?,
            )
        }
    };
    Ok(SentinelTarget {
        sentinels,
        master: percent_decode(master)?,
        db,
        tls,
        username,
        password,
    })
}

/// `%XX` escapes as in any URL's user information.
fn percent_decode(text: &str) -> Result<String, UrlError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| UrlError("a % not followed by two hex digits".into()))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| UrlError("percent-escapes that are not UTF-8".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_server_urls_go_to_redis_rs_unchanged() {
        assert_eq!(
            Target::parse("redis://:pw@127.0.0.1:6379/2"),
            Ok(Target::Single {
                url: "redis://:pw@127.0.0.1:6379/2".into(),
                tls: false
            })
        );
        assert!(Target::parse("rediss://host:6380").expect("valid").tls());
    }

    #[test]
    fn cluster_urls_list_every_seed_with_the_credentials() {
        assert_eq!(
            Target::parse("rediss+cluster://u:p%40ss@10.0.0.1:7000,10.0.0.2:7001,[::1]:7002"),
            Ok(Target::Cluster {
                nodes: vec![
                    "rediss://u:p%40ss@10.0.0.1:7000".into(),
                    "rediss://u:p%40ss@10.0.0.2:7001".into(),
                    "rediss://u:p%40ss@[::1]:7002".into(),
                ],
                tls: true
            })
        );
        assert!(
            Target::parse("redis+cluster://h:7000/3")
                .unwrap_err()
                .0
                .contains("only database 0")
        );
        assert!(Target::parse("redis+cluster://").is_err());
        assert!(Target::parse("redis+cluster://h:0").is_err());
        assert!(Target::parse("redis+cluster://h:99999").is_err());
    }

    #[test]
    fn sentinel_urls_name_the_master_and_default_the_sentinel_port() {
        assert_eq!(
            Target::parse("redis+sentinel://:s%3Acret@s1,s2:26380/mymaster/3"),
            Ok(Target::Sentinel(SentinelTarget {
                sentinels: vec![("s1".into(), 26379), ("s2".into(), 26380)],
                master: "mymaster".into(),
                db: 3,
                tls: false,
                username: None,
                password: Some("s:cret".into()),
            }))
        );
        assert!(
            Target::parse("rediss+sentinel://s1:26379/m")
                .expect("valid")
                .tls()
        );
        for bad in [
            "redis+sentinel://s1:26379",
            "redis+sentinel://s1:26379/",
            "redis+sentinel://s1/m/-1",
            "redis+sentinel://s1/m/x",
            "redis+sentinel://:%zz@s1/m",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn no_url_can_turn_certificate_verification_off() {
        for url in [
            "rediss://host:6380/#insecure",
            "rediss+cluster://h:1#insecure",
            "rediss+sentinel://h/m#insecure",
        ] {
            let err = Target::parse(url).unwrap_err();
            assert!(err.0.contains("fragment"), "{url}: {err}");
        }
    }

    #[test]
    fn unknown_schemes_name_the_known_ones() {
        let err = Target::parse("http://h").unwrap_err();
        assert!(err.0.contains("rediss+sentinel"), "{err}");
        assert!(Target::parse("127.0.0.1:6379").is_err());
    }
}
