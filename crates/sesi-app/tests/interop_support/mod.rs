//! Harness for the live interop tests: the Pyramid reference app (`tests/pyramid/app.py`, served
//! by waitress) and the real `sesi` binary, both on 127.0.0.1 with the same session settings, and
//! one cookie-jar client that talks to both, as a browser would during a migration.
//!
//! Python comes from `SESI_PYTHON`, else `<repo>/.venv/bin/python` (made by
//! `scripts/install-test-deps.sh --only python`). Without it the tests print a loud notice and
//! pass, except under CI (`CI` set), where they fail.

use std::io::{BufRead as _, BufReader, Read, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use reqwest::cookie::{CookieStore as _, Jar};
use reqwest::header::SET_COOKIE;
use reqwest::{Response, StatusCode, Url};
use serde_json::Value;

/// The `sesi` binary under test.
pub const SESI: &str = env!("CARGO_BIN_EXE_sesi");

/// How long a server may take to come up before the test fails.
const STARTUP: Duration = Duration::from_secs(20);

/// Environment variables of the `sesi` binary; cleared so the caller's shell cannot leak in.
const SESI_VARS: &[&str] = &[
    "SESI_ADDR",
    "SESI_SECRET",
    "SESI_SECRET_FILE",
    "SESI_ALLOW_WEAK_SECRET",
    "SESI_HASHALG",
    "SESI_SALT",
    "SESI_TIMEOUT",
    "SESI_REISSUE_TIME",
    "SESI_MAX_LIFETIME",
    "SESI_COOKIE_NAME",
    "SESI_SECURE",
    "SESI_HTTPONLY",
    "SESI_SAMESITE",
    "SESI_STORE",
    "SESI_SPILL",
    "SESI_LOCK",
    "SESI_STORE_TIMEOUT_MS",
];

/// Environment variables of `app.py`.
const PYRAMID_VARS: &[&str] = &[
    "SESI_SECRET",
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

/// The workspace root.
pub fn repo_root() -> PathBuf {
    crate_dir().join("../..")
}

/// `tests/pyramid/NAME`.
pub fn pyramid_file(name: &str) -> PathBuf {
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
        None => (repo_root().join(".venv/bin/python"), "the default venv"),
    };
    if !exe.exists() {
        return Err(format!("{} ({origin}) does not exist", exe.display()));
    }
    let probe = Command::new(&exe)
        .args(["-c", "import pyramid, waitress, webob"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
    if !probe.status.success() {
        return Err(format!(
            "{} cannot import pyramid, waitress and webob: {}",
            exe.display(),
            String::from_utf8_lossy(&probe.stderr).trim()
        ));
    }
    Ok(Python { exe })
}

fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

/// The interpreter, or `None` (after a loud notice on the terminal) when it is missing outside CI.
///
/// # Panics
/// Under CI when the interpreter is missing: interop tests must not silently skip there.
pub fn python() -> Option<Python> {
    static FOUND: OnceLock<Result<Python, String>> = OnceLock::new();
    static BANNER: OnceLock<()> = OnceLock::new();
    match FOUND.get_or_init(find_python) {
        Ok(py) => Some(py.clone()),
        Err(why) if under_ci() => panic!(
            "the Pyramid interop tests need Python with pyramid and waitress, and CI is set: {why}. \
             Run `scripts/install-test-deps.sh --only python` (or point SESI_PYTHON at an \
             interpreter that has them)"
        ),
        Err(why) => {
            // Straight to the terminal: the test harness captures `eprintln!` of passing tests,
            // and a skip must be seen.
            let mut notice = String::new();
            BANNER.get_or_init(|| {
                notice = format!(
                    "\n==================================================================\n\
                     SKIPPING the Pyramid interop tests: {why}.\n\
                     Run `scripts/install-test-deps.sh --only python` to run them\n\
                     (under CI they fail instead of skipping).\n\
                     ==================================================================\n"
                );
            });
            let test = thread::current().name().unwrap_or("?").to_owned();
            notice.push_str(&format!("SKIPPED (no Pyramid): {test}\n"));
            let _ = std::io::stderr().lock().write_all(notice.as_bytes());
            None
        }
    }
}

impl Python {
    /// Runs `tests/pyramid/SCRIPT ARGS` with `stdin`, and returns its output.
    pub fn script(&self, script: &str, args: &[&str], stdin: Option<&str>) -> Output {
        run(
            Command::new(&self.exe).arg(pyramid_file(script)).args(args),
            stdin,
        )
    }

    /// `make_cookie.py ARGS`: the cookie value Pyramid would write.
    pub fn make_cookie(&self, args: &[&str]) -> String {
        let out = self.script("make_cookie.py", args, None);
        assert!(
            out.status.success(),
            "make_cookie.py {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout(&out).trim().to_owned()
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
            Ok(stdout(&out).trim().to_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
        }
    }
}

/// Runs a command to completion, feeding `stdin`.
pub fn run(cmd: &mut Command, stdin: Option<&str>) -> Output {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    if let Some(text) = stdin {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        pipe.write_all(text.as_bytes()).expect("write stdin");
    }
    child.wait_with_output().expect("wait for child")
}

/// Standard output as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8")
}

/// `sesi ARGS` with a clean environment (no SESI_* from the caller).
pub fn sesi_cli(args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(SESI);
    for var in SESI_VARS {
        cmd.env_remove(var);
    }
    run(cmd.args(args), stdin)
}

// ------------------------------------------------------------------------------------ settings

/// Pyramid's `SignedCookieSessionFactory` knobs, given the same way to both servers.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The shared signing secret.
    pub secret: String,
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
}

// ------------------------------------------------------------------------------------ servers

/// A child process whose output is collected (for the failure message) and which is killed on
/// drop.
struct Server {
    name: &'static str,
    child: Child,
    log: Arc<Mutex<String>>,
    lines: Receiver<String>,
}

impl Server {
    fn spawn(name: &'static str, cmd: &mut Command) -> Server {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({cmd:?}): {e}"));
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, lines) = mpsc::channel();
        let out = child.stdout.take().expect("stdout is piped");
        let err = child.stderr.take().expect("stderr is piped");
        for pipe in [Box::new(out) as Box<dyn Read + Send>, Box::new(err)] {
            let (log, tx) = (Arc::clone(&log), tx.clone());
            thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let mut log = log.lock().unwrap_or_else(|e| e.into_inner());
                    log.push_str(&line);
                    log.push('\n');
                    let _ = tx.send(line);
                }
            });
        }
        Server {
            name,
            child,
            log,
            lines,
        }
    }

    fn log(&self) -> String {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if thread::panicking() {
            eprintln!("---- {} output ----\n{}", self.name, self.log());
        }
    }
}

