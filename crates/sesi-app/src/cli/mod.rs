//! The `sesi` command line: arguments (clap) validated into settings before any work starts.

mod cookie;
mod log_writer;
mod logging;
mod secrets;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use sesi::{HashAlg, SameSite};

use crate::{CookieFormatName, StoreChoice};

pub use secrets::{SecretSource, default_secret_path, load_secrets};

/// sesi: Pyramid-compatible signed-cookie sessions. Runs the tutorial app and inspects cookies.
#[derive(Debug, Parser)]
#[command(name = "sesi", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the tutorial app (visit counter, cart, session inspector) on HOST:PORT.
    Serve(ServeArgs),
    /// Decode, verify or sign a session cookie value.
    #[command(subcommand)]
    Cookie(CookieCommand),
    /// Print a fresh key of the shape the cookie format takes, usable as SESI_SECRET (pyramid: 64
    /// random bytes as 128 hex characters; pyramid-nacl: 32 as 64, pyramid_nacl_session's
    /// `session.secret`; flask: 32 as 64, like `secrets.token_hex()`; django: 50 characters, like
    /// `get_random_secret_key()`).
    Keygen(FormatArg),
}

/// `--cookie-format`, read the same way by every subcommand.
#[derive(Debug, Args, Clone)]
pub struct FormatArg {
    /// The cookie format: `pyramid` (Pyramid's SignedCookieSessionFactory, byte for byte, signed:
    /// the visitor can read it), `pyramid-nacl` (pyramid_nacl_session's
    /// EncryptedCookieSessionFactory with the JSON serializer: encrypted, keys of 64 hex
    /// characters), `flask` (Flask 3.1's default session cookie, keyed by its SECRET_KEY) or
    /// `django` (Django 5.2's signed_cookies session backend, keyed by its SECRET_KEY). Only
    /// pyramid-nacl hides the session from the visitor.
    #[arg(
        long,
        alias = "format",
        env = "SESI_COOKIE_FORMAT",
        default_value = "pyramid",
        value_parser = parse_format,
        value_name = "FORMAT"
    )]
    pub cookie_format: CookieFormatName,
}

fn parse_format(s: &str) -> Result<CookieFormatName, String> {
    s.parse::<CookieFormatName>().map_err(|e| e.to_string())
}

/// The Pyramid format's settings, read the same way by `serve` and the cookie tools.
#[derive(Debug, Args, Clone)]
pub struct PyramidArgs {
    /// HMAC hash algorithm (Pyramid's `hashalg`): sha512, sha384, sha256, sha224 or sha1.
    #[arg(long, env = "SESI_HASHALG", default_value = "sha512", value_parser = parse_hashalg)]
    pub hashalg: HashAlg,

    /// Salt prepended to the secret (Pyramid's `salt`).
    #[arg(long, env = "SESI_SALT", default_value = sesi::core::DEFAULT_SALT)]
    pub salt: String,
}

