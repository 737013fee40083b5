//! The Flask and Django reference apps (`tests/flask/app.py`, `tests/django/app.py`) under
//! waitress on 127.0.0.1, each started with its framework's own session settings, killed on drop.

use std::path::PathBuf;
use std::process::Stdio;

use super::process::Spawned;
use super::pyramid::Python;

/// Environment variables the reference apps read, cleared so the caller's shell cannot leak in.
const APP_VARS: &[&str] = &[
    "SESI_SECRET",
    "FLASK_FALLBACKS",
    "FLASK_COOKIE_NAME",
    "FLASK_LIFETIME",
    "DJANGO_FALLBACKS",
    "DJANGO_COOKIE_NAME",
    "DJANGO_COOKIE_AGE",
    "PORT",
];

/// A framework with a reference app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framework {
    /// Flask 3.1, `SecureCookieSessionInterface`.
    Flask,
    /// Django 5.2, `signed_cookies`.
    Django,
}

impl Framework {
    fn dir(self) -> &'static str {
        match self {
            Framework::Flask => "flask",
            Framework::Django => "django",
        }
    }

    fn env_prefix(self) -> &'static str {
        match self {
            Framework::Flask => "FLASK",
            Framework::Django => "DJANGO",
        }
    }
}

/// A reference app listening on 127.0.0.1.
pub struct PythonApp {
    process: Spawned,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

impl PythonApp {
    /// Starts `framework`'s app with `secret` as its secret key and `fallbacks` as its
    /// `SECRET_KEY_FALLBACKS`, plus `env` (`FLASK_LIFETIME`, ...), and waits until it listens.
    pub fn start(
        py: &Python,
        framework: Framework,
        secret: &str,
        fallbacks: &[&str],
        env: &[(&str, &str)],
    ) -> PythonApp {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests")
            .join(framework.dir())
            .join("app.py");
        let mut cmd = py.command();
        for var in APP_VARS {
            cmd.env_remove(var);
        }
        let fallbacks = serde_json::to_string(fallbacks).expect("a list of strings");
        cmd.arg(script)
            .env("PYTHONUNBUFFERED", "1")
            .env("SESI_SECRET", secret)
            .env(format!("{}_FALLBACKS", framework.env_prefix()), fallbacks)
            .env("PORT", "0")
            .envs(env.iter().copied())
            .stdin(Stdio::null());
        let mut process = Spawned::start(&format!("{} app.py", framework.dir()), cmd);
        const MARK: &str = "Serving on http://127.0.0.1:";
        let port: u16 = process.wait_for("serving", |log| {
            let line = log.lines().find(|l| l.contains(MARK))?;
            line.split_once(MARK)?.1.trim().parse().ok()
        });
        PythonApp {
            process,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    /// What the app printed so far (its tracebacks, if a request failed).
    pub fn log(&self) -> String {
        self.process.log()
    }
}
