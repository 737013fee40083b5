//! `sesi cookie decode` and `sesi cookie encode`: see inside a cookie, or make one Pyramid accepts.

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use serde_json::Value;
use sesi::core::{
    Clock, CookieContent, CookieFormat, Record, Secrets, SessionConfig, SessionEngine, SystemClock,
    Timestamp,
};

use super::{FormatArg, Limit, PyramidArgs, exit, parse_secs};
use crate::cli::secrets::load_explicit_secrets;

/// Where the secrets for a cookie tool come from.
#[derive(Debug, Args)]
pub struct KeyArgs {
    /// One secret, exactly as given (never split); repeat the flag for a rotation list, the first
    /// signs and all verify. SESI_SECRET holds one. Not together with a secret file.
    #[arg(
        long = "secret",
        env = "SESI_SECRET",
        hide_env_values = true,
        value_name = "S",
        action = clap::ArgAction::Append,
        conflicts_with = "secret_file"
    )]
    pub secret: Vec<String>,

    /// File holding the secret(s), one per line.
    #[arg(long, env = "SESI_SECRET_FILE", value_name = "F")]
    pub secret_file: Option<PathBuf>,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub format: FormatArg,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub pyramid: PyramidArgs,
}

/// `sesi cookie decode`.
#[derive(Debug, Args)]
pub struct DecodeArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub keys: KeyArgs,

    /// Also say whether the cookie would be expired under this idle timeout (seconds).
    #[arg(long, value_parser = parse_secs)]
    pub timeout: Option<Limit>,

    /// Show the payload even when the signature cannot be checked (no secret) or is wrong. The
    /// output is marked UNVERIFIED: signed cookies are readable by anyone.
    #[arg(long)]
    pub no_verify: bool,

    /// The cookie value (`session=` prefix allowed), or `-` to read it from standard input. A value
    /// may start with `-` (base64url), so it is never taken for an option.
    #[arg(allow_hyphen_values = true)]
    pub cookie: String,
}

/// `sesi cookie encode`.
#[derive(Debug, Args)]
pub struct EncodeArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub keys: KeyArgs,

    /// `accessed` timestamp as a JSON number (default: now, as a whole second like Pyramid).
    #[arg(long, value_parser = parse_timestamp, allow_hyphen_values = true)]
    pub accessed: Option<Timestamp>,

    /// `created` timestamp as a JSON number (default: now, with fractions like Pyramid); the
    /// flask and django formats record no creation time and ignore it.
    #[arg(long, value_parser = parse_timestamp, allow_hyphen_values = true)]
    pub created: Option<Timestamp>,

    /// The session state as a JSON object, or `-` to read it from standard input.
    pub state: String,
}

/// A JSON number, kept as integer or float so the signed bytes match what Python would write.
fn parse_timestamp(s: &str) -> Result<Timestamp, String> {
    let number: serde_json::Number = serde_json::from_str(s.trim()).map_err(|_| {
        format!("{s:?} is not a JSON number (for example 1764000000 or 1764000000.25)")
    })?;
    Timestamp::from_json(&Value::Number(number)).ok_or_else(|| {
        format!(
            "{s} is out of range (at most {} seconds)",
            Timestamp::MAX_ABS
        )
    })
}