/// `sesi serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "SESI_ADDR", default_value = "127.0.0.1:6543")]
    pub addr: String,

    /// File holding the secret(s), one per line, each exactly as written (only the line ending
    /// is removed); the first signs, the others only verify (key rotation). Warned about when
    /// group or others can read it. Without this and without
    /// --secret, a key of the cookie format's shape (pyramid: 64 random bytes as hex;
    /// pyramid-nacl: 32) is generated on first start, kept in `$XDG_DATA_HOME/sesi/secret` (else
    /// `~/.local/share/sesi/secret`; `secret-pyramid-nacl` for pyramid-nacl), readable only by
    /// you, and reused on the next start.
    #[arg(long, env = "SESI_SECRET_FILE", value_name = "PATH")]
    pub secret_file: Option<PathBuf>,

    /// One secret, exactly as given: never split on commas or any other character. Repeat the
    /// flag for a rotation (the first signs, the others only verify); SESI_SECRET holds one.
    /// Prefer the environment variable or a file to the flag: command lines are visible to other
    /// users. Not together with a secret file: which one wins would be a guess. For pyramid a
    /// secret under 64 bytes is warned about, and under 32 refused off loopback; for
    /// pyramid-nacl each is exactly 64 hex characters (32 bytes).
    #[arg(
        long = "secret",
        env = "SESI_SECRET",
        hide_env_values = true,
        value_name = "SECRET",
        action = clap::ArgAction::Append,
        conflicts_with = "secret_file"
    )]
    pub secret: Vec<String>,

    /// Accept a secret shorter than the format's minimum (pyramid: 32 bytes) on a non-loopback
    /// address (never do this in production: a short secret is recovered from one cookie by a
    /// dictionary attack).
    #[arg(long, env = "SESI_ALLOW_WEAK_SECRET")]
    pub allow_weak_secret: bool,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub session: SessionArgs,

    /// Where sessions live: `cookie` (the whole session in the signed cookie, Pyramid's way),
    /// `memory` (this process only; lost on restart), or Redis, shared by every server:
    /// `redis://HOST:PORT[/DB]`, `redis+cluster://HOST:PORT[,HOST:PORT...]` or
    /// `redis+sentinel://HOST:PORT[,...]/MASTER_NAME[/DB]`, and `rediss...` for each over TLS;
    /// or SQL: `postgres://USER[:PASSWORD]@HOST[:PORT]/DB` (shared by every server) or
    /// `sqlite://PATH` (one server; sessions survive a restart). SQL tables are created if
    /// missing and expired rows are swept every 5 minutes. With a store the cookie carries only
    /// a signed random session id.
    #[arg(long, env = "SESI_STORE", default_value = "cookie", value_parser = parse_store)]
    pub store: StoreChoice,

    /// With a `rediss...` store: verify Redis against this CA (PEM) instead of the system's
    /// roots (it replaces them: a server signed by a public CA then fails).
    #[arg(long, env = "SESI_REDIS_CA_FILE", value_name = "PEM")]
    pub redis_ca_file: Option<PathBuf>,

    /// With a `rediss...` store: present this client certificate (PEM), for a Redis with
    /// `tls-auth-clients yes`. Needs --redis-client-key.
    #[arg(
        long,
        env = "SESI_REDIS_CLIENT_CERT",
        value_name = "PEM",
        requires = "redis_client_key"
    )]
    pub redis_client_cert: Option<PathBuf>,

    /// The client certificate's private key (PEM). Needs --redis-client-cert.
    #[arg(
        long,
        env = "SESI_REDIS_CLIENT_KEY",
        value_name = "PEM",
        requires = "redis_client_cert"
    )]
    pub redis_client_key: Option<PathBuf>,

    /// With --store: keep each session in its cookie while it fits in 4096 bytes and move it to
    /// the store only when it does not (and back when it shrinks).
    #[arg(long, env = "SESI_SPILL")]
    pub spill: bool,

    /// With --store: per-session locking, one request of a session at a time across all servers
    /// (waits up to 5 s, leases expire after 30 s). Without it the last write wins.
    #[arg(long, env = "SESI_LOCK")]
    pub lock: bool,

    /// With --store memory: the most sessions it holds. When full, sessions whose visitor never
    /// came back go first, so a flood of cookieless requests cannot push out returning visitors.
    #[arg(
        long,
        env = "SESI_STORE_CAPACITY",
        default_value_t = crate::MEMORY_STORE_CAPACITY,
        value_name = "N"
    )]
    pub store_capacity: usize,

    /// With --store: seconds a session whose visitor has not come back yet is kept (the full
    /// --timeout once they do), or `none`. A crawler that drops cookies then costs minutes of
    /// store space, not the whole timeout; a visitor who returns after it starts afresh.
    #[arg(long, env = "SESI_PROBATION", default_value = "300", value_parser = parse_secs)]
    pub probation: Limit,

    /// With --store: the most a stored session may hold, in bytes of its JSON; a change past it
    /// is refused (a 422), as one past a cookie's 4096 bytes is.
    #[arg(
        long,
        env = "SESI_MAX_SESSION_BYTES",
        default_value_t = sesi::core::session::DEFAULT_MAX_STORED_SIZE,
        value_name = "BYTES"
    )]
    pub max_session_bytes: usize,

    /// With --store (not --spill): still read a visitor's whole-session cookie (from cookie mode)
    /// and move the session into the store. Off, such a cookie is refused and the visitor starts
    /// afresh, since a store could not revoke it. For a migration window of one --timeout.
    #[arg(long, env = "SESI_ACCEPT_COOKIE_SESSIONS")]
    pub accept_cookie_sessions: bool,

    /// With --store: milliseconds a store call may take before the request gets a 503.
    #[arg(
        long,
        env = "SESI_STORE_TIMEOUT_MS",
        default_value_t = 2000,
        value_name = "MS"
    )]
    pub store_timeout_ms: u64,

    /// The log on standard error: `text` (a line per event; coloured only on a terminal, and not
    /// when NO_COLOR is set) or `json` (one JSON object per line, for log shippers). RUST_LOG
    /// sets the level (default `info`). A writer thread writes it; no line is ever dropped.
    #[arg(
        long,
        env = "SESI_LOG_FORMAT",
        default_value = "text",
        value_enum,
        value_name = "FORMAT"
    )]
    pub log_format: LogFormat,
}