/// The Pyramid reference app on 127.0.0.1.
pub struct Pyramid {
    /// Killed (and its output shown if the test failed) on drop.
    _server: Server,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

/// A Pyramid app that was started and is not yet known to listen.
struct PyramidStarting(Server);

impl PyramidStarting {
    fn spawn(py: &Python, settings: &Settings) -> Self {
        let mut cmd = Command::new(&py.exe);
        for var in PYRAMID_VARS {
            cmd.env_remove(var);
        }
        cmd.arg(pyramid_file("app.py"))
            .env("PYTHONUNBUFFERED", "1")
            .envs(settings.pyramid_env());
        PyramidStarting(Server::spawn("pyramid app.py", &mut cmd))
    }

    /// Waits for waitress's `Serving on http://127.0.0.1:N` line.
    fn ready(self) -> Pyramid {
        const MARK: &str = "Serving on http://127.0.0.1:";
        let server = self.0;
        let deadline = Instant::now() + STARTUP;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match server.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some((_, rest)) = line.split_once(MARK) {
                        let port: u16 = rest
                            .trim()
                            .parse()
                            .unwrap_or_else(|e| panic!("bad port in {line:?}: {e}"));
                        return Pyramid {
                            base: format!("http://127.0.0.1:{port}"),
                            _server: server,
                        };
                    }
                }
                Err(RecvTimeoutError::Timeout) => panic!(
                    "the Pyramid app did not say {MARK:?} within {STARTUP:?}; output:\n{}",
                    server.log()
                ),
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "the Pyramid app exited before listening; output:\n{}",
                    server.log()
                ),
            }
        }
    }
}

impl Pyramid {
    /// Starts the app with `settings` and waits until it listens.
    pub fn start(py: &Python, settings: &Settings) -> Pyramid {
        PyramidStarting::spawn(py, settings).ready()
    }

