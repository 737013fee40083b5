//! The Pyramid side of the interop tests: a Python that can import Pyramid, the reference app
//! (`tests/pyramid/app.py`, Pyramid 2's `SignedCookieSessionFactory` under waitress) and WebOb's
//! own cookie tools (`make_cookie.py`, `check_cookie.py`), and `sesi serve` started with the same
//! session settings next to the app.
//!
//! Python comes from `SESI_PYTHON`, else `<repo>/.venv/bin/python` (made by
//! `scripts/install-test-deps.sh --only python`); without it the tests skip (see [`skip`]).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use super::process::{Run, SesiServer, Spawned, run};
use super::skip::skip;

/// Environment variables of `app.py`, cleared so the caller's shell cannot leak in.
const PYRAMID_VARS: &[&str] = &[
    "SESI_SECRET",
    "PYRAMID_COOKIE_FORMAT",
    "PYRAMID_HASHALG",
    "PYRAMID_SALT",
    "PYRAMID_COOKIE_NAME",
    "PYRAMID_TIMEOUT",
    "PYRAMID_REISSUE_TIME",
    "PORT",
];

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `tests/pyramid/NAME`.
fn pyramid_file(name: &str) -> PathBuf {
    crate_dir().join("tests").join("pyramid").join(name)
}

// ------------------------------------------------------------------------------------ Python

/// A Python interpreter that can import pyramid, waitress and webob.
#[derive(Debug, Clone)]
pub struct Python {
    exe: PathBuf,
}

fn find_python() -> Result<Python, String> {
    let (exe, origin) = match std::env::var_os("SESI_PYTHON").filter(|v| !v.is_empty()) {
        Some(p) => (PathBuf::from(p), "SESI_PYTHON"),
        None => (
            crate_dir().join("../../.venv/bin/python"),
            "the default venv",
        ),
    };
    if !exe.exists() {
        return Err(format!("{} ({origin}) does not exist", exe.display()));
    }
    let probe = Command::new(&exe)
        .args([
            "-c",
            "import pyramid, waitress, webob, pyramid_nacl_session, nacl, flask, django",
        ])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
    if !probe.status.success() {
        return Err(format!(
            "{} cannot import pyramid, waitress, webob, pyramid_nacl_session, nacl, flask and \
             django: {}",
            exe.display(),
            String::from_utf8_lossy(&probe.stderr).trim()
        ));
    }
    Ok(Python { exe })
}

/// The interpreter, or `None` when there is none that can import Pyramid (the test is skipped,
/// see [`skip`]).
pub fn python() -> Option<Python> {
    static FOUND: OnceLock<Result<Python, String>> = OnceLock::new();
    match FOUND.get_or_init(find_python) {
        Ok(py) => Some(py.clone()),
        Err(why) => {
            skip(&format!(
                "the Python interop tests need Python with pyramid, waitress, webob, \
                 pyramid-nacl-session, flask and django: {why} \
                 (or point SESI_PYTHON at an interpreter that has them)"
            ));
            None
        }
    }
}

impl Python {
    /// A command running this interpreter.
    pub fn command(&self) -> Command {
        Command::new(&self.exe)
    }

    /// Runs `tests/pyramid/SCRIPT ARGS` with `stdin` to completion.
    pub fn script(&self, script: &str, args: &[&str], stdin: Option<&str>) -> Run {
        let mut cmd = Command::new(&self.exe);
        cmd.arg(pyramid_file(script)).args(args);
        run(cmd, stdin)
    }

    /// `make_cookie.py ARGS`: the cookie value Pyramid would write.
    pub fn make_cookie(&self, args: &[&str]) -> String {
        let out = self.script("make_cookie.py", args, None);
        assert!(
            out.status.success(),
            "make_cookie.py {args:?} failed: {}",
            out.stderr
        );
        out.stdout.trim().to_owned()
    }

    /// `check_cookie.py ARGS`: `Ok(json line)` when Pyramid accepts the cookie, `Err(reason)`.
    pub fn check_cookie(&self, args: &[&str]) -> Result<String, String> {
        // The cookie value comes last and may start with `-` (base64url): `--` ends the options.
        let mut args = args.to_vec();
        if let Some(value) = args.pop() {
            args.extend(["--", value]);
        }
        let out = self.script("check_cookie.py", &args, None);
        if out.status.success() {
            Ok(out.stdout.trim().to_owned())
        } else {
            Err(out.stderr.trim().to_owned())
        }
    }
}

// ------------------------------------------------------------------------------------ settings