fn parse_store(s: &str) -> Result<StoreChoice, String> {
    s.parse()
}

/// Session settings shared with Pyramid's `SignedCookieSessionFactory`.
#[derive(Debug, Args, Clone)]
pub struct SessionArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub format: FormatArg,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub pyramid: PyramidArgs,

    /// Idle timeout in seconds, or `none` (Pyramid's `timeout`). Default: the framework's own
    /// (pyramid and pyramid-nacl: 1200; flask: 2678400, PERMANENT_SESSION_LIFETIME; django:
    /// 1209600, SESSION_COOKIE_AGE); set it to the value the other app uses.
    #[arg(long, env = "SESI_TIMEOUT", value_parser = parse_secs, value_name = "SECS")]
    pub timeout: Option<Limit>,

    /// Re-issue the cookie on a read once this many seconds passed since it was issued, or `none`
    /// (Pyramid's `reissue_time`).
    #[arg(long, env = "SESI_REISSUE_TIME", default_value = "0", value_parser = parse_secs)]
    pub reissue_time: Limit,

    /// Absolute session lifetime in seconds since creation, or `none`.
    #[arg(long, env = "SESI_MAX_LIFETIME", default_value = "none", value_parser = parse_secs)]
    pub max_lifetime: Limit,

    /// Cookie name (Pyramid's `cookie_name`). Default: the framework's own (`session`; django:
    /// `sessionid`).
    #[arg(long, env = "SESI_COOKIE_NAME", value_name = "NAME")]
    pub cookie_name: Option<String>,

    /// Set the cookie's Secure attribute (only sent over HTTPS).
    #[arg(long, env = "SESI_SECURE", default_value_t = false, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub secure: bool,

    /// Set the cookie's HttpOnly attribute (scripts cannot read it).
    #[arg(long, env = "SESI_HTTPONLY", default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub httponly: bool,

    /// The cookie's SameSite attribute; `off` omits it. `none` requires --secure true.
    #[arg(long, env = "SESI_SAMESITE", default_value = "lax")]
    pub samesite: SameSiteArg,
}

/// A whole number of seconds, or no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit(pub Option<Duration>);

fn parse_secs(s: &str) -> Result<Limit, String> {
    if s.eq_ignore_ascii_case("none") {
        return Ok(Limit(None));
    }
    s.parse::<u64>()
        .map(|n| Limit(Some(Duration::from_secs(n))))
        .map_err(|_| format!("{s:?} is not a whole number of seconds (0 or more) or `none`"))
}

fn parse_hashalg(s: &str) -> Result<HashAlg, String> {
    s.parse::<HashAlg>().map_err(|e| e.to_string())
}

/// `--samesite` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SameSiteArg {
    /// SameSite=Lax.
    Lax,
    /// SameSite=Strict.
    Strict,
    /// SameSite=None (requires Secure).
    None,
    /// No SameSite attribute.
    Off,
}

impl SameSiteArg {
    fn to_same_site(self) -> Option<SameSite> {
        match self {
            SameSiteArg::Lax => Some(SameSite::Lax),
            SameSiteArg::Strict => Some(SameSite::Strict),
            SameSiteArg::None => Some(SameSite::None),
            SameSiteArg::Off => None,
        }
    }
}

/// `--log-format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// A readable line per event.
    Text,
    /// One JSON object per line (tracing-subscriber's JSON format).
    Json,
}

/// `sesi cookie ...`.
#[derive(Debug, Subcommand)]
pub enum CookieCommand {
    /// Verify (or decrypt) and print a cookie: accessed, created, state, which key opened it.
    Decode(cookie::DecodeArgs),
    /// Sign (or encrypt) a state (JSON object) into a cookie value the format's framework
    /// accepts.
    Encode(cookie::EncodeArgs),
}

/// Exit codes: 0 success, 1 the cookie did not verify or decode, 2 bad usage or configuration.
pub mod exit {
    /// The cookie did not verify or decode.
    pub const INVALID_COOKIE: u8 = 1;
    /// Bad input, arguments or configuration.
    pub const USAGE: u8 = 2;
}

/// Runs the parsed command line.
#[must_use]
pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Cookie(CookieCommand::Decode(args)) => cookie::decode(&args),
        Command::Cookie(CookieCommand::Encode(args)) => cookie::encode(&args),
        Command::Keygen(format) => keygen(format.cookie_format),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("sesi: error: {err:#}");
            ExitCode::from(exit::USAGE)
        }
    }
}

fn keygen(format: CookieFormatName) -> anyhow::Result<ExitCode> {
    println!("{}", format.generate_key()?);
    Ok(ExitCode::SUCCESS)
}