    /// `base + path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// `sesi serve` on 127.0.0.1.
pub struct Sesi {
    /// Killed (and its output shown if the test failed) on drop.
    _server: Server,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind an ephemeral port")
        .port()
}

impl Sesi {
    /// Starts `sesi serve` with `settings` on a free port and waits until it accepts connections.
    pub fn start(settings: &Settings) -> Sesi {
        // The port is free when picked but could be taken before sesi binds it: try again then.
        for _ in 0..3 {
            let port = free_port();
            let mut cmd = Command::new(SESI);
            for var in SESI_VARS {
                cmd.env_remove(var);
            }
            cmd.args(["serve", "--addr", &format!("127.0.0.1:{port}")])
                .args(settings.sesi_args())
                .env("SESI_SECRET", &settings.secret)
                .env("RUST_LOG", "info")
                .env("NO_COLOR", "1");
            let mut server = Server::spawn("sesi serve", &mut cmd);
            let deadline = Instant::now() + STARTUP;
            loop {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Sesi {
                        _server: server,
                        base: format!("http://127.0.0.1:{port}"),
                    };
                }
                if server.exited() {
                    // Let the reader threads catch the last lines.
                    thread::sleep(Duration::from_millis(50));
                    let log = server.log();
                    assert!(
                        log.contains("cannot listen"),
                        "sesi serve exited at startup; output:\n{log}"
                    );
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "sesi serve did not listen on port {port} within {STARTUP:?}; output:\n{}",
                    server.log()
                );
                thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("sesi serve could not bind a free port in 3 tries")
    }

    /// `base + path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// A Pyramid app and a sesi server with the same settings.
pub struct Peers {
    /// The Pyramid reference app.
    pub pyramid: Pyramid,
    /// `sesi serve`.
    pub sesi: Sesi,
}

impl Peers {
    /// Starts both (in parallel) and waits until both listen.
    pub fn start(py: &Python, settings: &Settings) -> Peers {
        let pyramid = PyramidStarting::spawn(py, settings);
        let sesi = Sesi::start(settings);
        Peers {
            pyramid: pyramid.ready(),
            sesi,
        }
    }
}

// ------------------------------------------------------------------------------------ browser

/// One cookie jar shared by every server on 127.0.0.1: cookies ignore ports, so this is what a
/// browser does when `/old` is served by Pyramid and `/new` by sesi on the same domain.
pub struct Browser {
    /// The client; it does not follow redirects (the flash behind a 303 must stay unread).
    pub client: reqwest::Client,
    jar: Arc<Jar>,
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

fn jar_url() -> Url {
    Url::parse("http://127.0.0.1/").expect("static URL")
}

impl Browser {
    /// A browser with an empty jar.
    pub fn new() -> Self {
        let jar = Arc::new(Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(Arc::clone(&jar))
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .expect("build the HTTP client");
        Browser { client, jar }
    }

    /// The value of cookie `name` in the jar.
    pub fn cookie(&self, name: &str) -> Option<String> {
        let header = self.jar.cookies(&jar_url())?;
        let header = header.to_str().expect("cookie header is ASCII").to_owned();
        header.split("; ").find_map(|pair| {
            let (n, v) = pair.split_once('=')?;
            (n == name).then(|| v.to_owned())
        })
    }

    /// Names of all cookies in the jar.
    pub fn cookie_names(&self) -> Vec<String> {
        let Some(header) = self.jar.cookies(&jar_url()) else {
            return Vec::new();
        };
        let header = header.to_str().expect("cookie header is ASCII").to_owned();
        header
            .split("; ")
            .filter_map(|pair| Some(pair.split_once('=')?.0.to_owned()))
            .collect()
    }

    /// Puts `name=value` in the jar, replacing the cookie of that name.
    pub fn set_cookie(&self, name: &str, value: &str) {
        self.jar
            .add_cookie_str(&format!("{name}={value}; Path=/"), &jar_url());
        assert_eq!(self.cookie(name).as_deref(), Some(value), "cookie replaced");
    }

    /// GET `url`, expecting 200 and JSON.
    pub async fn get_json(&self, url: &str) -> Value {
        json_ok(self.client.get(url).send().await.expect("GET")).await
    }

    /// POST `url` (no body), expecting 200 and JSON.
    pub async fn post_json(&self, url: &str) -> Value {
        json_ok(self.client.post(url).send().await.expect("POST")).await
    }

    /// GET `url`, expecting 200 and text.
    pub async fn get_text(&self, url: &str) -> String {
        let res = self.client.get(url).send().await.expect("GET");
        let status = res.status();
        let body = res.text().await.expect("body");
        assert_eq!(status, StatusCode::OK, "GET {url}: {body}");
        body
    }
}

/// The JSON body of a 200 response.
pub async fn json_ok(res: Response) -> Value {
    let (status, url) = (res.status(), res.url().to_string());
    let body = res.text().await.expect("body");
    assert_eq!(status, StatusCode::OK, "{url}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{url}: not JSON ({e}): {body}"))
}

/// Whether the response sets a cookie.
pub fn sets_cookie(res: &Response) -> bool {
    res.headers().contains_key(SET_COOKIE)
}

/// `value` with one base64url character at `index` replaced by another: the decoded bytes change.
pub fn flip_char(value: &str, index: usize) -> String {
    let mut chars: Vec<char> = value.chars().collect();
    chars[index] = if chars[index] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}