/// Pyramid's `SignedCookieSessionFactory` knobs, given the same way to both servers.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The shared signing secret (pyramid-nacl: the key, 64 hex characters).
    pub secret: String,
    /// The cookie format: `pyramid` (default) or `pyramid-nacl` (pyramid_nacl_session).
    pub format: Option<&'static str>,
    /// `hashalg` (default sha512).
    pub hashalg: Option<&'static str>,
    /// `salt` (default `pyramid.session.`).
    pub salt: Option<&'static str>,
    /// `cookie_name` (default `session`).
    pub cookie_name: Option<&'static str>,
    /// `timeout` in seconds or `none` (default 1200).
    pub timeout: Option<&'static str>,
    /// `reissue_time` in seconds or `none` (default 0).
    pub reissue_time: Option<&'static str>,
}

impl Settings {
    /// Pyramid's defaults with `secret`.
    pub fn new(secret: &str) -> Self {
        Settings {
            secret: secret.to_owned(),
            format: None,
            hashalg: None,
            salt: None,
            cookie_name: None,
            timeout: None,
            reissue_time: None,
        }
    }

    fn pyramid_env(&self) -> Vec<(&'static str, &str)> {
        let mut env = vec![("SESI_SECRET", self.secret.as_str()), ("PORT", "0")];
        let knobs = [
            ("PYRAMID_COOKIE_FORMAT", self.format),
            ("PYRAMID_HASHALG", self.hashalg),
            ("PYRAMID_SALT", self.salt),
            ("PYRAMID_COOKIE_NAME", self.cookie_name),
            ("PYRAMID_TIMEOUT", self.timeout),
            ("PYRAMID_REISSUE_TIME", self.reissue_time),
        ];
        env.extend(knobs.into_iter().filter_map(|(k, v)| Some((k, v?))));
        env
    }

    fn sesi_args(&self) -> Vec<String> {
        let knobs = [
            ("--cookie-format", self.format),
            ("--hashalg", self.hashalg),
            ("--salt", self.salt),
            ("--cookie-name", self.cookie_name),
            ("--timeout", self.timeout),
            ("--reissue-time", self.reissue_time),
        ];
        knobs
            .into_iter()
            .filter_map(|(flag, v)| Some(format!("{flag}={}", v?)))
            .collect()
    }

    /// `sesi serve` with these settings, listening.
    pub fn serve_sesi(&self) -> SesiServer {
        let args = self.sesi_args();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        SesiServer::serve(&[("SESI_SECRET", &self.secret)], &args)
    }

    /// `sesi serve` with these settings but the keys `secrets` (a rotation list, the first
    /// current), listening.
    pub fn serve_sesi_with(&self, secrets: &[&str]) -> SesiServer {
        let mut args = self.sesi_args();
        for secret in secrets {
            args.push(format!("--secret={secret}"));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        SesiServer::serve(&[], &args)
    }
}

// ------------------------------------------------------------------------------------ servers

/// The Pyramid reference app on 127.0.0.1, killed on drop.
pub struct Pyramid {
    _process: Spawned,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

/// A Pyramid app that was started and is not yet known to listen.
struct PyramidStarting(Spawned);

impl PyramidStarting {
    fn spawn(py: &Python, settings: &Settings) -> Self {
        let mut cmd = Command::new(&py.exe);
        for var in PYRAMID_VARS {
            cmd.env_remove(var);
        }
        cmd.arg(pyramid_file("app.py"))
            .env("PYTHONUNBUFFERED", "1")
            .envs(settings.pyramid_env())
            .stdin(Stdio::null());
        PyramidStarting(Spawned::start("pyramid app.py", cmd))
    }

    /// Waits for waitress's `Serving on http://127.0.0.1:N` line.
    fn ready(self) -> Pyramid {
        const MARK: &str = "Serving on http://127.0.0.1:";
        let mut process = self.0;
        let port = process.wait_for("serving", |log| {
            let line = log.lines().find(|l| l.contains(MARK))?;
            let (_, port) = line.split_once(MARK)?;
            let port: u16 = port
                .trim()
                .parse()
                .unwrap_or_else(|e| panic!("bad port in {line:?}: {e}"));
            Some(port)
        });
        Pyramid {
            _process: process,
            base: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Pyramid {
    /// Starts the app with `settings` and waits until it listens.
    pub fn start(py: &Python, settings: &Settings) -> Pyramid {
        PyramidStarting::spawn(py, settings).ready()
    }
}

/// A Pyramid app and a sesi server with the same settings.
pub struct Peers {
    /// The Pyramid reference app.
    pub pyramid: Pyramid,
    /// `sesi serve`.
    pub sesi: SesiServer,
}

impl Peers {
    /// Starts both (side by side) and waits until both listen.
    pub fn start(py: &Python, settings: &Settings) -> Peers {
        let pyramid = PyramidStarting::spawn(py, settings);
        let sesi = settings.serve_sesi();
        Peers {
            pyramid: pyramid.ready(),
            sesi,
        }
    }
}
