//! What the browser tests stand on: chromedriver and headless Chromium sessions with fresh
//! profiles, pointed at a real `sesi serve`, each wrapped so that every wait is bounded and every
//! failed check says what it expected, what it saw, and leaves a screenshot under
//! `$CARGO_TARGET_TMPDIR/browser-failures/`.
//!
//! Needs Chromium and chromedriver (`scripts/install-test-deps.sh --only browser`, or
//! `SESI_CHROMIUM` / `SESI_CHROMEDRIVER`); without them the tests skip (see [`skip`]).

use std::fmt::{Debug, Display};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use fantoccini::error::CmdError;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use tempfile::TempDir;

use super::net::{free_port, wait_for_port};
use super::process::SesiServer;
use super::skip::skip;

/// Longest a single WebDriver command may take (a page load included).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(20);
/// Longest to wait for an element to appear or a page to be replaced.
const WAIT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest to wait for Chromium to start (a cold start on two busy cores is slow).
const SESSION_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest to wait for chromedriver to listen.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);

/// The Chromium flags the issue prescribes: headless, and nothing that reaches for the network
/// (the machines running these tests have none).
const CHROMIUM_FLAGS: [&str; 8] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1200,900",
];

/// Where the screenshots shown in the README are written: `docs/screenshots/` when
/// `SESI_SCREENSHOTS=1`, otherwise (so that a test run never changes a tracked file) a directory
/// under the target dir.
pub fn screenshots_dir() -> PathBuf {
    if std::env::var_os("SESI_SCREENSHOTS").is_some_and(|v| v == "1") {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots")
    } else {
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots")
    }
}

/// Where a failing check leaves its screenshot.
pub fn failures_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-failures")
}

/// The browser and its driver.
#[derive(Debug, Clone)]
pub struct Tools {
    chromium: PathBuf,
    chromedriver: PathBuf,
}

/// Finds Chromium and chromedriver (`SESI_CHROMIUM` / `SESI_CHROMEDRIVER`, else `/usr/bin`), or
/// `None` when one is missing (the test is skipped, see [`skip`]).
pub fn tools() -> Option<Tools> {
    let find = |var: &str, default: &str| {
        std::env::var_os(var)
            .filter(|v| !v.is_empty())
            .map_or_else(|| PathBuf::from(default), PathBuf::from)
    };
    let tools = Tools {
        chromium: find("SESI_CHROMIUM", "/usr/bin/chromium"),
        chromedriver: find("SESI_CHROMEDRIVER", "/usr/bin/chromedriver"),
    };
    let missing: Vec<String> = [
        ("Chromium", "SESI_CHROMIUM", &tools.chromium),
        ("chromedriver", "SESI_CHROMEDRIVER", &tools.chromedriver),
    ]
    .into_iter()
    .filter(|(_, _, path)| !path.is_file())
    .map(|(what, var, path)| {
        format!(
            "{what} (looked for {}; set {var} to override)",
            path.display()
        )
    })
    .collect();
    if missing.is_empty() {
        return Some(tools);
    }
    skip(&format!("the browser tests need {}", missing.join(" and ")));
    None
}

/// A chromedriver on a free port, in its own process group so that dropping it also ends every
/// Chromium it started, and the fresh profiles of those browsers.
pub struct Driver {
    child: Child,
    url: String,
    tools: Tools,
    profiles: Mutex<Vec<TempDir>>,
}

impl Driver {
    /// Starts chromedriver and waits until it listens.
    ///
    /// # Panics
    /// When chromedriver cannot start or does not listen within the startup timeout.
    pub fn start(tools: &Tools) -> Driver {
        let port = free_port();
        let mut child = Command::new(&tools.chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", tools.chromedriver.display()));
        wait_for_port("chromedriver", port, STARTUP_TIMEOUT, &mut child);
        Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            tools: tools.clone(),
            profiles: Mutex::new(Vec::new()),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The whole group: chromedriver and the browsers it launched.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        // `profiles` is dropped (and deleted) after this, once no browser writes to it.
    }
}

/// One headless Chromium with a fresh profile, pointed at one `sesi serve`.
///
/// Every check goes through [`Browser::fail`], which saves a screenshot of the page and panics
/// with what was expected and what was seen.
pub struct Browser<'a> {
    client: Client,
    name: String,
    server: &'a SesiServer,
}