/// The first integer literal of `json` (valid JSON) outside the 64-bit range: serde_json reads
/// such a number as the nearest float, so the cookie would carry another value than the one given.
fn oversized_integer(json: &str) -> Option<&str> {
    let bytes = json.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < bytes.len()
                    && matches!(bytes[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    i += 1;
                }
                let token = &json[start..i];
                let integer = !token.contains(['.', 'e', 'E']);
                if integer && token.parse::<i64>().is_err() && token.parse::<u64>().is_err() {
                    return Some(token);
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// Reads `arg`, or standard input when it is `-`.
fn arg_or_stdin(arg: &str, what: &str) -> anyhow::Result<String> {
    if arg != "-" {
        return Ok(arg.to_owned());
    }
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .with_context(|| format!("cannot read the {what} from standard input"))?;
    Ok(text)
}

impl KeyArgs {
    /// The secrets given, after saying on stderr what is wrong with how they are kept.
    fn secrets(&self) -> anyhow::Result<Option<Secrets>> {
        let loaded = load_explicit_secrets(&self.secret, self.secret_file.as_deref())?;
        Ok(loaded.map(|loaded| {
            for warning in &loaded.warnings {
                eprintln!("sesi: warning: {warning}");
            }
            loaded.secrets
        }))
    }

    /// The cookie format with `secrets`, as `sesi serve` builds it from the same settings.
    fn format(&self, secrets: &Secrets) -> anyhow::Result<std::sync::Arc<dyn CookieFormat>> {
        Ok(self
            .format
            .cookie_format
            .build(secrets, &self.pyramid.salt, self.pyramid.hashalg)?)
    }

    /// How the key that opened a cookie is described.
    fn opened_by(&self, key_index: usize) -> String {
        let (current, key) = if self.format.cookie_format.encrypts() {
            ("the current key (the first one given)", "key")
        } else {
            ("the current secret (the first one given)", "secret")
        };
        let who = match key_index {
            0 => current.to_owned(),
            n => format!("fallback {key} #{n} (re-issue it with the current {key})"),
        };
        match self.format.cookie_format {
            crate::CookieFormatName::Pyramid => format!(
                "verified  by {who}, {} with salt {:?}",
                self.pyramid.hashalg, self.pyramid.salt
            ),
            crate::CookieFormatName::PyramidNacl => {
                format!("decrypted by {who}, XSalsa20-Poly1305 (authentic)")
            }
            crate::CookieFormatName::Flask => {
                format!("verified  by {who}, itsdangerous HMAC-SHA1 with salt \"cookie-session\"")
            }
            crate::CookieFormatName::Django => format!(
                "verified  by {who}, django.core.signing HMAC-SHA256 with salt \
                 \"django.contrib.sessions.backends.signed_cookies\""
            ),
        }
    }
}

fn print_record(record: &Record) -> anyhow::Result<()> {
    for (label, ts) in [
        ("accessed", Some(record.accessed)),
        ("created", record.created),
    ] {
        match ts {
            Some(ts) => println!(
                "{label:<9} {} ({})",
                crate::routes::utc_date(ts.as_secs_f64()),
                ts
            ),
            None => println!("{label:<9} (not recorded by this cookie format)"),
        }
    }
    println!("state:");
    println!("{}", serde_json::to_string_pretty(&record.state)?);
    Ok(())
}

pub(super) fn decode(args: &DecodeArgs) -> anyhow::Result<ExitCode> {
    let text = arg_or_stdin(&args.cookie, "cookie")?;
    let mut value = text.trim();
    if let Some((name, rest)) = value.split_once('=') {
        // `session=VALUE` as copied from a browser; base64url never contains `=`.
        if !name.is_empty() && !rest.is_empty() {
            value = rest.trim();
        }
    }
    let secrets = args.keys.secrets()?;
    let Some(secrets) = secrets.filter(|_| !args.no_verify) else {
        if !args.no_verify {
            bail!(
                "no secret given: pass --secret, --secret-file or SESI_SECRET, or --no-verify to read the payload unverified"
            );
        }
        return decode_unverified(value, &args.keys);
    };
    let format = args.keys.format(&secrets)?;
    let decoded = match format.decode(value) {
        Ok(decoded) => decoded,
        Err(err) => {
            eprintln!("sesi: cookie does not verify: {err}");
            return Ok(ExitCode::from(exit::INVALID_COOKIE));
        }
    };
    println!("{}", args.keys.opened_by(decoded.key_index));
    println!("format    {}", format.name());
    let record = match decoded.content {
        CookieContent::State(record) => record,
        CookieContent::Id(id) => {
            let hex = id.to_hex();
            println!(
                "session   id {hex}: the state lives in the server's store, not in this cookie"
            );
            return Ok(ExitCode::SUCCESS);
        }
    };
    print_record(&record)?;
    if let Some(Limit(timeout)) = args.timeout {
        let engine = SessionEngine::new(
            format,
            SessionConfig {
                timeout,
                ..SessionConfig::default()
            },
        )?;
        let status = engine.judge_record(&record, decoded.key_index);
        let idle = SystemClock.now() - record.accessed.as_secs_f64();
        match timeout {
            Some(t) => println!(
                "expired   {} (idle {idle:.0} s, timeout {} s): {status}",
                if matches!(status, sesi::CookieStatus::Expired { .. }) {
                    "yes"
                } else {
                    "no"
                },
                t.as_secs()
            ),
            None => println!("expired   no (no timeout): {status}"),
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn decode_unverified(value: &str, keys: &KeyArgs) -> anyhow::Result<ExitCode> {
    let format = keys.format.cookie_format;
    let Some(read) = format.read_unverified(value, keys.pyramid.hashalg) else {
        eprintln!(
            "sesi: the {format} cookie format hides its content: it cannot be read without the key"
        );
        return Ok(ExitCode::from(exit::INVALID_COOKIE));
    };
    match read {
        Ok(record) => {
            println!(
                "UNVERIFIED: the signature was NOT checked. Anyone can read a signed cookie like this one;"
            );
            println!("UNVERIFIED: only the secret's holder can change it undetected.");
            print_record(&record)?;
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            eprintln!("sesi: cookie cannot be read: {err}");
            Ok(ExitCode::from(exit::INVALID_COOKIE))
        }
    }
}

pub(super) fn encode(args: &EncodeArgs) -> anyhow::Result<ExitCode> {
    let Some(secrets) = args.keys.secrets()? else {
        bail!("no secret given: pass --secret, --secret-file or SESI_SECRET");
    };
    let text = arg_or_stdin(&args.state, "state")?;
    let state: Value = serde_json::from_str(text.trim()).context("the state is not valid JSON")?;
    let Value::Object(state) = state else {
        bail!("the state must be a JSON object, like {{\"counter\": 1}}");
    };
    if let Some(int) = oversized_integer(&text) {
        bail!(
            "the state holds the integer {int}, which does not fit in 64 bits: it would be signed \
             as a rounded float, not as given (store it as a string)"
        );
    }
    let now = SystemClock.now();
    let record = Record::new(
        args.accessed.unwrap_or(Timestamp::Int(now.floor() as i64)),
        args.created.unwrap_or(Timestamp::Float(now)),
        state,
    );
    let value = args.keys.format(&secrets)?.encode(&record);
    if value.len() > sesi::core::MAX_COOKIE_VALUE_LEN {
        eprintln!(
            "sesi: warning: the value is {} characters; browsers and sesi discard cookies over {}",
            value.len(),
            sesi::core::MAX_COOKIE_VALUE_LEN
        );
    }
    println!("{value}");
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::{Timestamp, oversized_integer, parse_timestamp};

    #[test]
    fn integers_beyond_64_bits_are_found_outside_strings_only() {
        let ok = r#"{"a": 18446744073709551615, "b": -9223372036854775808, "c": 1e400, "d": 0.5}"#;
        assert_eq!(oversized_integer(ok), None);
        let quoted = r#"{"n": "18446744073709551616", "e": "\"99999999999999999999"}"#;
        assert_eq!(oversized_integer(quoted), None);
        assert_eq!(
            oversized_integer(r#"{"s": "x\\", "n": [1, 18446744073709551616]}"#),
            Some("18446744073709551616")
        );
        assert_eq!(
            oversized_integer(r#"{"n": -9223372036854775809}"#),
            Some("-9223372036854775809")
        );
    }

    #[test]
    fn float_timestamps_are_read_exactly() {
        // Needs serde_json's `float_roundtrip`: without it this reads as ...6543.
        assert_eq!(
            parse_timestamp("1795626880.6376545"),
            Ok(Timestamp::Float(1_795_626_880.637_654_5))
        );
        assert_eq!(
            parse_timestamp("1764000000"),
            Ok(Timestamp::Int(1_764_000_000))
        );
        assert_eq!(parse_timestamp("1e3"), Ok(Timestamp::Float(1000.0)));
        assert!(parse_timestamp("1e999").is_err());
        assert!(parse_timestamp("nan").is_err());
    }
}