impl<'a> Browser<'a> {
    /// Starts a browser with a fresh profile through `driver`. `name` names it in failure
    /// messages and screenshot file names.
    ///
    /// # Panics
    /// When the browser session cannot be created within the timeout.
    pub async fn open(driver: &Driver, server: &'a SesiServer, name: &str) -> Browser<'a> {
        let profile = TempDir::new().expect("a temporary browser profile");
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|s| (*s).to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        driver
            .profiles
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(profile);
        let capabilities = serde_json::json!({
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "timeouts": { "pageLoad": 15_000, "script": 5_000, "implicit": 0 },
            "goog:chromeOptions": {
                "binary": driver.tools.chromium,
                "args": args,
            },
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!("a JSON object literal")
        };
        let mut builder = ClientBuilder::new(HttpConnector::new());
        builder.capabilities(capabilities);
        let client = match tokio::time::timeout(SESSION_TIMEOUT, builder.connect(&driver.url)).await
        {
            Ok(Ok(client)) => client,
            Ok(Err(err)) => panic!(
                "browser `{name}`: chromedriver could not start {}: {err}",
                driver.tools.chromium.display()
            ),
            Err(_) => panic!("browser `{name}`: Chromium did not start within {SESSION_TIMEOUT:?}"),
        };
        Browser {
            client,
            name: name.to_owned(),
            server,
        }
    }

    /// Ends the browser session (Chromium exits).
    pub async fn quit(self) {
        let _ = tokio::time::timeout(COMMAND_TIMEOUT, self.client.close()).await;
    }

    /// The WebDriver client, for the few calls the helpers below do not cover (each must go
    /// through [`Browser::run`]).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Saves a screenshot under [`failures_dir`] and panics with `expected` and `saw`.
    pub async fn fail<T>(&self, step: &str, expected: impl Display, saw: impl Display) -> T {
        let slug: String = format!("{}-{step}", self.name)
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        let path = failures_dir().join(format!("{slug}.png"));
        let screenshot = match tokio::time::timeout(COMMAND_TIMEOUT, self.client.screenshot()).await
        {
            Ok(Ok(png)) => std::fs::create_dir_all(failures_dir())
                .and_then(|()| std::fs::write(&path, png))
                .map_or_else(
                    |e| format!("could not be saved to {}: {e}", path.display()),
                    |()| path.display().to_string(),
                ),
            Ok(Err(err)) => format!("could not be taken: {err}"),
            Err(_) => format!("could not be taken within {COMMAND_TIMEOUT:?}"),
        };
        let url = match tokio::time::timeout(COMMAND_TIMEOUT, self.client.current_url()).await {
            Ok(Ok(url)) => url.to_string(),
            _ => "(unknown)".to_owned(),
        };
        panic!(
            "browser `{}` failed at step `{step}` on {url}\n  expected: {expected}\n  saw:      {saw}\n  \
             screenshot: {screenshot}\n  last server log lines:\n{}",
            self.name,
            self.server.log_tail(8)
        );
    }

    /// Checks `saw == expected`.
    pub async fn expect_eq<T: PartialEq + Debug>(&self, step: &str, expected: T, saw: T) {
        if expected != saw {
            self.fail(step, format!("{expected:?}"), format!("{saw:?}"))
                .await
        }
    }

    /// Checks `ok`, describing the expectation and the observation for the failure message.
    pub async fn expect(&self, step: &str, ok: bool, expected: impl Display, saw: impl Display) {
        if !ok {
            self.fail(step, expected, saw).await
        }
    }

    /// Runs one WebDriver command with a bound on its time; an error or a timeout is a failure.
    pub async fn run<T>(
        &self,
        step: &str,
        command: impl Future<Output = Result<T, CmdError>>,
    ) -> T {
        match tokio::time::timeout(COMMAND_TIMEOUT, command).await {
            Ok(Ok(value)) => value,
            Ok(Err(err)) => {
                self.fail(step, "the WebDriver command to succeed", err)
                    .await
            }
            Err(_) => {
                self.fail(
                    step,
                    format!("the WebDriver command to finish within {COMMAND_TIMEOUT:?}"),
                    "no answer",
                )
                .await
            }
        }
    }

    /// Opens `path` of the server (`/`, `/cart?lang=id`, ...) and waits for the page to load.
    pub async fn goto(&self, path: &str) {
        let url = format!("{}{path}", self.server.base);
        self.run(&format!("open {path}"), self.client.goto(&url))
            .await;
        self.settle(&format!("load {path}")).await;
    }

    /// Reloads the current page and waits for it to load.
    pub async fn reload(&self) {
        self.run("reload", self.client.refresh()).await;
        self.settle("reload").await;
    }

    /// Waits for a complete page: the app's pages end with a `<footer>`, its error page has
    /// `main.error-page`.
    async fn settle(&self, step: &str) {
        self.find(step, "footer, main.error-page").await;
    }

    /// Waits (bounded) for the first element matching `css`.
    pub async fn find(&self, step: &str, css: &str) -> fantoccini::elements::Element {
        let found = self
            .client
            .wait()
            .at_most(WAIT_TIMEOUT)
            .for_element(Locator::Css(css))
            .await;
        match found {
            Ok(element) => element,
            Err(err) => {
                self.fail(
                    step,
                    format!("an element `{css}` within {WAIT_TIMEOUT:?}"),
                    err,
                )
                .await
            }
        }
    }

    /// How many elements match `css` on the current page (no waiting).
    pub async fn count(&self, step: &str, css: &str) -> usize {
        self.run(step, self.client.find_all(Locator::Css(css)))
            .await
            .len()
    }

    /// The visible text of the first element matching `css`.
    pub async fn text(&self, step: &str, css: &str) -> String {
        let element = self.find(step, css).await;
        self.run(step, element.text()).await
    }

    /// The texts of all elements matching `css` (no waiting).
    pub async fn texts(&self, step: &str, css: &str) -> Vec<String> {
        let elements = self
            .run(step, self.client.find_all(Locator::Css(css)))
            .await;
        let mut texts = Vec::with_capacity(elements.len());
        for element in elements {
            texts.push(self.run(step, element.text()).await);
        }
        texts
    }

    /// Attribute `name` of the first element matching `css`; a missing attribute is a failure.
    pub async fn attr(&self, step: &str, css: &str, name: &str) -> String {
        let element = self.find(step, css).await;
        match self.run(step, element.attr(name)).await {
            Some(value) => value,
            None => {
                self.fail(
                    step,
                    format!("`{css}` to have attribute `{name}`"),
                    "no such attribute",
                )
                .await
            }
        }
    }

    /// Replaces the value of the input matching `css`.
    pub async fn fill(&self, step: &str, css: &str, value: &str) {
        let input = self.find(step, css).await;
        self.run(step, input.clear()).await;
        self.run(step, input.send_keys(value)).await;
    }

    /// Clicks the element matching `css` (a submit button) and waits until its page has been
    /// replaced by the next one, and that one has loaded.
    pub async fn click(&self, step: &str, css: &str) {
        let button = self.find(step, css).await;
        self.run(step, button.click()).await;
        let start = Instant::now();
        // The old page is gone once its elements are stale.
        while tokio::time::timeout(COMMAND_TIMEOUT, button.tag_name())
            .await
            .is_ok_and(|r| r.is_ok())
        {
            if start.elapsed() > WAIT_TIMEOUT {
                self.fail(
                    step,
                    format!("clicking `{css}` to load a new page within {WAIT_TIMEOUT:?}"),
                    "the same page still shown",
                )
                .await
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.settle(step).await;
    }

    /// The visit counter shown on `/`.
    pub async fn counter(&self, step: &str) -> i64 {
        let text = self.text(step, "#counter").await;
        match text.trim().parse() {
            Ok(n) => n,
            Err(_) => {
                self.fail(step, "a number in #counter", format!("{text:?}"))
                    .await
            }
        }
    }

    /// The cart lines shown on `/cart`, as (product id, quantity).
    pub async fn cart_lines(&self, step: &str) -> Vec<(String, u32)> {
        let rows = self
            .run(step, self.client.find_all(Locator::Css("tr.cart-line")))
            .await;
        let mut lines = Vec::with_capacity(rows.len());
        for row in rows {
            let id = self.run(step, row.attr("data-product-id")).await;
            let qty = self.run(step, row.attr("data-qty")).await;
            match (id, qty.as_deref().map(str::parse)) {
                (Some(id), Some(Ok(qty))) => lines.push((id, qty)),
                (id, qty) => {
                    self.fail(
                        step,
                        "tr.cart-line with data-product-id and a numeric data-qty",
                        format!("data-product-id={id:?}, data-qty={qty:?}"),
                    )
                    .await
                }
            }
        }
        lines
    }

    /// Checks that the page is one of the app's own pages, not its error page.
    pub async fn expect_no_error_page(&self, step: &str) {
        let errors = self.count(step, "main.error-page").await;
        if errors > 0 {
            let message = self.text(step, "main.error-page").await;
            self.fail(step, "a normal page, no error page", message)
                .await
        }
    }

    /// Saves a screenshot of the whole current page (not only the viewport) as `file` in
    /// [`screenshots_dir`]: the window is stretched to the page's height for the shot.
    pub async fn save_screenshot(&self, file: &str) {
        let step = format!("screenshot {file}");
        let (width, height) = self.run(&step, self.client.get_window_size()).await;
        let (width, height) = (
            u32::try_from(width).unwrap_or(u32::MAX),
            u32::try_from(height).unwrap_or(u32::MAX),
        );
        let mut png = self.run(&step, self.client.screenshot()).await;
        // Stretching the window can reflow the page (the scrollbar goes), so measure again.
        for _ in 0..3 {
            let viewport = self.png_height(&step, &png).await;
            let footer = self.find(&step, "footer").await;
            let (_, top, _, footer_height) = self.run(&step, footer.rectangle()).await;
            let page = (top + footer_height).ceil() as u64;
            if page <= viewport {
                break;
            }
            let (_, outer) = self.run(&step, self.client.get_window_size()).await;
            let chrome = outer.saturating_sub(viewport);
            let wanted = u32::try_from(page + chrome).unwrap_or(u32::MAX);
            let stretch = self.client.set_window_size(width, wanted);
            self.run(&step, stretch).await;
            png = self.run(&step, self.client.screenshot()).await;
        }
        let restore = self.client.set_window_size(width, height);
        self.run(&step, restore).await;
        let dir = screenshots_dir();
        let path = dir.join(file);
        if let Err(err) = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, png)) {
            self.fail(&step, format!("{} to be written", path.display()), err)
                .await
        }
    }

    /// The height in pixels of a PNG image (from its IHDR chunk).
    async fn png_height(&self, step: &str, png: &[u8]) -> u64 {
        match png.get(20..24) {
            Some(&[a, b, c, d]) if png.starts_with(b"\x89PNG") => {
                u64::from(u32::from_be_bytes([a, b, c, d]))
            }
            _ => {
                self.fail(
                    step,
                    "a PNG screenshot",
                    format!("{} bytes of something else", png.len()),
                )
                .await
            }
        }
    }
}
